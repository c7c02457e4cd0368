#!/bin/sh
# Without a terminal the studio does not start curses: it exits 2 and says what to use instead.
set -u
DS_BIN=${DS_BIN:?}
out=$("$DS_BIN" studio /nonexistent.json </dev/null 2>&1 >/dev/null)
rc=$?
[ $rc -eq 2 ] || { echo "FAIL: exit $rc, want 2"; exit 1; }
echo "$out" | grep -q "needs a terminal" || { echo "FAIL: message: $out"; exit 1; }
echo "$out" | grep -q "diffstudio config show" || { echo "FAIL: no hint: $out"; exit 1; }
echo "$out" | grep -q "diffstudio train" || { echo "FAIL: no hint: $out"; exit 1; }
out=$("$DS_BIN" studio --help) || { echo "FAIL: --help"; exit 1; }
echo "$out" | grep -q "1 Config" || { echo "FAIL: help: $out"; exit 1; }
echo "no_tty: ok"
