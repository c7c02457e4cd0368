#!/bin/sh
# How many minutes until the bundled example makes recognisable sounds (README, "The first
# five minutes"): trains configs/example.studio.json from scratch in a fresh run directory,
# checks every demo as it appears (tests/bench/check_demos.sh: each class's render must land on
# its class's template) and stops at the first demo where all six classes are recognisable at
# the best cfg scale, or after LIMIT minutes.
# usage: example_minutes.sh [BUILD_DIR] [LIMIT_MINUTES] [STUDIO_FILE]
set -u
B=${1:-build} LIMIT=${2:-15} STUDIO=${3:-configs/example.studio.json}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
RUN=$(mktemp -d)/run
DATA=.cache/example-data
"$B/tui/diffstudio" example-data "$DATA" || exit 2
start=$(date +%s)
"$B/tui/diffstudio" train "$STUDIO" --run-dir "$RUN" >"$RUN.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
seen=""
scales=$(python3 -c "import json,sys;c=json.load(open(sys.argv[1]));print(' '.join(str(s) for s in c['training']['demo']['demo_cfg_scales']))" \
         "$(dirname "$STUDIO")/$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['model_config'])" "$STUDIO")" 2>/dev/null || echo 3)
printf '%8s %8s %s\n' step minutes "recognisable (per cfg scale: $scales)"
while kill -0 $pid 2>/dev/null; do
    now=$(date +%s)
    [ $((now - start)) -gt $((LIMIT * 60)) ] && { echo "limit of $LIMIT minutes reached"; exit 1; }
    for f in "$RUN"/demos/demo_cfg_*_[0-9]*_05.wav; do
        [ -f "$f" ] || continue
        step=$(basename "$f" | sed 's/demo_cfg_[^_]*_0*\([0-9][0-9]*\)_05.wav/\1/')
        case " $seen " in *" $step "*) continue ;; esac
        # wait until every scale of this step is written
        ready=1
        for s in $scales; do [ -f "$(printf '%s/demos/demo_cfg_%s_%08d_05.wav' "$RUN" "$s" "$step")" ] || ready=0; done
        [ $ready -eq 1 ] || continue
        seen="$seen $step"
        line="" best=0
        for s in $scales; do
            n=$(sh tests/bench/check_demos.sh "$B" "$DATA" "$RUN" "$step" "$s" 2>/dev/null | sed -n 's/^\([0-9]\) of 6 classes recognisable/\1/p')
            line="$line cfg $s: ${n:-?}/6"
            [ "${n:-0}" -gt $best ] && best=$n
        done
        mins=$(awk -v s=$start -v n="$(date +%s)" 'BEGIN { printf "%.1f", (n - s) / 60 }')
        printf '%8s %8s %s\n' "$step" "$mins" "$line"
        if [ $best -eq 6 ]; then echo "all six classes recognisable after $mins minutes (step $step)"; exit 0; fi
    done
    sleep 5
done
echo "training stopped before every class was recognisable (see $RUN.log)"
exit 1
