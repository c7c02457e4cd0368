#!/bin/sh
# Not a test: the training speed with the studio open against headless `diffstudio train`, on
# the same config and machine, alternating runs. it/s = steps / (time of the last step − time
# of the first step) from each run's metrics.jsonl. Usage: DS_BIN=… sh bench_slowdown.sh [STEPS] [ROUNDS]
. "$(dirname "$0")/lib.sh"
steps=${1:-2000}
rounds=${2:-3}
ds_setup slowdown 2048 1000000
sed -i "s/\"threads\": 1,/\"threads\": ${DS_THREADS:-0}, \"max_steps\": $steps,/; s/\"checkpoint_every\": 100/\"checkpoint_every\": 1000000/" "$DS_DIR/studio.json"
rate() { awk 'NR == 1 { t0 = $0 } { t1 = $0; n = NR } END { printf "%.2f", (n - 1) / (t1 - t0) }' \
         <<EOF2
$(sed -n 's/.*"time": \([0-9.]*\).*/\1/p' "$1/metrics.jsonl")
EOF2
}
for r in $(seq 1 "$rounds"); do
    rm -rf "$DS_DIR/runs"
    # CPU seconds too: on a shared machine wall-clock rates swing with the neighbours' load
    hcpu=$(cd "$DS_DIR" && HOME="$DS_DIR/home" bash -c 'TIMEFORMAT="%U %S"; { time "$0" train studio.json >/dev/null 2>&1; } 2>&1' "$DS_BIN" |
           awk '{ printf "%.2f", $1 + $2 }')
    h=$(rate "$DS_DIR/runs/tiny")
    rm -rf "$DS_DIR/runs"
    tmux -L "$DS_SOCK" kill-server >/dev/null 2>&1
    ds_start
    ds_keys 2
    ds_keys t
    # wait on the run's files, not the screen: polling capture-pane costs CPU the run would miss
    while ! grep -q "finished at step" "$DS_DIR/runs/tiny/log.txt" 2>/dev/null; do sleep 1; done
    s=$(rate "$DS_DIR/runs/tiny")
    # the UI thread's CPU time (the main thread: tid = pid) against the run's wall time
    pid=$(ds_pid)
    ui=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$pid/task/$pid/stat")
    all=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$pid/stat")
    wall=$(sed -n 's/.*"time": \([0-9.]*\).*/\1/p' "$DS_DIR/runs/tiny/metrics.jsonl" | tail -1)
    tpid=$(tmux -L "$DS_SOCK" display-message -p '#{pid}')
    term=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$tpid/stat")
    echo "round $r: studio UI thread ${ui} s CPU (terminal: tmux ${term} s) of the process's ${all} s, over a ${wall} s run"
    echo "$ui $term $wall $all $hcpu" >> "$DS_DIR/cpu"
    ds_keys q
    ds_wait "EXIT=0"
    echo "round $r: headless $h it/s, studio $s it/s"
    echo "$h $s" >> "$DS_DIR/rates"
done
awk '{ r[NR] = $2 / $1 } END {
        n = NR; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
        printf "median of %d paired rounds: studio/headless it/s = %.3f (%+.1f%%)\n", n, r[int((n + 1) / 2)], (r[int((n + 1) / 2)] - 1) * 100 }' "$DS_DIR/rates"
awk -v steps="$steps" '{ u += $1; t += $2; w += $3; a += $4 - $1; h += $5 } END {
        printf "UI thread: %.2f%% of one core while training; the terminal (tmux): %.2f%%\n", 100 * u / w, 100 * t / w
        printf "CPU per step: headless %.2f ms, studio worker (the process without its UI thread) %.2f ms (%+.1f%%)\n",
               1000 * h / (NR * steps), 1000 * a / (NR * steps), (a / h - 1) * 100 }' "$DS_DIR/cpu"
