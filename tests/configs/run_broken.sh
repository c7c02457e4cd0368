#!/bin/sh
# The broken-config battery: runs `diffstudio config check` (the command a user runs) on
# every case of broken/expect.txt and checks that it exits with the expected status (1 for
# errors, 0 for warning-only files), was not killed by a signal, and printed a diagnostic of
# that severity with the expected line:col, JSON path and message fragment on one line.
# Cases named @... are generated here (binary junk, 10000 levels of nesting, 17 MB, ...).
# usage: run_broken.sh DIFFSTUDIO BROKEN_DIR
set -u
bin=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

: > "$tmp/empty.json"
printf ' \n\t \n' > "$tmp/whitespace.json"
printf '{"a": 1,\000 "b": 2}' > "$tmp/nul_byte.json"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000>\000' > "$tmp/binary_junk.bin"
awk 'BEGIN { srand(7); for (i = 0; i < 4096; i++) printf "%c", 128 + int(rand() * 128) }' > "$tmp/random_junk.bin"
printf '{"a": "\377\376"}' > "$tmp/invalid_utf8.json"
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "["; for (i = 0; i < 10000; i++) printf "]" }' > "$tmp/deep_arrays.json"
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 10000; i++) printf "}" }' > "$tmp/deep_objects.json"
printf '\357\273\277{}' > "$tmp/bom.json"
head -c 17000000 /dev/zero | tr '\000' ' ' > "$tmp/huge.json"
mkdir "$tmp/folder"
awk 'BEGIN { printf "{\"model_type\": \"diffusion_uncond\", \"sample_size\": 8, \"sample_rate\": 8, ";
             printf "\"model\": {\"type\": \"DAU1d\", \"config\": {\"depth\": \"x\"}}, ";
             printf "\"training\": {\"learning_rate\": 0.1}";
             for (i = 0; i < 3000; i++) printf ", \"junk%d\": %d", i, i; printf "}" }' > "$tmp/many_problems.json"

trim() { printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }

n=0
fail=0
while IFS='|' read -r file ex pos path frag; do
    file=$(trim "$file")
    case "$file" in '#'* | '') continue ;; esac
    ex=$(trim "$ex"); pos=$(trim "$pos"); path=$(trim "$path"); frag=$(trim "$frag")
    case "$file" in @*) f="$tmp/${file#@}" ;; *) f="$dir/$file" ;; esac
    n=$((n + 1))
    out=$("$bin" config check "$f" 2>&1)
    rc=$?
    if [ "$rc" -ge 128 ]; then
        echo "FAIL $file: killed by signal $((rc - 128))"
        printf '%s\n' "$out" | tail -20
        fail=1
        continue
    fi
    if [ "$rc" -ne "$ex" ]; then
        echo "FAIL $file: exit status $rc, expected $ex"
        printf '%s\n' "$out" | head -20
        fail=1
        continue
    fi
    sev=error
    [ "$ex" = 0 ] && sev=warning
    lines=$(printf '%s\n' "$out" | grep -F -- ": $sev: ")
    [ "$pos" != "-" ] && lines=$(printf '%s\n' "$lines" | grep -F -- "$f:$pos: $sev: ")
    [ "$path" != "-" ] && lines=$(printf '%s\n' "$lines" | grep -F -- ": $sev: $path: ")
    if ! printf '%s\n' "$lines" | grep -qF -- "$frag"; then
        echo "FAIL $file: no $sev${pos:+ at $pos}${path:+ for $path} containing: $frag"
        printf '%s\n' "$out" | head -20
        fail=1
    fi
done < "$dir/expect.txt"

if [ "$n" -lt 40 ]; then
    echo "FAIL: only $n cases"
    fail=1
fi
[ "$fail" -eq 0 ] && echo "config_broken: all $n cases passed"
exit "$fail"
