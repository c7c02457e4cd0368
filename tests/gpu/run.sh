#!/usr/bin/env bash
# The GPU check, in one run (DESIGN §2.11 item 4; README "GPU"): builds diffstudio with CUDA for
# this card, then
#   1. the GPU tests (what ctest -L cuda runs, with every log kept): op-by-op parity with the
#      CPU (fp32 and bf16), a short training run against the CPU (fp32, bf16, 16-mixed),
#      train/resume/sample through the CLI; attention through cuDNN's fused SDPA (opt-in:
#      DS_CUDNN_SDPA=1 forward, 2 both directions) against the plain kernels, op by op and for
#      training runs;
#   2. every fixture through `check-fixture --device cuda` in fp32 (the fixtures README's
#      tolerances) and in bf16-mixed (outputs judged at 2e-2 norm-relative, errors reported);
#   3. the benchmark: the SAO-size DiT (bench/gpu/sao_dit.json: embed 1536, depth 24, 24 heads,
#      cond tokens 768 unprojected, 64 channels, 1024 frames) at batch 8 in bf16-mixed: step time,
#      tokens/s and MFU against the card's dense bf16 peak; then 100 dpmpp-3m-sde steps with
#      CFG 7 at batch 1; the same again with DS_CUDNN_SDPA=1 and =2; one step op by op
#      (bench --profile), to show where the time goes;
# and prints a short table. Results (logs, the ptxas register/spill report) go to build-gpu/results;
# when $OUT is set (the device tool) the summary, the console log, the benchmark, the ptxas report
# and a tarball of everything are copied there. Meant to finish well under 5 minutes on an H100.
#
# A bare GPU machine without this project's libraries: run tests/gpu/fetch_debs.sh on a machine
# with apt first and carry .gpu-debs; they are unpacked under /tmp/ds-deps. cuDNN is taken from
# the CUDA toolkit, from $CUDNN_ROOT, or from the nvidia-cudnn Python wheel when one is installed.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
RES=$ROOT/build-gpu/results
rm -rf "$RES" && mkdir -p "$RES"
exec > >(tee "$RES/run.log") 2>&1
T0=$(date +%s)
stage() { echo; echo "=== $* ($(( $(date +%s) - T0 )) s)"; }
declare -a SUMMARY
note() { SUMMARY+=("$1|$2|$3"); }
verdict() { case $1 in 0) echo ok ;; 77) echo skip ;; *) echo FAIL ;; esac; }

stage "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
export PATH=/usr/local/cuda/bin:$PATH

# ---- libraries ----
if ! pkg-config --exists libcjson openblas sndfile portaudio-2.0 samplerate ncursesw 2>/dev/null; then
    if ls .gpu-debs/*.deb >/dev/null 2>&1; then
        P=/tmp/ds-deps
        rm -rf "$P" && mkdir -p "$P"
        for f in .gpu-debs/*.deb; do dpkg -x "$f" "$P"; done
        # dynamic linking only: drop private requirements, keep portaudio to itself
        sed -i '/^Requires.private/d' $(find "$P" -name '*.pc')
        sed -i 's/^Libs:.*/Libs: -L${libdir} -lportaudio/' "$P/usr/lib/x86_64-linux-gnu/pkgconfig/portaudio-2.0.pc"
        L=$P/usr/lib/x86_64-linux-gnu
        export PKG_CONFIG_LIBDIR=$L/pkgconfig:$L/openblas-pthread/pkgconfig:$P/usr/share/pkgconfig
        export PKG_CONFIG_SYSROOT_DIR=$P PATH=$P/usr/bin:$PATH
        export LD_LIBRARY_PATH=$L:$L/openblas-pthread:${LD_LIBRARY_PATH:-}
        echo "libraries: unpacked .gpu-debs under $P"
    else
        echo "missing libraries (libcjson, openblas, sndfile, portaudio, samplerate, ncursesw) and no .gpu-debs:"
        echo "  run tests/gpu/fetch_debs.sh on a machine with apt and carry .gpu-debs"
        exit 2
    fi
fi
CUDNN_ARGS=()
if ! ls /usr/local/cuda/lib64/libcudnn.so* /usr/local/cuda/lib/libcudnn.so* >/dev/null 2>&1; then
    if [ -z "${CUDNN_ROOT:-}" ]; then
        CUDNN_ROOT=$(python3 -c 'import nvidia.cudnn as c, os; print(os.path.dirname(c.__file__) if c.__file__ else list(c.__path__)[0])' 2>/dev/null || true)
    fi
    if [ -n "${CUDNN_ROOT:-}" ] && [ -d "$CUDNN_ROOT/lib" ]; then
        [ -e "$CUDNN_ROOT/lib/libcudnn.so" ] || ln -sf "$(ls "$CUDNN_ROOT"/lib/libcudnn.so.* | head -1)" /tmp/libcudnn.so 2>/dev/null
        CUDNN_ARGS=(-DCUDNN_ROOT="$CUDNN_ROOT")
        [ -e "$CUDNN_ROOT/lib/libcudnn.so" ] || CUDNN_ARGS+=(-DCUDNN_LIB=/tmp/libcudnn.so)
        export LD_LIBRARY_PATH=$CUDNN_ROOT/lib:${LD_LIBRARY_PATH:-}
        echo "cuDNN: $CUDNN_ROOT"
    else
        echo "cuDNN: not found (convolutions will use the plain kernels)"
    fi
