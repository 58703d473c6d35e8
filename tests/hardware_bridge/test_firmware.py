"""The firmware: it fits an Uno, and its C produces exactly the Python codec's bytes."""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridcoop.hardware_bridge.appliances import ApplianceState
from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, encode_ack, encode_reading
from gridcoop.hardware_bridge.command_codec import decode_command, encode_command
from gridcoop.hardware_bridge.firmware_build import (
    UNO_FLASH_BYTES,
    UNO_RAM_BYTES,
    build_host_driver,
    build_uno,
    missing_host_compiler,
    missing_uno_toolchain,
    run_host_driver,
)
from gridcoop.hardware_bridge.readings import Command
from gridcoop.hardware_bridge.serial_protocol import format_downlink, format_uplink
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY, need

ACTIONS = [
    "on",
    "off",
    "increase",
    "decrease",
    "set_level",
    "dr_event",
    "set_interval",
    "restore",
    "status",
]


@pytest.fixture(scope="module")
def host_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    missing = missing_host_compiler()
    need(None if missing else "gcc", "gcc (host compiler)")
    yield build_host_driver(tmp_path_factory.mktemp("host-fw"))


def test_sketch_compiles_for_the_uno_and_fits(tmp_path: Path) -> None:
    missing = missing_uno_toolchain()
    need(None if missing else "ok", f"the AVR toolchain ({missing})")
    size = build_uno(tmp_path / "uno")
    assert 0 < size.flash_bytes <= UNO_FLASH_BYTES, size
    assert 0 < size.ram_bytes <= UNO_RAM_BYTES, size
    # leave at least 512 B of the 2 KB for the stack (HMAC alone needs ~200 B of it)
    assert size.ram_bytes <= UNO_RAM_BYTES - 512, size


def _random_frame(rng: random.Random) -> MeterFrame:
    return MeterFrame(
        boot=rng.randrange(256),
        seq=rng.randrange(65536),
        energy_vah=rng.randrange(2**32),
        irms_ca=rng.randrange(65536),
        s_avg_va=rng.randrange(65536),
        s_max_va=rng.randrange(65536),
        interval_min=rng.randrange(256),
        status=rng.randrange(256),
        relay_on=rng.random() < 0.5,
        clipped=rng.random() < 0.5,
    )


def test_reading_bytes_match_python(host_driver: Path) -> None:
    rng = random.Random(7)
    cases: list[tuple[MeterFrame, str, bytes | None]] = [
        (
            MeterFrame(
                boot=3,
                seq=412,
                energy_vah=1_234_567,
                irms_ca=421,
                s_avg_va=968,
                s_max_va=2310,
                interval_min=15,
                relay_on=True,
            ),
            GOLDEN_EUI,
            GOLDEN_KEY,
        ),
    ]
    for _ in range(400):
        key = rng.randbytes(16) if rng.random() < 0.8 else None
        cases.append((_random_frame(rng), rng.randbytes(8).hex(), key))
    requests = [
        f"R {eui} {key.hex() if key else '-'} {f.boot} {f.seq} {f.energy_vah} {f.irms_ca} "
        f"{f.s_avg_va} {f.s_max_va} {f.interval_min} {f.status} {int(f.relay_on)} {int(f.clipped)}"
        for f, eui, key in cases
    ]
    answers = run_host_driver(host_driver, requests)
    assert answers[0] == "1503019c0012d68701a503c809060f00e9889336"  # the reference vector
    for (frame, eui, key), answer in zip(cases, answers, strict=True):
        assert answer == encode_reading(frame, dev_eui=eui, key=key).hex()


def test_ack_bytes_match_python(host_driver: Path) -> None:
    rng = random.Random(8)
    cases = [
        (
            rng.randrange(65536),
            rng.randrange(5),
            rng.random() < 0.5,
            rng.randbytes(8).hex(),
            rng.randbytes(16),
        )
        for _ in range(200)
    ]
    answers = run_host_driver(
        host_driver, [f"A {e} {k.hex()} {c} {r} {int(on)}" for c, r, on, e, k in cases]
    )
    for (cmd_id, result, relay, eui, key), answer in zip(cases, answers, strict=True):
        frame = AckFrame(cmd_id=cmd_id, result=result, relay_on=relay)
        assert answer == encode_ack(frame, dev_eui=eui, key=key).hex()


