#!/bin/sh
# Headless training as a user runs it: a folder of good and deliberately broken audio,
# `diffstudio train` for a few steps, then sample, export and train --init from the export;
# clear errors for an empty folder, an unknown sampler and a missing conditioner value;
# resume past a damaged checkpoint; Ctrl-C saves a checkpoint and exits cleanly.
set -u
DS=$1
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }

"$DS" example-data "$T/data" --per-class 3 --seconds 0.07 --rate 8000 2>/dev/null || { echo "FAIL: example-data"; exit 1; }
: > "$T/data/empty.wav"
echo "not audio at all" > "$T/data/notes.wav"
head -c 30 "$T/data/kick_000.wav" > "$T/data/truncated.wav"

"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run" --steps 4 --batch-size 2 --threads 2 \
    >"$T/out.txt" 2>"$T/err.txt"
rc=$?
check "train exits 0" "[ $rc -eq 0 ]"
check "train reports each broken file once" \
    "[ \$(grep -c 'empty.wav' '$T/err.txt') -eq 1 ] && [ \$(grep -c 'notes.wav' '$T/err.txt') -eq 1 ] && [ \$(grep -c 'truncated.wav' '$T/err.txt') -eq 1 ]"
check "checkpoint at step 4" "[ -f '$T/run/checkpoints/step-000000004/state.json' ]"
check "metrics.jsonl has 4 lines" "[ \$(wc -l < '$T/run/metrics.jsonl') -eq 4 ]"
check "config snapshot" "cmp -s '$HERE/tiny.json' '$T/run/config.json'"
check "demo at step 1 and 3" "[ -f '$T/run/demos/demo_cfg_3_00000001.wav' ] && [ -f '$T/run/demos/demo_cfg_3_00000003.wav' ]"
check "TensorBoard events" "ls '$T/run'/events.out.tfevents.* >/dev/null 2>&1"
check "demo time in metrics.jsonl (steps 1 and 3)" "[ \$(grep -c demo_seconds '$T/run/metrics.jsonl') -eq 2 ]"
sed 's/"depth": 1/"depth": 2/' "$HERE/tiny.json" > "$T/changed.json"
"$DS" train "$T/changed.json" --dataset "$T/data" --run-dir "$T/run" --steps 6 --batch-size 2 --resume >/dev/null 2>"$T/err9.txt"
check "a resume with a changed config is refused, naming the key" \
    "[ \$? -ne 0 ] && grep -q 'model.diffusion.config.depth: 1 -> 2' '$T/err9.txt'"

# A damaged newest checkpoint: --resume reports it and continues from the one before it.
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run5" --steps 4 --batch-size 2 --checkpoint-every 2 \
    >/dev/null 2>&1
head -c 100 "$T/run5/checkpoints/step-000000004/model.safetensors" > "$T/cut" &&
    cp "$T/cut" "$T/run5/checkpoints/step-000000004/model.safetensors"
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run5" --steps 6 --batch-size 2 --checkpoint-every 2 \
    --resume >/dev/null 2>"$T/err10.txt"
check "a damaged newest checkpoint: resume falls back to the one before, naming the file" \
    "[ \$? -eq 0 ] && grep -q 'cannot resume from .*step-000000004: .*model.safetensors' '$T/err10.txt' &&
     grep -q 'resumed from .*step-000000002 (step 2)' '$T/err10.txt' && [ -f '$T/run5/checkpoints/step-000000006/state.json' ]"
for c in "$T/run5/checkpoints"/step-*; do echo "{" > "$c/state.json"; done
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run5" --steps 8 --batch-size 2 --resume \
    >/dev/null 2>"$T/err11.txt"
check "no loadable checkpoint: resume is an error naming the newest and why" \
    "[ \$? -ne 0 ] && grep -q 'no checkpoint of this run could be loaded (the newest, .*step-000000006' '$T/err11.txt'"

"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run6" --steps 1 --precision 8 >/dev/null 2>"$T/err14.txt"
check "an unknown precision is an error, also on the CPU" \
    "[ \$? -ne 0 ] && grep -q 'precision \"8\": expected 32, 16-mixed or bf16-mixed' '$T/err14.txt'"

printf '{"model_config": "%s", "dataset_config": "%s", "run_dir": "%s", "batch_size": 2, "max_steps": 2, "cache_mb": 0}\n' \
    "$HERE/tiny.json" "$T/data" "$T/run7" > "$T/nocache.studio.json"
"$DS" train "$T/nocache.studio.json" >/dev/null 2>"$T/err15.txt"
check "cache_mb 0: no file is decoded whole, every crop is read alone" \
    "[ \$? -eq 0 ] && grep -q 'dataset: 0 file(s) decoded whole, [1-9][0-9]* crop(s) read alone' '$T/err15.txt'"

