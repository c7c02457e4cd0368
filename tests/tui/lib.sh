# Shared set-up for the studio's scenario tests: the real program in a real terminal (tmux),
# driven with send-keys and read with capture-pane, as a user would. Each test gets its own
# folder (a tiny dataset, a tiny DiT config, a studio file), its own HOME (an .asoundrc that
# sends sound to ALSA's null device) and its own tmux server. Waits poll the screen with a
# timeout rather than sleeping a fixed time. Skips (77) when tmux is missing.
#
# Usage: . lib.sh; ds_setup NAME; ds_start [ENV...]; ds_wait REGEX [SECONDS]; ds_keys KEYS...

set -u
DS_BIN=${DS_BIN:?DS_BIN must name the diffstudio binary}
command -v tmux >/dev/null 2>&1 || { echo "tmux not installed: skipped"; exit 77; }

ds_fail() {
    echo "FAIL: $*"
    echo "---- screen ----"
    ds_screen
    echo "----------------"
    for f in "$DS_DIR/home/.cache/diffstudio-stderr.log" "$DS_DIR/runs/tiny/diffstudio-stderr.log"; do
        [ -f "$f" ] && { echo "---- $f (last lines) ----"; tail -20 "$f"; }
    done
    exit 1
}

ds_cleanup() {
    tmux -L "$DS_SOCK" kill-server >/dev/null 2>&1
    [ -n "${DS_KEEP:-}" ] || rm -rf "$DS_DIR"
}

# ds_setup NAME [SAMPLE_SIZE] [DEMO_EVERY]: the test folder with data and configs.
ds_setup() {
    DS_NAME=$1
    ss=${2:-512}
    every=${3:-50}
    DS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ds_tui_${DS_NAME}_XXXXXX")
    DS_SOCK="ds_${DS_NAME}_$$"
    trap ds_cleanup EXIT
    mkdir -p "$DS_DIR/home"
    echo 'pcm.!default { type null }' > "$DS_DIR/home/.asoundrc"
    "$DS_BIN" example-data "$DS_DIR/data" --per-class 4 --seconds 0.1 --rate 8000 >/dev/null 2>&1 || ds_fail "example-data"
    cat > "$DS_DIR/model.json" <<JSON
{
    "model_type": "diffusion_cond",
    "sample_size": $ss,
    "sample_rate": 8000,
    "audio_channels": 1,
    "model": {
        "io_channels": 1,
        "conditioning": {
            "cond_dim": 32,
            "configs": [
                {"id": "prompt", "type": "list", "config": {"options": ["kick", "snare", "hihat", "pluck_low", "pluck_mid", "pluck_high"]}},
                {"id": "seconds_total", "type": "number", "config": {"min_val": 0, "max_val": 4}}
            ]
        },
        "diffusion": {
            "type": "dit",
            "cross_attention_cond_ids": ["prompt", "seconds_total"],
            "global_cond_ids": ["prompt"],
            "config": {"io_channels": 1, "patch_size": 8, "embed_dim": 64, "depth": 1, "num_heads": 2,
                       "cond_token_dim": 32, "global_cond_dim": 32}
        }
    },
    "training": {
        "optimizer_configs": {"diffusion": {"optimizer": {"type": "AdamW", "config": {"lr": 1e-3}}}},
        "demo": {
            "demo_every": $every,
            "demo_steps": 4,
            "num_demos": 2,
            "demo_cond": [
                {"prompt": "kick", "seconds_total": 1},
                {"prompt": "snare", "seconds_total": 1}
            ],
            "demo_cfg_scales": [1, 3]
        }
    }
}
JSON
    cat > "$DS_DIR/studio.json" <<JSON
{
    "model_config": "model.json",
    "dataset_config": "data",
    "run_dir": "runs/tiny",
    "batch_size": 4,
    "checkpoint_every": 100,
    "threads": 1,
    "seed": 42,
    "device": "cpu"
}
JSON
}

# ds_start [VAR=VALUE...]: the studio on studio.json in a shell in a 100x30 tmux window. The
# shell records the terminal settings before and after (stty -g) and prints EXIT=<code>.
ds_start() {
    envs="HOME=$DS_DIR/home LANG=C.UTF-8 LC_ALL=C.UTF-8 $*"
    echo 'set -g default-terminal tmux-256color' > "$DS_DIR/tmux.conf"
    n=0
    until tmux -L "$DS_SOCK" -f "$DS_DIR/tmux.conf" new-session -d -s s -x 100 -y 30 -c "$DS_DIR" \
        "stty -g > stty.before; env $envs '$DS_BIN' studio studio.json; echo EXIT=\$?; stty -g > stty.after; exec sleep 600" \
        2>/dev/null; do
        n=$((n + 1)) # a server that was just killed may still hold the socket
        [ $n -lt 20 ] || ds_fail "tmux did not start"
        sleep 0.2
    done
    ds_wait "1 Config" 20
}

ds_screen() { tmux -L "$DS_SOCK" capture-pane -p -t s 2>/dev/null; }
ds_keys() { tmux -L "$DS_SOCK" send-keys -t s "$@"; }
ds_type() { tmux -L "$DS_SOCK" send-keys -t s -l "$1"; }

# ds_wait REGEX [SECONDS]: until the screen matches (extended regex).
ds_wait() {
    limit=$(( ${2:-20} * 10 ))
    i=0
    while [ $i -lt $limit ]; do
        ds_screen | grep -Eq -- "$1" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    ds_fail "waited ${2:-20} s for /$1/"
}

# ds_wait_line N REGEX [SECONDS]: until line N of the screen matches (e.g. the hint line after
# a resize: only a redrawn screen has it there).
ds_wait_line() {
    limit=$(( ${3:-20} * 10 ))
    i=0
    while [ $i -lt $limit ]; do
        ds_screen | sed -n "${1}p" | grep -Eq -- "$2" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    ds_fail "waited ${3:-20} s for line $1 to match /$2/"
}

# The number after a label on the screen (e.g. ds_field Step → 123).
ds_field() { ds_screen | sed -n "s/.*$1  *\([0-9][0-9]*\).*/\1/p" | head -1; }

# The pid of the studio (the child of the pane's shell).
ds_pid() {
    sh_pid=$(tmux -L "$DS_SOCK" display-message -p -t s '#{pane_pid}')
    pgrep -P "$sh_pid" diffstudio | head -1
}