fi

# ---- build ----
stage "build (CUDA)"
CC_MAJ=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '.')
ARCH=${CC_MAJ:-90}
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
cmake -S . -B build-gpu "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DDIFFSTUDIO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
    "${CUDNN_ARGS[@]}" >"$RES/cmake.log" 2>&1 || { tail -30 "$RES/cmake.log"; note build FAIL "cmake"; exit 1; }
grep -E "diffstudio:|cuDNN" "$RES/cmake.log"
touch engine/src/cuda/*.cu # recompile the kernels, so that ptxas reports every one of them
if ! cmake --build build-gpu -j "$(nproc)" >"$RES/build.log" 2>&1; then
    grep -E "error" "$RES/build.log" | head -30
    note build FAIL "see build.log"
    exit 1
fi
# ptxas: registers and spills of every kernel (built with -Xptxas=-v)
grep -E "Compiling entry|Used [0-9]+ registers|spill" "$RES/build.log" >"$RES/ptxas.txt" || true
spills=$(grep -E "[1-9][0-9]* bytes spill (stores|loads)" "$RES/ptxas.txt" | wc -l)
maxreg=$(grep -oE "Used [0-9]+ registers" "$RES/ptxas.txt" | awk '{print $2}' | sort -n | tail -1)
note build ok "sm_$ARCH; kernels with spills: $spills; most registers: ${maxreg:-?}"
DS=$ROOT/build-gpu/tui/diffstudio
"$DS" devices

# ---- 1. the GPU tests (the set ctest -L cuda runs, each with its log kept) ----
if ! "$DS" devices --require cuda >"$RES/device.txt" 2>&1; then
    cat "$RES/device.txt"
    note device skip "$(cat "$RES/device.txt")"
    NODEV=1
else
    NODEV=0
    note device ok "$(cat "$RES/device.txt")"
fi
stage "op parity with the CPU, training runs against the CPU, the CLI on the GPU"
for p in 32 bf16-mixed; do
    build-gpu/tests/parity --device cuda --precision $p >"$RES/parity_$p.txt" 2>&1
    note "op parity ($p)" "$(verdict $?)" "$(tail -1 "$RES/parity_$p.txt")"
    grep -E "^FAIL" "$RES/parity_$p.txt" | head -10
done
for p in 32 bf16-mixed 16-mixed; do
    DS_FIXTURES=$ROOT/tests/fixtures build-gpu/tests/train_parity --device cuda --precision $p >"$RES/train_$p.txt" 2>&1
    note "training vs CPU ($p)" "$(verdict $?)" "$(grep -E 'parameters after|graphs:|skipped' "$RES/train_$p.txt" | tr '\n' ' ')"
    grep -E "^FAIL" "$RES/train_$p.txt" | head -5
done
# cuDNN's fused attention (opt-in: DS_CUDNN_SDPA=1 forward, 2 forward and backward): the op
# parity above compares it with the plain kernels per attention shape; here whole training runs
for m in 1 2; do
    DS_CUDNN_SDPA=$m DS_FIXTURES=$ROOT/tests/fixtures build-gpu/tests/train_parity --device cuda --precision bf16-mixed \
        >"$RES/train_sdpa$m.txt" 2>&1
    note "training vs CPU (bf16, SDPA=$m)" "$(verdict $?)" "$(grep -E 'parameters after|graphs:|skipped' "$RES/train_sdpa$m.txt" | tr '\n' ' ')"
    grep -E "^FAIL" "$RES/train_sdpa$m.txt" | head -5
done
P=$RES/parity_bf16-mixed.txt
note "attention via cuDNN SDPA" "$(grep -q 'refused' "$P" && echo part || echo ok)" \
    "fwd fused $(grep -c 'SDPA fwd' "$P"), fwd+bwd fused $(grep -c 'SDPA fwd+bwd' "$P"), refusals $(grep -c 'refused' "$P")"
sh tests/gpu/cli_device.sh "$DS" cuda >"$RES/cli_device.txt" 2>&1
note "CLI train/resume/sample" "$(verdict $?)" "$(grep -c '^ok' "$RES/cli_device.txt") ok, $(grep -c '^FAIL' "$RES/cli_device.txt") failed"

# ---- 2. fixtures, fp32 and bf16 ----
stage "fixtures through --device cuda"
printf "%-22s %-10s %-8s %s\n" case precision result "largest output error (norm-relative)" | tee "$RES/fixtures.txt"
for dir in tests/fixtures/*/; do
    [ -f "$dir/io.json" ] || continue
    c=$(basename "$dir")
    for p in 32 bf16-mixed; do
        "$DS" check-fixture "$dir" --device cuda --precision $p >"$RES/fx.tmp" 2>&1
        r=$([ $? -eq 0 ] && echo ok || echo FAIL)
        line=$(tail -1 "$RES/fx.tmp")
        cat "$RES/fx.tmp" >>"$RES/fixtures_full.txt"
        err=$(echo "$line" | grep -oE "largest output error [0-9.e+-]+" | awk '{print $4}')
        printf "%-22s %-10s %-8s %s\n" "$c" "$p" "$r" "${err:-$line}" | tee -a "$RES/fixtures.txt"
    done
