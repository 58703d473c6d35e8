#!/usr/bin/env bash
# The firmware in the loop (`tests/hardware_bridge/test_firmware_in_the_loop.py`): simavr's
# library and headers, so the tests can build the small harness that runs the Uno .hex
# with its serial port on a pty. Idempotent: installs only what is missing.
set -euo pipefail

need_apt=()
[ -e /usr/include/simavr/sim_avr.h ] || need_apt+=(libsimavr-dev)
command -v simavr >/dev/null 2>&1 || need_apt+=(simavr)
"$(dirname "$0")/../apt-install" "the simavr tests" ${need_apt[@]+"${need_apt[@]}"}
