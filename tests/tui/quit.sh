#!/bin/sh
# Scenario (d): quitting restores the terminal and keeps the run.
#   - Ctrl-C in raw mode is a key: it asks first; n keeps training.
#   - q while training asks, then stops cleanly with a checkpoint ("stopping … saving")
#     and the shell comes back with the terminal settings as they were and normal output.
#   - SIGTERM from outside: the same clean stop, without questions.
#   - A crash (SIGSEGV): the handler restores the terminal before the process dies.
. "$(dirname "$0")/lib.sh"
ds_setup quit 512 1000

restart() {
    tmux -L "$DS_SOCK" kill-server >/dev/null 2>&1
    rm -f "$DS_DIR/stty.before" "$DS_DIR/stty.after"
    ds_start
    ds_keys 2
    ds_keys t
    ds_wait "Step +[0-9]*[1-9]|has a checkpoint" 30
    if ds_screen | grep -q "has a checkpoint"; then
        ds_keys r # resume the run of the previous round
        ds_wait "resuming training" 30
        ds_wait "State +running" 30
    fi
}

restored() {
    ds_wait "EXIT=" 30
    i=0
    while [ ! -s "$DS_DIR/stty.after" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    cmp -s "$DS_DIR/stty.before" "$DS_DIR/stty.after" || ds_fail "$1: terminal settings not restored"
}

restart
ds_keys C-c
ds_wait "Training is running"
ds_keys n
sleep 0.3
ds_screen | grep -q "Training is running" && ds_fail "n did not close the question"
ds_wait "State +running"
ds_keys q
ds_wait "stop after this step, save a checkpoint and quit"
ds_keys y
ds_wait "EXIT=0" 30
restored "quit"
ds_screen | grep -Eq "stopped at step [0-9]+; run directory runs/tiny" || ds_fail "no final line after the screen closed"
last=$(ls "$DS_DIR/runs/tiny/checkpoints" | sort | tail -1)
[ -n "$last" ] || ds_fail "no checkpoint after quitting"
step=$(sed -n 's/.*stopped at step \([0-9]*\).*/\1/p' <<EOF2 | head -1
$(ds_screen)
EOF2
)
[ "$last" = "$(printf 'step-%09d' "$step")" ] || ds_fail "the last checkpoint ($last) is not the last step ($step)"

# SIGTERM: a clean stop without questions
restart
pid=$(ds_pid)
[ -n "$pid" ] || ds_fail "no studio process"
kill -TERM "$pid"
restored "SIGTERM"
ds_screen | grep -Eq "EXIT=0" || ds_fail "SIGTERM: not a clean exit"

# a crash: the terminal comes back before the process dies
restart
pid=$(ds_pid)
kill -SEGV "$pid"
restored "SIGSEGV"
ds_screen | grep -q "crashed; the terminal was restored" || ds_fail "no crash message"
echo "quit: ok (checkpoint $last)"
