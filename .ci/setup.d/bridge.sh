#!/usr/bin/env bash
# The hardware bridge (`hardware_bridge/`): a Mosquitto broker for the MQTT tests and the
# benchmark, the AVR toolchain and Arduino core to compile the meter firmware for the Uno,
# and gcc/make to compile its portable C on the host. Idempotent: installs only what is
# missing, and never starts the system broker (the tests run their own on a free port).
set -euo pipefail

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v avr-gcc >/dev/null 2>&1 || need_apt+=(gcc-avr)
[ -e /usr/lib/avr/include/avr/io.h ] || need_apt+=(avr-libc)
[ -d /usr/share/arduino/hardware/arduino/avr/cores/arduino ] || need_apt+=(arduino-core-avr)
[ -e /usr/share/arduino/Arduino.mk ] || need_apt+=(arduino-mk)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
command -v make >/dev/null 2>&1 || need_apt+=(make)
"$(dirname "$0")/../apt-install" "the bridge tests" ${need_apt[@]+"${need_apt[@]}"}
# The Debian package may start a system broker on 1883 where systemd runs; ours use free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop mosquitto >/dev/null 2>&1 || true; fi
