#!/bin/sh
# The device path through the commands a user types: `train`, `sample` and `check-fixture`
# with --device. DEVICE "sim" (any machine) must reproduce the CPU bit for bit: the same
# checkpoint files after 4 steps (parameters, EMA and Adam state) and the same sampled WAV.
# DEVICE "cuda" must train, checkpoint, resume and sample (numbers are compared by the parity
# tests); without a usable GPU it exits 77. Also: on this machine `--device cuda` either works
# or fails with a message naming the reason, never a crash.
# usage: cli_device.sh DIFFSTUDIO DEVICE
set -u
DS=$1
DEV=$2
HERE=$(cd "$(dirname "$0")/../cli" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }

if ! "$DS" devices --require cuda >/dev/null 2>&1; then
    "$DS" train "$HERE/tiny.json" --dataset /nonexistent --run-dir "$T/nogpu" --steps 1 --device cuda >/dev/null 2>"$T/nogpu.txt"
    rc=$?
    check "--device cuda without a usable GPU fails cleanly" \
        "[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q -i -E 'cuda|nvcc|driver|device' '$T/nogpu.txt'"
    [ "$DEV" = cuda ] && { [ $fail -eq 0 ] && exit 77 || exit 1; }
fi

"$DS" example-data "$T/data" --per-class 3 --seconds 0.07 --rate 8000 >/dev/null 2>&1 || { echo "FAIL: example-data"; exit 1; }
run() { # name device extra...
    n=$1 d=$2
    shift 2
    "$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/$n" --steps 4 --batch-size 2 --threads 2 \
        --device "$d" "$@" >"$T/$n.out" 2>"$T/$n.err"
}
run cpu cpu
check "cpu run" "[ -f '$T/cpu/checkpoints/step-000000004/model.safetensors' ]"
run dev "$DEV"
rc=$?
check "$DEV: train exits 0" "[ $rc -eq 0 ] || { cat '$T/dev.err'; false; }"
ck=checkpoints/step-000000004
check "$DEV: checkpoint at step 4" "[ -f '$T/dev/$ck/model.safetensors' ] && [ -f '$T/dev/$ck/ema.safetensors' ]"
check "$DEV: demos" "[ -f '$T/dev/demos/demo_cfg_3_00000001.wav' ]"
if [ "$DEV" = sim ]; then
    for f in model.safetensors ema.safetensors optimizer.safetensors; do
        [ -f "$T/cpu/$ck/$f" ] && check "sim: $f identical to the CPU's" "cmp -s '$T/cpu/$ck/$f' '$T/dev/$ck/$f'"
    done
    check "sim: demo identical to the CPU's" "cmp -s '$T/cpu/demos/demo_cfg_3_00000003.wav' '$T/dev/demos/demo_cfg_3_00000003.wav'"
fi
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/dev" --steps 6 --batch-size 2 --threads 2 --resume \
    --device "$DEV" >/dev/null 2>"$T/res.err"
check "$DEV: resume to step 6" "[ \$? -eq 0 ] && [ -f '$T/dev/checkpoints/step-000000006/model.safetensors' ]"
"$DS" sample "$T/cpu" --out "$T/cpu.wav" --prompt kick --seconds 0.064 --steps 4 --seed 3 >/dev/null 2>&1
"$DS" sample "$T/cpu" --out "$T/dev.wav" --prompt kick --seconds 0.064 --steps 4 --seed 3 --device "$DEV" >/dev/null 2>"$T/s.err"
check "$DEV: sample writes a WAV" "[ \$? -eq 0 ] && [ -s '$T/dev.wav' ] || { cat '$T/s.err'; false; }"
[ "$DEV" = sim ] && check "sim: sample identical to the CPU's" "cmp -s '$T/cpu.wav' '$T/dev.wav'"
exit $fail
