#!/bin/sh
# One fixture case through check-fixture on a device; exit 77 (skipped) when the device is
# not usable here.  usage: fixture.sh DIFFSTUDIO CASE_DIR DEVICE [PRECISION]
bin=$1 dir=$2 dev=$3 prec=${4:-32}
"$bin" devices --require "$dev" >/dev/null || exit 77
exec "$bin" check-fixture "$dir" --device "$dev" --precision "$prec"
