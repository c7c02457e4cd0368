#!/bin/sh
# Builds the config fuzzer with clang (libFuzzer + AddressSanitizer + UBSan) directly from
# the sources it needs, and runs it for a bounded time on a seed corpus made of every
# bundled config. Exits 77 (skipped) when clang or its fuzzer runtime is missing;
# scripts/deps.sh installs both (clang, libclang-rt-14-dev).
# usage: run_fuzz.sh SOURCE_DIR WORK_DIR [SECONDS]   (DS_FUZZ_SECONDS overrides SECONDS)
set -u
src=$1
work=$2
secs=${DS_FUZZ_SECONDS:-${3:-60}}
cc=${CLANG:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "config_fuzz: $cc not found: skipped"
    exit 77
fi
mkdir -p "$work"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    > "$work/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$work/probe.c" -o "$work/probe" 2>"$work/probe.log"; then
    echo "config_fuzz: $cc has no libFuzzer runtime (libclang-rt-dev): skipped"
    exit 77
fi

cjson=$(pkg-config --cflags --libs libcjson 2>/dev/null || echo "-lcjson")
# shellcheck disable=SC2086
if ! "$cc" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wno-unused-parameter \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/engine/include" -I"$src/engine/src" \
    "$src/tests/fuzz/fuzz_config.c" "$src"/engine/src/config/*.c \
    "$src/engine/src/core/status.c" "$src/engine/src/core/log.c" "$src/engine/src/core/fileio.c" \
    $cjson -lm -o "$work/fuzz_config"; then
    echo "config_fuzz: build failed"
    exit 1
fi

# Seeds: every bundled config, good and broken (flattened; libFuzzer writes new inputs to
# the first corpus folder only, so the source tree is never touched).
rm -rf "$work/seeds" "$work/corpus"
mkdir -p "$work/seeds" "$work/corpus"
i=0
for f in "$src"/tests/sat-configs/*.json "$src"/tests/bench-configs/*.json "$src"/tests/fixtures/*/config.json \
         "$src"/tests/configs/broken/*.json "$src"/configs/*.json; do
    [ -f "$f" ] || continue
    i=$((i + 1))
    cp "$f" "$work/seeds/seed$i.json"
done

echo "config_fuzz: $i seeds, $secs s"
exec "$work/fuzz_config" -max_total_time="$secs" -timeout=20 -artifact_prefix="$work/" -rss_limit_mb=2048 -max_len=65536 \
    -dict="$src/tests/fuzz/config.dict" -print_final_stats=1 "$work/corpus" "$work/seeds"