mkdir -p "$T/nothing"
echo "just text" > "$T/nothing/readme.txt"
cp "$T/data/notes.wav" "$T/data/empty.wav" "$T/nothing/"
"$DS" train "$HERE/tiny.json" --dataset "$T/nothing" --run-dir "$T/run2" --steps 1 >/dev/null 2>"$T/err2.txt"
check "a folder with no audio is an error before training" "[ \$? -ne 0 ] && grep -q 'no usable audio' '$T/err2.txt'"
check "  and no checkpoint is written" "[ ! -d '$T/run2/checkpoints/step-000000001' ]"

"$DS" sample "$T/run" --out "$T/kick.wav" --prompt kick --seconds 0.064 --steps 4 --seed 3 >/dev/null 2>"$T/err3.txt"
check "sample writes a WAV" "[ \$? -eq 0 ] && [ -s '$T/kick.wav' ]"
"$DS" sample "$T/run" --out "$T/kick2.wav" --prompt kick --seconds 0.064 --steps 4 --seed 3 >/dev/null 2>&1
check "the same seed renders the same file" "cmp -s '$T/kick.wav' '$T/kick2.wav'"
"$DS" sample "$T/run" --out "$T/b.wav" --prompt snare --cond seconds_total=1 --steps 2 --batch 2 >/dev/null 2>&1
check "batch writes numbered files" "[ -s '$T/b_1.wav' ] && [ -s '$T/b_2.wav' ]"
"$DS" sample "$T/run" --out "$T/x.wav" --prompt kick --seconds 0.064 --sampler no-such-sampler >/dev/null 2>"$T/err4.txt"
check "unknown sampler lists the valid names" "[ \$? -ne 0 ] && grep -q 'dpmpp-3m-sde' '$T/err4.txt'"
"$DS" sample "$T/run" --out "$T/x.wav" --steps 2 >/dev/null 2>"$T/err5.txt"
check "missing conditioner value is named" "[ \$? -ne 0 ] && grep -q '\"prompt\"' '$T/err5.txt'"
"$DS" sample "$T/run" --out "$T/x.wav" --prompt kick --seconds 0.064 --cond secs_total=1 >/dev/null 2>"$T/err12.txt"
check "a --cond key no conditioner reads is an error listing the conditioners" \
    "[ \$? -eq 2 ] && grep -q 'no conditioner \"secs_total\" (its conditioners: prompt, seconds_total)' '$T/err12.txt'"
"$DS" sample "$T/run" --out "$T/x.wav" --prompt kik --seconds 0.064 --steps 2 >/dev/null 2>"$T/err13.txt"
check "a prompt outside the list conditioner's options is warned about (and rendered, as SAT does)" \
    "[ \$? -eq 0 ] && grep -q '\"kik\" is not one of conditioner \"prompt\"' '$T/err13.txt' && [ -s '$T/x.wav' ]"

"$DS" export "$T/run" --out "$T/model.safetensors" >/dev/null 2>&1
check "export" "[ \$? -eq 0 ] && [ -s '$T/model.safetensors' ]"
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run3" --steps 1 --batch-size 2 --init "$T/model.safetensors" >/dev/null 2>"$T/err6.txt"
check "train --init from the export" "[ \$? -eq 0 ] && grep -q 'initial weights from' '$T/err6.txt'"

# Ctrl-C: stop after the current step, save, exit 0.
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run4" --batch-size 2 >/dev/null 2>"$T/err7.txt" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '^step' "$T/err7.txt" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill -INT $pid
wait $pid
rc=$?
check "Ctrl-C exits cleanly" "[ $rc -eq 0 ] && grep -q 'stopped at step' '$T/err7.txt'"
check "  with a checkpoint" "ls '$T/run4/checkpoints'/step-*/state.json >/dev/null 2>&1"
# A second Ctrl-C while the first is stopping: exit at once. Slow steps (accumulation) leave
# time to deliver it after the first was seen (signals sent back to back may merge into one).
"$DS" train "$HERE/tiny.json" --dataset "$T/data" --run-dir "$T/run4" --batch-size 8 --accum 200 --resume >/dev/null 2>"$T/err8.txt" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'resumed from' "$T/err8.txt" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill -INT $pid
i=0
while [ $i -lt 300 ] && ! grep -q 'stopping after this step' "$T/err8.txt" 2>/dev/null; do sleep 0.02; i=$((i+1)); done
kill -INT $pid
wait $pid
check "a second Ctrl-C exits at once (130)" "[ \$? -eq 130 ]"
exit $fail