done
rm -f "$RES/fx.tmp"
nf=$(grep -c " ok " "$RES/fixtures.txt")
nt=$(($(wc -l <"$RES/fixtures.txt") - 1))
note "fixtures fp32 + bf16" "$([ $NODEV -eq 1 ] && echo skip || { [ "$nf" -eq "$nt" ] && echo ok || echo FAIL; })" \
    "$nf of $nt pass (bf16 errors in fixtures.txt)"

# ---- 3. the benchmark ----
stage "benchmark: SAO-size DiT, batch 8, bf16-mixed; 100-step dpmpp-3m-sde, CFG 7, batch 1"
"$DS" bench bench/gpu/sao_dit.json --device cuda --precision bf16-mixed --batch 8 --iters 10 --gen-steps 100 -v \
    2>"$RES/bench_progress.txt" | tee "$RES/bench.txt"
rb=${PIPESTATUS[0]}
note benchmark "$([ $NODEV -eq 1 ] && echo skip || { [ $rb -eq 0 ] && echo ok || echo FAIL; })" "$(sed -n 2p "$RES/bench.txt" | awk '{print $5" ms/step, "$6" tokens/s, "$7" TFLOP/s, MFU "$8", gen "$9" ms"}')"

for m in 1 2; do
    stage "benchmark again with cuDNN's fused attention (DS_CUDNN_SDPA=$m)"
    DS_CUDNN_SDPA=$m "$DS" bench bench/gpu/sao_dit.json --device cuda --precision bf16-mixed --batch 8 --iters 10 \
        --gen-steps 100 -v 2>"$RES/bench_sdpa${m}_progress.txt" | tee "$RES/bench_sdpa$m.txt"
    rb=${PIPESTATUS[0]}
    note "benchmark (SDPA=$m)" "$([ $NODEV -eq 1 ] && echo skip || { [ $rb -eq 0 ] && echo ok || echo FAIL; })" "$(sed -n 2p "$RES/bench_sdpa$m.txt" | awk '{print $5" ms/step, "$6" tokens/s, "$7" TFLOP/s, MFU "$8", gen "$9" ms"}')"
done

stage "profile: one SAO-size training step op by op (eager, events on the stream)"
"$DS" bench bench/gpu/sao_dit.json --device cuda --precision bf16-mixed --batch 8 --iters 3 --no-sample --profile \
    2>"$RES/profile_progress.txt" | tee "$RES/profile.txt"
rb=${PIPESTATUS[0]}
note profile "$([ $NODEV -eq 1 ] && echo skip || { [ $rb -eq 0 ] && echo ok || echo FAIL; })" \
    "largest: $(sed -n 6,8p "$RES/profile.txt" | awk '{printf "%s %s; ", substr($0, 5, 24), $NF}')"

stage "summary"
{
    printf "%-28s %-5s %s\n" check result detail
    for s in "${SUMMARY[@]}"; do IFS='|' read -r a b c <<<"$s"; printf "%-28s %-5s %s\n" "$a" "$b" "$c"; done
    echo "total $(( $(date +%s) - T0 )) s; results in $RES"
} | tee "$RES/summary.txt"
if [ -n "${OUT:-}" ]; then
    cp "$RES/summary.txt" "$RES/run.log" "$RES/bench.txt" "$RES/bench_sdpa1.txt" "$RES/bench_sdpa2.txt" "$RES/profile.txt" "$RES/ptxas.txt" "$RES/fixtures.txt" "$OUT/" 2>/dev/null
    tar czf "$OUT/results.tar.gz" -C "$ROOT/build-gpu" results
fi
