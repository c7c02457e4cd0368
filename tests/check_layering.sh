#!/bin/sh
# The house's boundaries (../shared/DESIGN.md §1), checked so they cannot rot:
#   engine/ never includes ncurses or PortAudio or libsndfile, nor audio/ or tui/ headers;
#   audio/ never includes engine/ or tui/ headers, nor ncurses;
#   cJSON only in engine/src/config/, the checkpoint/metrics/fixture/safetensors writers and audio metadata;
#   CUDA only under engine/src/cuda/;
#   the engine never prints to stdout (it logs through a callback).
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
fail=0
bad() { echo "layering: $*"; fail=1; }

hits=$(grep -rnE '#include *[<"](n?curses|ncursesw/|portaudio|sndfile|samplerate)' engine 2>/dev/null)
[ -n "$hits" ] && bad "engine/ must not include ncurses, PortAudio, libsndfile or libsamplerate:
$hits"
hits=$(grep -rnE '#include *"(\.\./)*(audio|tui)/' engine 2>/dev/null)
[ -n "$hits" ] && bad "engine/ must not include audio/ or tui/ headers:
$hits"
hits=$(grep -rnE '#include *[<"](\.\./)*engine/' audio 2>/dev/null)
[ -n "$hits" ] && bad "audio/ must not include engine headers:
$hits"
hits=$(grep -rnE '#include *[<"](n?curses|ncursesw/)' audio 2>/dev/null)
[ -n "$hits" ] && bad "audio/ must not include ncurses:
$hits"
hits=$(grep -rnE '#include *[<"](cuda|cublas|cudnn)' --include='*.c' --include='*.h' engine audio tui 2>/dev/null | grep -v '^engine/src/cuda/')
[ -n "$hits" ] && bad "CUDA headers outside engine/src/cuda/:
$hits"
hits=$(grep -rnE '#include *"(\.\./)*engine/src/|#include *"(core|tensor|ops|models|diffusion|train|fixture|cuda)/' tui 2>/dev/null)
[ -n "$hits" ] && bad "tui/ must use only engine/include/engine/*.h:
$hits"
hits=$(grep -rnE '(^|[^f])printf *\(|fprintf *\( *stdout|puts *\(' --include='*.c' engine/src 2>/dev/null | grep -v snprintf | grep -v vsnprintf)
[ -n "$hits" ] && bad "the engine must not print to stdout (log through ds_log):
$hits"
hits=$(grep -rlnE '#include *[<"]cjson/' engine/src 2>/dev/null | grep -vE '^engine/src/(config|train|run|fixture|tensor/safetensors|bench)')
[ -n "$hits" ] && bad "cJSON outside the config layer and the checkpoint/metrics/fixture writers:
$hits"
[ $fail -eq 0 ] && echo "layering: ok"
exit $fail
