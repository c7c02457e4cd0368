#!/bin/sh
# Runs example_check on the demos of a run of the bundled example: demo index i was rendered
# for demo_cond[i] of configs/example.json (kick, snare, hihat, pluck_low, pluck_mid,
# pluck_high), so each demo file is copied under its class name first.
# usage: check_demos.sh BUILD_DIR DATA_DIR RUN_DIR STEP [CFG_SCALE]
set -eu
B=$1 DATA=$2 RUN=$3 STEP=$(printf '%08d' "$4") CFG=${5:-3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
set -- kick snare hihat pluck_low pluck_mid pluck_high
i=0
for c in "$@"; do
    f="$RUN/demos/demo_cfg_${CFG}_${STEP}_$(printf '%02d' $i).wav"
    [ -f "$f" ] || { echo "missing $f" >&2; exit 2; }
    cp "$f" "$T/${c}_demo.wav"
    i=$((i + 1))
done
"$B/tests/example_check" "$DATA" "$T"
