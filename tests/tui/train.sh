#!/bin/sh
# Scenario (b): start training from the Train screen and see the step counter and the loss
# curve advance; resize the terminal to 80x24 and to 160x50 mid-run (no crash, every pane
# redrawn); stop with x (a checkpoint is saved) and quit.
. "$(dirname "$0")/lib.sh"
ds_setup train 512 1000
ds_start
ds_keys 2
ds_wait "not training"
ds_keys t
ds_wait "State +running" 30
ds_wait "Step +[0-9]*[1-9]" 30
s1=$(ds_field Step)
chart1=$(ds_screen | sed -n '3,20p' | cut -c31-)
i=0
while :; do
    sleep 0.3
    s2=$(ds_field Step)
    chart2=$(ds_screen | sed -n '3,20p' | cut -c31-)
    [ -n "$s2" ] && [ "$s2" -gt "$s1" ] && [ "$chart2" != "$chart1" ] && break
    i=$((i + 1))
    [ $i -lt 100 ] || ds_fail "the step counter ($s1 -> $s2) or the curve did not move"
done
ds_screen | grep -q "loss: raw min/max, smoothed" || ds_fail "no loss chart"
ds_screen | grep -Eq "⣿|⡇|⠁|⢸" || ds_fail "no Braille dots in the chart"
# resize mid-run: small, then large
tmux -L "$DS_SOCK" resize-window -t s -x 80 -y 24
ds_wait_line 23 "^ q quit"   # the hint line sits above the status line of the new size
ds_wait "Grad norm" 10   # the status panel at 80x24 (its frame may land after the hint line)
ds_screen | grep -q "─ log" || ds_fail "no log pane at 80x24"
ds_screen | grep -q "loss: raw" || ds_fail "no chart at 80x24"
tmux -L "$DS_SOCK" resize-window -t s -x 160 -y 50
ds_wait_line 49 "^ q quit"
ds_wait "learning rate"
ds_screen | grep -q "grad norm" || ds_fail "no side charts at 160x50"
s3=$(ds_field Step)
sleep 0.5
s4=$(ds_field Step)
[ "$s4" -gt "$s3" ] || ds_fail "training stopped after the resize ($s3 -> $s4)"
# the other screens draw at this size too
for k in 1 3 4 2; do
    ds_keys $k
    sleep 0.2
done
ds_wait "State +running"
ds_keys x
ds_wait "State +finished|training stopped" 30
ls "$DS_DIR/runs/tiny/checkpoints" | grep -q "^step-" || ds_fail "no checkpoint after stop"
ds_keys q
ds_wait "EXIT=0"
cmp -s "$DS_DIR/stty.before" "$DS_DIR/stty.after" || ds_fail "terminal settings not restored"
echo "train: ok (steps $s1 -> $s4)"