def _random_command(rng: random.Random, eui: str) -> Command:
    action = rng.choice(ACTIONS)
    level = duration = interval = 0
    if action in ("increase", "decrease"):
        level = rng.randint(1, 100)
    elif action == "set_level":
        level = rng.randint(0, 100)
    elif action == "dr_event":
        level, duration = rng.randint(0, 3), rng.randrange(65536)
    elif action == "set_interval":
        interval = rng.randint(60, 65535)
    return Command(
        eui,
        rng.choice([0, 1, 2, 3, 255]),
        rng.randrange(65536),
        action,
        level,
        duration_min=duration,
        interval_s=interval,
    )


def test_commands_from_python_decode_in_c(host_driver: Path) -> None:
    rng = random.Random(9)
    cases = []
    for _ in range(300):
        eui, key = rng.randbytes(8).hex(), rng.randbytes(16)
        cases.append((_random_command(rng, eui), key))
    requests = [f"C {c.device_id} {k.hex()} 1 {encode_command(c, key=k).hex()}" for c, k in cases]
    for (cmd, key), answer in zip(cases, run_host_driver(host_driver, requests), strict=True):
        payload = encode_command(cmd, key=key)
        status, op, target, cmd_id, arg0, arg1, had_mac = answer.split()
        assert status == "ok" and had_mac == "1"
        assert (int(op), int(target), int(cmd_id)) == (payload[0], cmd.appliance, cmd.command_id)
        expected = {
            "on": (1, 0),
            "off": (0, 0),
            "increase": (cmd.level, 0),
            "decrease": (-cmd.level, 0),
            "set_level": (cmd.level, 0),
            "dr_event": (cmd.level, cmd.duration_min),
            "set_interval": (0, cmd.interval_s),
            "restore": (0, 0),
            "status": (0, 0),
        }[cmd.action]
        assert (int(arg0), int(arg1)) == expected
        assert decode_command(payload, dev_eui=cmd.device_id, key=key, require_mac=True) == cmd


def test_c_refuses_what_python_refuses(host_driver: Path) -> None:
    signed = encode_command(Command(GOLDEN_EUI, 2, 77, "off"), key=GOLDEN_KEY).hex()
    tampered = signed[:-2] + ("00" if signed[-2:] != "00" else "01")
    requests = [
        f"C {GOLDEN_EUI} {GOLDEN_KEY.hex()} 1 {tampered}",  # bad MAC
        f"C 70b3d57ed0000002 {GOLDEN_KEY.hex()} 1 {signed}",  # meant for another device
        f"C {GOLDEN_EUI} {GOLDEN_KEY.hex()} 1 0102004d00",  # MAC required, none given
        f"C {GOLDEN_EUI} - 0 0902004d00",  # unknown opcode
        f"C {GOLDEN_EUI} - 0 0102004d",  # short
        f"C {GOLDEN_EUI} - 0 0202004d00",  # ADJUST by 0
        f"C {GOLDEN_EUI} - 0 0402004d0400",  # DR level 4
        f"C {GOLDEN_EUI} - 0 0102004d00",  # fine without MAC when not required
    ]
    assert run_host_driver(host_driver, requests) == [
        "err -3",
        "err -3",
        "err -4",
        "err -2",
        "err -1",
        "err -5",
        "err -1",
        "ok 1 2 77 0 0 0",
    ]


def test_sha256_and_hmac_match_hashlib(host_driver: Path) -> None:
    rng = random.Random(10)
    messages = [b"", b"abc", bytes(55), bytes(56), bytes(64), bytes(119)]
    messages += [rng.randbytes(rng.randrange(300)) for _ in range(60)]
    keys = [rng.randbytes(rng.choice([1, 16, 32, 64])) for _ in messages]
    requests = [f"S {m.hex() or '-'}" for m in messages]
    requests += [f"H {k.hex()} {m.hex() or '-'}" for k, m in zip(keys, messages, strict=True)]
    answers = run_host_driver(host_driver, requests)
    expected = [hashlib.sha256(m).hexdigest() for m in messages]
    expected += [hmac.new(k, m, "sha256").hexdigest() for k, m in zip(keys, messages, strict=True)]
    assert answers == expected


def test_serial_lines_match_python(host_driver: Path) -> None:
    frame = encode_reading(
        MeterFrame(
            boot=3,
            seq=412,
            energy_vah=1_234_567,
            irms_ca=421,
            s_avg_va=968,
            s_max_va=2310,
            interval_min=15,
            relay_on=True,
        ),
        dev_eui=GOLDEN_EUI,
        key=GOLDEN_KEY,
    )
    command = encode_command(
        Command(GOLDEN_EUI, 255, 79, "dr_event", 2, duration_min=60), key=GOLDEN_KEY
    )
    down = format_downlink(20, command).decode().strip()
    bad = down[:-1] + ("0" if down[-1] != "0" else "1")
    answers = run_host_driver(
        host_driver,
        [f"L {GOLDEN_EUI} 10 {frame.hex()}", f"D {down}", f"D {bad}", "D D,20,zz*00"],
    )
    assert answers[0] == format_uplink(GOLDEN_EUI, 10, frame).decode().strip()
    assert answers[1] == f"ok 20 {command.hex()}"
    assert answers[2] == "err -2"  # checksum
    assert answers[3].startswith("err")


