#!/bin/sh
# Installs the Debian packages diffstudio builds against, if any are missing.
# Says what it installs; asks for sudo only when not root. Safe to run again:
# with everything present it prints nothing and exits 0.
#
# The CUDA toolkit is not a Debian package here: when `nvcc` is on PATH (or in
# /usr/local/cuda/bin) the build adds the CUDA backend, otherwise it is skipped.
set -eu

pkgs="build-essential cmake pkg-config
libcjson-dev libncurses-dev portaudio19-dev libsndfile1-dev libsamplerate0-dev
libopenblas-dev tmux clang libclang-rt-14-dev"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "diffstudio: installing missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
    echo "diffstudio: not running as root, using sudo (you may be asked for your password)"
else
    echo "diffstudio: need root to install:$missing" >&2
    echo "  run as root:  apt-get install -y$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Install first; refresh the package lists only if that fails (stale lists on a new machine).
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y --no-install-recommends $missing; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends $missing
fi
