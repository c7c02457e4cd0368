#!/bin/sh
# Scenario (a): open the studio on a tiny config, change training.demo.demo_every in the
# Config screen (found with /, edited with type-aware input that refuses letters), save, and
# find the new value in the file on disk; undo, an invalid value refused, quit.
. "$(dirname "$0")/lib.sh"
ds_setup config_edit
ds_start
ds_wait "model: model.json"
ds_keys /
ds_wait "find a key"
ds_type demo_every
ds_keys Enter
ds_wait "How many training steps between demos"
ds_keys Enter
ds_wait "an integer > 0"
ds_keys C-u
ds_type "2x5"          # the x is refused as typed
ds_keys Enter
ds_wait "demo_every = 25"
ds_screen | grep -q "model.json \[+\]" || ds_fail "the unsaved change is not marked"
ds_keys s
ds_wait "saved .*model.json"
grep -q '"demo_every": 25,' "$DS_DIR/model.json" || ds_fail "demo_every not saved: $(grep demo_every "$DS_DIR/model.json")"
# the rest of the file is as it was
grep -q '"sample_size": 512,' "$DS_DIR/model.json" || ds_fail "the file lost its other keys"
# a value outside the schema's range is refused in the prompt (Enter does nothing), Esc cancels
ds_keys Enter
ds_wait "an integer > 0"
ds_keys C-u
ds_type "0"
ds_keys Enter
ds_wait "outside"
ds_keys Escape
# undo, then quit: asks about the unsaved change
ds_keys u
ds_wait "undone"
ds_wait "demo_every +50"
ds_keys q
ds_wait "unsaved changes"
ds_keys y
ds_wait "EXIT=0"
grep -q '"demo_every": 25,' "$DS_DIR/model.json" || ds_fail "quitting without saving changed the file"
cmp -s "$DS_DIR/stty.before" "$DS_DIR/stty.after" || ds_fail "terminal settings not restored"
echo "config_edit: ok"
