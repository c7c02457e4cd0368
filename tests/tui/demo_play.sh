#!/bin/sh
# Scenario (c): train until the first demo is rendered, open the Demos screen, play the newest
# render through PortAudio (ALSA's null device under a temporary HOME) and see the transport
# move (state and elapsed time) while training continues; load a second render as B and
# switch A/B at the same position.
. "$(dirname "$0")/lib.sh"
ds_setup demo_play 4096 40
ds_start
ds_keys 2
ds_keys t
ds_wait "Demos +step [0-9]" 60
ds_keys 3
ds_wait "renders: [1-9]"
ds_wait "#0 +prompt"
ds_screen | grep -q "spectrogram" || ds_fail "no spectrogram pane"
ds_keys Enter
# the null device is not paced: the clip may already have ended; either way time moved
ds_wait "(playing|paused|ended) A +0\.[0-9]*[1-9][0-9]* s /|(playing|paused|ended) A +[1-9]" 20
transport=$(ds_screen | grep -Eo "(playing|paused|ended) A +[0-9.]+ s / [0-9.]+ s" | head -1)
ds_screen | grep -q "A: demo_cfg" || ds_fail "A is not shown"
# a second render as B, then A/B
ds_keys j
ds_keys b
ds_wait "B: demo_cfg"
ds_keys x
ds_wait "now B"
ds_keys x
ds_wait "now A"
# seeking moves the play position (and the cursor) deterministically, whatever the device's pace:
# back to the start (paused there), then forward by a tenth of the clip, twice
ds_keys 0
ds_wait "paused (A|B) +0\.00 s /"
ds_keys Right
ds_wait "paused (A|B) +0\.0[1-9] s /|paused (A|B) +0\.[1-9][0-9] s /"
ds_keys Right
ds_wait "paused (A|B) +0\.[1-9][0-9] s /"
ds_keys Space
ds_wait "(playing|ended) (A|B)"
ds_keys s
ds_wait "stopped (A|B) +0\.00 s"
# training went on meanwhile
ds_keys 2
ds_wait "State +running"
ds_keys q
ds_wait "stop after this step"
ds_keys y
ds_wait "EXIT=0" 30
ls "$DS_DIR/runs/tiny/demos/" | grep -q "demo_cfg_1_00000001_00.wav" || ds_fail "no demo files"
echo "demo_play: ok ($transport)"
