"""The payload codec: golden vectors (the reference's), errors, round trips."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcoop import hardware_bridge
from gridcoop.hardware_bridge.codec import (
    ACK_PORT,
    COMMAND_PORT,
    READING_PORT,
    AckFrame,
    MeterFrame,
    b64decode_strict,
    decode_ack,
    decode_reading,
    decode_uplink,
    encode_ack,
    encode_reading,
    mac_tag,
    normalize_eui,
)
from gridcoop.hardware_bridge.command_codec import decode_command, encode_command
from gridcoop.hardware_bridge.errors import (
    BadBase64Error,
    BadMacError,
    CommandError,
    MalformedMessageError,
    MissingMacError,
    PayloadError,
    ShortPayloadError,
    UnknownOpcodeError,
    UnknownPortError,
    UnsupportedVersionError,
)
from gridcoop.hardware_bridge.readings import Command
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY

# Reference lorawan.md section 9a. Byte by byte:
#   15        hdr: version 1 (0x1_), bit0 relay on, bit2 MAC present -> 0x10|0x01|0x04
#   03        boot 3
#   019c      seq 412
#   0012d687  energy 1 234 567 VAh
#   01a5      irms 421 cA = 4.21 A
#   03c8      s_avg 968 VA (230 V x 4.21 A = 968.3)
#   0906      s_max 2310 VA
#   0f        interval 15 min
#   00        status
#   e9889336  HMAC-SHA256(00..0f, 70b3d57ed0000001 || 0a || bytes[0..15])[:4]
GOLDEN_HEX = "1503019c0012d68701a503c809060f00e9889336"
GOLDEN_B64 = "FQMBnAAS1ocBpQPICQYPAOmIkzY="
GOLDEN_FRAME = MeterFrame(
    boot=3,
    seq=412,
    energy_vah=1_234_567,
    irms_ca=421,
    s_avg_va=968,
    s_max_va=2310,
    interval_min=15,
    status=0,
    relay_on=True,
)


def test_public_names_exist() -> None:
    assert hardware_bridge.decode_uplink is decode_uplink
    assert hardware_bridge.encode_command is encode_command


def test_golden_reading_encodes_to_the_reference_bytes() -> None:
    payload = encode_reading(GOLDEN_FRAME, dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    assert payload.hex() == GOLDEN_HEX
    assert base64.b64encode(payload).decode() == GOLDEN_B64
    assert len(payload) == 20


def test_golden_reading_decodes_from_base64() -> None:
    frame = decode_uplink(GOLDEN_EUI, READING_PORT, GOLDEN_B64, GOLDEN_KEY)
    assert isinstance(frame, MeterFrame)
    assert (frame.boot, frame.seq, frame.energy_vah) == (3, 412, 1_234_567)
    assert frame.irms_a == pytest.approx(4.21)
    assert (frame.s_avg_va, frame.s_max_va, frame.interval_min) == (968, 2310, 15)
    assert frame.relay_on and not frame.clipped and frame.mac_verified is True


def test_mac_is_hmac_sha256_over_eui_port_and_body() -> None:
    body = bytes.fromhex(GOLDEN_HEX[:32])
    assert mac_tag(GOLDEN_KEY, GOLDEN_EUI, 10, body).hex() == "e9889336"
    # the devEUI may come in upper case or with separators: same device, same MAC
    assert mac_tag(GOLDEN_KEY, "70:B3:D5:7E:D0:00:00:01", 10, body).hex() == "e9889336"


@pytest.mark.parametrize(
    ("cmd", "b64", "hexbytes"),
    [
        # 01 SET_POWER, appliance 02, cmd_id 004d = 77, 00 = off
        (Command(GOLDEN_EUI, 2, 77, "off"), "AQIATQA=", "0102004d00"),
        # 02 ADJUST, appliance 02, cmd_id 004e = 78, ec = -20 (two's complement)
        (Command(GOLDEN_EUI, 2, 78, "decrease", 20), "AgIATuw=", "0202004eec"),
        # 04 DR_EVENT, all appliances ff, cmd_id 004f = 79, level 02, 003c = 60 min
        (
            Command(GOLDEN_EUI, 255, 79, "dr_event", 2, duration_min=60),
            "BP8ATwIAPA==",
            "04ff004f02003c",
        ),
        (Command(GOLDEN_EUI, 1, 80, "on"), None, "0101005001"),
        # 02 ADJUST, appliance 01, cmd_id 0051 = 81, 0f = +15 %
        (Command(GOLDEN_EUI, 1, 81, "increase", 15), None, "020100510f"),
        (Command(GOLDEN_EUI, 3, 82, "set_level", 40), None, "0303005228"),
        (Command(GOLDEN_EUI, 255, 83, "set_interval", interval_s=300), None, "05ff0053012c"),
        (Command(GOLDEN_EUI, 255, 84, "restore"), None, "06ff0054"),
        (Command(GOLDEN_EUI, 255, 85, "status"), None, "07ff0055"),
    ],
)
def test_command_golden_vectors(cmd: Command, b64: str | None, hexbytes: str) -> None:
    payload = encode_command(cmd)
    assert payload.hex() == hexbytes
    if b64 is not None:
        assert base64.b64encode(payload).decode() == b64
    assert decode_command(payload, dev_eui=GOLDEN_EUI) == cmd
    assert len(payload) <= 11


def test_command_with_mac_binds_it_to_the_device() -> None:
    cmd = Command(GOLDEN_EUI, 2, 77, "off")
    signed = encode_command(cmd, key=GOLDEN_KEY)
    assert signed[:5].hex() == "0102004d00" and len(signed) == 9
    assert signed[5:] == mac_tag(GOLDEN_KEY, GOLDEN_EUI, COMMAND_PORT, signed[:5])
    assert decode_command(signed, dev_eui=GOLDEN_EUI, key=GOLDEN_KEY, require_mac=True) == cmd
    with pytest.raises(BadMacError):  # the same bytes sent to another meter
        decode_command(signed, dev_eui="70b3d57ed0000002", key=GOLDEN_KEY, require_mac=True)
    with pytest.raises(MissingMacError):
        decode_command(signed[:5], dev_eui=GOLDEN_EUI, key=GOLDEN_KEY, require_mac=True)


def test_ack_frame_vector() -> None:
    # 15 = version 1, relay on, MAC; 004d = cmd 77; 00 = ok; then 4 MAC bytes
    payload = encode_ack(
        AckFrame(cmd_id=77, result=0, relay_on=True), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY
    )
    assert payload.hex() == "15004d004b88bf1c"
    frame = decode_uplink(GOLDEN_EUI, ACK_PORT, payload, GOLDEN_KEY)
    assert isinstance(frame, AckFrame)
    assert (frame.cmd_id, frame.result_name, frame.mac_verified) == (77, "ok", True)


def test_tampered_reading_is_refused_with_bad_mac() -> None:
    payload = bytearray(bytes.fromhex(GOLDEN_HEX))
    payload[7] ^= 0x01  # one bit of energy changed
    with pytest.raises(BadMacError, match="does not verify"):
        decode_uplink(GOLDEN_EUI, READING_PORT, bytes(payload), GOLDEN_KEY)
    # lenient decoding still says it did not verify
    lenient = decode_reading(GOLDEN_EUI, bytes(payload), GOLDEN_KEY, require_mac=False)
    assert lenient.mac_verified is False


def test_wrong_key_or_device_is_refused() -> None:
    with pytest.raises(BadMacError):
        decode_uplink(GOLDEN_EUI, READING_PORT, GOLDEN_B64, bytes(16))
    with pytest.raises(BadMacError):
        decode_uplink("70b3d57ed0000002", READING_PORT, GOLDEN_B64, GOLDEN_KEY)


def test_frame_without_mac_needs_explicit_leniency() -> None:
    bare = encode_reading(GOLDEN_FRAME, dev_eui=GOLDEN_EUI, key=None)
    assert len(bare) == 16 and bare[0] == 0x11  # version 1, relay on, no MAC bit
    with pytest.raises(MissingMacError, match="no MAC"):
        decode_uplink(GOLDEN_EUI, READING_PORT, bare, GOLDEN_KEY)
    frame = decode_uplink(GOLDEN_EUI, READING_PORT, bare, GOLDEN_KEY, require_mac=False)
    assert frame.mac_verified is None
    with pytest.raises(MissingMacError, match="no key"):
        decode_uplink(GOLDEN_EUI, READING_PORT, GOLDEN_B64, None)


@pytest.mark.parametrize("length", [0, 1, 15, 16, 19, 21])
def test_short_or_long_reading_is_refused(length: int) -> None:
    payload = (bytes.fromhex(GOLDEN_HEX) + b"\x00")[:length]
    with pytest.raises(ShortPayloadError):
        decode_uplink(GOLDEN_EUI, READING_PORT, payload, GOLDEN_KEY)


def test_bad_base64_is_refused() -> None:
    with pytest.raises(BadBase64Error, match="not valid base64"):
        decode_uplink(GOLDEN_EUI, READING_PORT, "FQMB!!nAAS1ocB", GOLDEN_KEY)
    with pytest.raises(BadBase64Error):
        b64decode_strict("FQMBnAAS1ocBpQPICQYPAOmIkzY")  # missing padding


def test_unknown_port_version_and_opcode() -> None:
    with pytest.raises(UnknownPortError, match="fPort 99"):
        decode_uplink(GOLDEN_EUI, 99, b"\x15", GOLDEN_KEY)
    wrong_version = bytes([0x25]) + bytes.fromhex(GOLDEN_HEX)[1:]
    with pytest.raises(UnsupportedVersionError, match="version 2"):
        decode_uplink(GOLDEN_EUI, READING_PORT, wrong_version, GOLDEN_KEY)
    with pytest.raises(UnknownOpcodeError, match="0x09"):
        decode_command(bytes.fromhex("0902004d00"), dev_eui=GOLDEN_EUI)
    with pytest.raises(ShortPayloadError):
        decode_command(bytes.fromhex("0102004d"), dev_eui=GOLDEN_EUI)
    with pytest.raises(PayloadError, match="ADJUST by 0"):
        decode_command(bytes.fromhex("0202004d00"), dev_eui=GOLDEN_EUI)


def test_bad_eui_is_refused() -> None:
    with pytest.raises(MalformedMessageError, match="16 hex digits"):
        normalize_eui("70b3d57ed00001")
    assert normalize_eui("70B3-D57E-D000-0001") == GOLDEN_EUI


@pytest.mark.parametrize(
    ("cmd", "message"),
    [
        (Command(GOLDEN_EUI, 2, 70_000, "off"), "command_id"),
        (Command(GOLDEN_EUI, 256, 1, "off"), "appliance"),
        (Command(GOLDEN_EUI, 2, 1, "explode"), "unknown action"),
        (Command(GOLDEN_EUI, 2, 1, "on", 50), "takes no level"),
        (Command(GOLDEN_EUI, 2, 1, "decrease", 0), "outside 1..100"),
        (Command(GOLDEN_EUI, 2, 1, "set_level", 101), "outside 0..100"),
        (Command(GOLDEN_EUI, 2, 1, "dr_event", 4), "outside 0..3"),
        (Command(GOLDEN_EUI, 2, 1, "set_interval", interval_s=30), "60..65535"),
        (Command(GOLDEN_EUI, 2, 1, "off", duration_min=5), "duration_min only"),
    ],
)
def test_invalid_commands_raise_command_error(cmd: Command, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        encode_command(cmd)


def test_out_of_range_reading_field_is_refused() -> None:
    frame = MeterFrame(
        boot=256, seq=0, energy_vah=0, irms_ca=0, s_avg_va=0, s_max_va=0, interval_min=15
    )
    with pytest.raises(PayloadError, match="boot=256"):
        encode_reading(frame, dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)


u8, u16, u32 = (st.integers(0, 2**n - 1) for n in (8, 16, 32))
frames = st.builds(
    MeterFrame,
    boot=u8,
    seq=u16,
    energy_vah=u32,
    irms_ca=u16,
    s_avg_va=u16,
    s_max_va=u16,
    interval_min=u8,
    status=u8,
    relay_on=st.booleans(),
    clipped=st.booleans(),
)
euis = st.binary(min_size=8, max_size=8).map(bytes.hex)
keys = st.binary(min_size=16, max_size=16)


@given(frame=frames, eui=euis, key=keys)
def test_reading_round_trip(frame: MeterFrame, eui: str, key: bytes) -> None:
    payload = encode_reading(frame, dev_eui=eui, key=key)
    assert len(payload) == 20 <= 36  # fits DR0 next to 15 B of FOpts
    decoded = decode_uplink(eui, READING_PORT, base64.b64encode(payload).decode(), key)
    assert decoded == dataclasses.replace(frame, mac_verified=True)


@given(frame=frames, eui=euis, key=keys, position=st.integers(0, 19), bit=st.integers(0, 7))
def test_any_single_bit_flip_is_detected(
    frame: MeterFrame, eui: str, key: bytes, position: int, bit: int
) -> None:
    payload = bytearray(encode_reading(frame, dev_eui=eui, key=key))
    payload[position] ^= 1 << bit
    with pytest.raises(PayloadError):  # bad MAC, or a header that no longer parses
        decode_uplink(eui, READING_PORT, bytes(payload), key)


commands = st.one_of(
    st.builds(
        Command,
        device_id=euis,
        appliance=u8,
        command_id=u16,
        action=st.sampled_from(["on", "off", "restore", "status"]),
    ),
    st.builds(
        Command,
        device_id=euis,
        appliance=u8,
        command_id=u16,
        action=st.sampled_from(["increase", "decrease"]),
        level=st.integers(1, 100),
    ),
    st.builds(
        Command,
        device_id=euis,
        appliance=u8,
        command_id=u16,
        action=st.just("set_level"),
        level=st.integers(0, 100),
    ),
    st.builds(
        Command,
        device_id=euis,
        appliance=u8,
        command_id=u16,
        action=st.just("dr_event"),
        level=st.integers(0, 3),
        duration_min=u16,
    ),
    st.builds(
        Command,
        device_id=euis,
        appliance=u8,
        command_id=u16,
        action=st.just("set_interval"),
        interval_s=st.integers(60, 65535),
    ),
)


@given(cmd=commands, key=st.one_of(st.none(), keys))
def test_command_round_trip(cmd: Command, key: bytes | None) -> None:
    payload = encode_command(cmd, key=key)
    assert len(payload) <= 11 + 4
    assert decode_command(payload, dev_eui=cmd.device_id, key=key) == cmd


@given(cmd_id=u16, result=u8, eui=euis, key=keys)
def test_ack_round_trip(cmd_id: int, result: int, eui: str, key: bytes) -> None:
    payload = encode_ack(AckFrame(cmd_id=cmd_id, result=result), dev_eui=eui, key=key)
    frame = decode_ack(eui, payload, key)
    assert (frame.cmd_id, frame.result, frame.mac_verified) == (cmd_id, result, True)