def test_at_modem_lines(host_driver: Path) -> None:
    # gc_at_event: 0 none, 1 OK, 2 error, 3 busy, 4 not joined, 5 joined, 6 join failed,
    # 7 tx done, 8 rx
    answers = run_host_driver(
        host_driver,
        [
            "T OK",
            "T AT_PARAM_ERROR",
            "T AT_BUSY_ERROR",
            "T AT_NO_NETWORK_JOINED",
            "T +EVT:JOINED",
            "T +EVT:JOIN FAILED",
            "T +EVT:TX_DONE",
            "T +EVT:RX_1:-70:8:UNICAST:20:0102004d00",
            "T +EVT:RX_2:-101:-3:UNICAST:20:06ff0054",
            "T AT+SEND=10:15",
            "T +EVT:RX_1:-70:8:UNICAST:20:zz",
        ],
    )
    assert answers == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8 20 0102004d00",
        "8 20 06ff0054",
        "0",
        "0",
    ]


def test_rms_current_from_the_reference_formulas(host_driver: Path) -> None:
    # 10 A RMS primary -> 10*sqrt(2)/2000 = 7.071 mA peak secondary -> x 33 ohm = 0.2333 V peak
    # -> 0.2333 / (5 V / 1024) = 47.79 counts peak around mid-scale 512.
    # Irms = 60.606 * (5/1024) * 47.79/sqrt(2) = 10.00 A (ICAL = 2000/33).
    peak_counts = 10 * 2**0.5 / 2000 * 33 / (5 / 1024)
    # 4.21 A (the reference sample) -> 20.12 counts peak
    small_counts = 4.21 * 2**0.5 / 2000 * 33 / (5 / 1024)
    answers = run_host_driver(
        host_driver,
        [
            f"I 60.606 5000 1480 {peak_counts:.4f} 512 14",
            f"I 60.606 5000 1480 {small_counts:.4f} 512 14",
            "I 60.606 5000 1480 0 512 14",  # no current: quantisation noise only
            "I 60.606 5000 1480 600 512 14",
        ],  # beyond full scale: clipped
    )
    amps = [float(a.split()[0]) for a in answers]
    assert amps[0] == pytest.approx(10.0, rel=0.01)
    assert amps[1] == pytest.approx(4.21, rel=0.03)  # one ADC count is ~0.3 A
    assert amps[2] < 0.25  # below the noise floor the sketch clamps to 0
    assert answers[3].endswith(" 1") and answers[0].endswith(" 0")


def test_energy_integration_carries_fractions(host_driver: Path) -> None:
    # reference: 4.21 A -> 968.3 VA; 900 one-second steps = 871 470 VAs = 242.075 VAh
    # -> 242 VAh and 0.075 VAh = 270 000 VA ms carried to the next interval.
    answers = run_host_driver(host_driver, ["E 968.3 1000 900", "E 23000 60000 60"])
    assert answers[0] == "242 270000"
    assert answers[1] == "23000 0"  # 23 kVA for an hour is 23 000 VAh, nothing lost


def test_appliance_rules_match_python(host_driver: Path) -> None:
    rng = random.Random(11)
    state = ApplianceState()
    requests = ["X 900"]
    expected = ["ok"]
    now_ms = 0
    for _ in range(300):
        now_ms += rng.randrange(0, 600_000)
        cmd = _random_command(rng, GOLDEN_EUI)
        if rng.random() < 0.1 and state.recent_ids:  # resend a recent id: must not re-apply
            cmd = Command(GOLDEN_EUI, cmd.appliance, state.recent_ids[-1], "off")
        result, applied = state.apply(cmd, now_ms / 1000)
        levels = [state.level(a, now_ms / 1000) for a in range(4)]
        requests.append(f"P {now_ms} {encode_command(cmd).hex()}")
        relay = int(state.relay_on(now_ms / 1000))
        expected.append(f"{result} {int(applied)} {' '.join(map(str, levels))} {relay}")
    assert run_host_driver(host_driver, requests) == expected
