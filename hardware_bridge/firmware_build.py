"""Compile the meter firmware: for the Uno (arduino-mk, avr-gcc) and its C parts for the host.

Why from Python: the tests and ``gridcoop devices firmware`` build into a
temporary directory, read flash and RAM use from ``avr-size`` and check them
against the Uno's limits, and compile the portable C (payload, SHA-256, lines,
AT parsing, meter maths) with the host's gcc so its bytes can be compared with
the Python codec's.
"""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gridcoop.hardware_bridge.errors import FirmwareBuildError

FIRMWARE_DIR = Path(__file__).resolve().parent / "firmware"
SKETCH_DIR = FIRMWARE_DIR / "gridcoop_meter"
HOST_DRIVER = FIRMWARE_DIR / "host" / "host_codec.c"
SIMAVR_HARNESS = FIRMWARE_DIR / "simavr" / "uno_pty.c"
SIMAVR_HEADERS = Path("/usr/include/simavr/sim_avr.h")
ARDUINO_MK = Path("/usr/share/arduino/Arduino.mk")
ARDUINO_CORE = Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino")
UNO_FLASH_BYTES = 32_768 - 512  # 32 KB less the optiboot bootloader
UNO_RAM_BYTES = 2048
PORTABLE_SOURCES = ("sha256.c", "payload.c", "commands.c", "lines.c", "lora_at.c", "meter.c")


@dataclass(frozen=True, slots=True)
class FirmwareSize:
    flash_bytes: int  # .text + .data (initialised data is stored in flash too)
    ram_bytes: int  # .data + .bss (static RAM; the stack lives in the rest)
    elf: Path


def missing_uno_toolchain() -> str | None:
    """What is missing to build for the Uno, or None."""
    for tool in ("make", "avr-gcc", "avr-size"):
        if shutil.which(tool) is None:
            return f"{tool} (Debian gcc-avr / make)"
    if not ARDUINO_MK.exists():
        return f"{ARDUINO_MK} (Debian arduino-mk)"
    if not ARDUINO_CORE.exists():
        return f"{ARDUINO_CORE} (Debian arduino-core-avr)"
    return None


def missing_host_compiler() -> str | None:
    return None if shutil.which("gcc") else "gcc"


def missing_simavr() -> str | None:
    """What is missing to run the Uno firmware in simavr, or None."""
    if missing_host_compiler():
        return "gcc"
    if not SIMAVR_HEADERS.exists() or ctypes.util.find_library("simavr") is None:
        return "libsimavr (Debian simavr, libsimavr-dev)"
    return None


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-4000:]
        raise FirmwareBuildError(f"{' '.join(command[:3])} ... failed:\n{tail}")
    return done.stdout


def elf_size(elf: Path) -> FirmwareSize:
    """Flash and static RAM of an AVR ELF, from ``avr-size -A`` section sizes."""
    sections: dict[str, int] = {}
    for line in _run(["avr-size", "-A", str(elf)], elf.parent).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    text, data, bss = (sections.get(name, 0) for name in (".text", ".data", ".bss"))
    return FirmwareSize(flash_bytes=text + data, ram_bytes=data + bss, elf=elf)


def build_uno(build_dir: Path, *, device_flags: str = "") -> FirmwareSize:
    """``make`` the sketch for an Uno into ``build_dir``; returns its size (the ``.hex``
    next to the ``.elf`` is what a board, or simavr, runs)."""
    missing = missing_uno_toolchain()
    if missing:
        raise FirmwareBuildError(f"cannot build for the Uno: missing {missing}")
    build_dir.mkdir(parents=True, exist_ok=True)
    command = ["make", "-s", f"OBJDIR={build_dir}", f"ARDUINO_MK={ARDUINO_MK}"]
    if device_flags:
        command.append(f"DEVICE_FLAGS={device_flags}")
    _run(command, SKETCH_DIR)
    elves = sorted(build_dir.glob("*.elf"))
    if not elves:
        raise FirmwareBuildError(f"make succeeded but left no .elf in {build_dir}")
    return elf_size(elves[0])


def build_host_driver(build_dir: Path) -> Path:
    """Compile the portable C and ``host/host_codec.c`` with gcc (-Wall -Wextra -Werror)."""
    if missing_host_compiler():
        raise FirmwareBuildError("cannot build the host driver: gcc is missing")
    build_dir.mkdir(parents=True, exist_ok=True)
    binary = build_dir / "host_codec"
    sources = [str(SKETCH_DIR / name) for name in PORTABLE_SOURCES] + [str(HOST_DRIVER)]
    _run(
        ["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", str(SKETCH_DIR),
         *sources, "-lm", "-o", str(binary)],
        build_dir,
    )  # fmt: skip
    return binary


def build_simavr_harness(build_dir: Path) -> Path:
    """Compile ``simavr/uno_pty.c`` (the Uno in simavr, UART0 on a pty) against libsimavr."""
    missing = missing_simavr()
    if missing:
        raise FirmwareBuildError(f"cannot build the simavr harness: missing {missing}")
    build_dir.mkdir(parents=True, exist_ok=True)
    binary = build_dir / "uno_pty"
    _run(
        ["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", str(SIMAVR_HARNESS),
         "-lsimavr", "-lm", "-o", str(binary)],
        build_dir,
    )  # fmt: skip
    return binary


def run_host_driver(binary: Path, requests: list[str]) -> list[str]:
    """Send requests (one per line) through the driver; one answer line each."""
    done = subprocess.run(
        [str(binary)], input="\n".join(requests) + "\n", capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise FirmwareBuildError(f"host driver exited {done.returncode}: {done.stderr[-2000:]}")
    answers = done.stdout.splitlines()
    if len(answers) != len(requests):
        raise FirmwareBuildError(f"{len(requests)} requests but {len(answers)} answers")
    return answers
