"""The downlink command format (fPort 20) and what each action means on the wire.

Why apart from ``codec``: commands are the aggregators' side (OpenADR-style
actions mapped to opcodes, argument ranges, idempotency ids), readings the
meters'; both share ``codec``'s MAC and base64 helpers. The firmware's
``payload.c`` decodes exactly these bytes (tests check it).

``>BBH`` opcode, target appliance (255 = all), cmd_id, then the opcode's
arguments, then an optional 4-byte MAC over devEUI || 20 || the bytes before it.
"""

from __future__ import annotations

import struct

from gridcoop.hardware_bridge.codec import (
    ALL_APPLIANCES,
    COMMAND_PORT,
    MAC_LEN,
    as_bytes,
    check_range,
    mac_tag,
    normalize_eui,
    verify_mac,
)
from gridcoop.hardware_bridge.errors import (
    CommandError,
    PayloadError,
    ShortPayloadError,
    UnknownOpcodeError,
)
from gridcoop.hardware_bridge.readings import Command

_CMD_HEADER = struct.Struct(">BBH")

# opcode -> (name, struct of the arguments after the 4-byte header)
OPCODES: dict[int, tuple[str, struct.Struct]] = {
    0x01: ("SET_POWER", struct.Struct(">B")),
    0x02: ("ADJUST", struct.Struct(">b")),
    0x03: ("SET_LEVEL", struct.Struct(">B")),
    0x04: ("DR_EVENT", struct.Struct(">BH")),
    0x05: ("SET_INTERVAL", struct.Struct(">H")),
    0x06: ("RESTORE", struct.Struct(">")),
    0x07: ("STATUS_REQUEST", struct.Struct(">")),
}
ACTIONS = (
    "on",
    "off",
    "increase",
    "decrease",
    "set_level",
    "dr_event",
    "set_interval",
    "restore",
    "status",
)


def _command_args(cmd: Command) -> tuple[int, tuple[int, ...]]:
    """Validate one command and return its opcode and argument values."""
    action, level = cmd.action, cmd.level
    if action not in ACTIONS:
        raise CommandError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    if not 0 <= cmd.appliance <= ALL_APPLIANCES:
        raise CommandError(f"appliance {cmd.appliance} is outside 0..255 (255 = all)")
    if not 0 <= cmd.command_id <= 0xFFFF:
        raise CommandError(f"command_id {cmd.command_id} is outside 0..65535 (u16 on the wire)")

    def level_in(low: int, high: int) -> None:
        if not low <= level <= high:
            raise CommandError(f"{action} level {level} is outside {low}..{high}")

    if action not in ("dr_event",) and cmd.duration_min:
        raise CommandError(f"duration_min only applies to dr_event, not {action}")
    if action != "set_interval" and cmd.interval_s:
        raise CommandError(f"interval_s only applies to set_interval, not {action}")
    if action in ("on", "off", "restore", "status", "set_interval") and level != 0:
        raise CommandError(f"{action} takes no level (got {level}); leave level=0")
    if action in ("on", "off"):
        return 0x01, (1 if action == "on" else 0,)
    if action in ("increase", "decrease"):
        level_in(1, 100)
        return 0x02, (level if action == "increase" else -level,)
    if action == "set_level":
        level_in(0, 100)
        return 0x03, (level,)
    if action == "dr_event":
        level_in(0, 3)
        if not 0 <= cmd.duration_min <= 0xFFFF:
            raise CommandError(f"duration_min {cmd.duration_min} is outside 0..65535")
        return 0x04, (level, cmd.duration_min)
    if action == "set_interval":
        if not 60 <= cmd.interval_s <= 0xFFFF:
            raise CommandError(f"interval_s {cmd.interval_s} is outside 60..65535")
        return 0x05, (cmd.interval_s,)
    return (0x06 if action == "restore" else 0x07), ()


def encode_command(
    cmd: Command, *, key: bytes | None = None, dev_eui: str | bytes | None = None
) -> bytes:
    """The fPort-20 bytes of a command; with a key a 4-byte MAC is appended.

    ``dev_eui`` defaults to ``cmd.device_id`` (the MAC binds the command to one device).
    """
    opcode, args = _command_args(cmd)
    body = _CMD_HEADER.pack(opcode, cmd.appliance, cmd.command_id) + OPCODES[opcode][1].pack(*args)
    if key is None:
        return body
    return body + mac_tag(
        key, dev_eui if dev_eui is not None else cmd.device_id, COMMAND_PORT, body
    )


def decode_command(
    payload: bytes | str,
    *,
    dev_eui: str | bytes,
    key: bytes | None = None,
    require_mac: bool = False,
) -> Command:
    """Decode one fPort-20 command (what the firmware does), checking its MAC if present."""
    frame = as_bytes(payload)
    if len(frame) < _CMD_HEADER.size:
        raise ShortPayloadError(f"command frame is {len(frame)} bytes; the header alone is 4")
    opcode, target, cmd_id = _CMD_HEADER.unpack_from(frame)
    if opcode not in OPCODES:
        known = ", ".join(f"0x{op:02x} {name}" for op, (name, _) in OPCODES.items())
        raise UnknownOpcodeError(f"command opcode 0x{opcode:02x} is not defined; known: {known}")
    args_struct = OPCODES[opcode][1]
    body_len = _CMD_HEADER.size + args_struct.size
    if len(frame) not in (body_len, body_len + MAC_LEN):
        raise ShortPayloadError(
            f"{OPCODES[opcode][0]} command is {len(frame)} bytes; expected {body_len} "
            f"or {body_len + MAC_LEN} with a MAC"
        )
    body, tag = frame[:body_len], (frame[body_len:] if len(frame) > body_len else None)
    verify_mac(key, dev_eui, COMMAND_PORT, body, tag, require_mac)
    args = args_struct.unpack_from(body, _CMD_HEADER.size)
    base = {"device_id": normalize_eui(dev_eui), "appliance": target, "command_id": cmd_id}
    if opcode == 0x01:
        if args[0] > 1:
            raise PayloadError(f"SET_POWER argument {args[0]} is not 0 (off) or 1 (on)")
        return Command(action="on" if args[0] else "off", **base)
    if opcode == 0x02:
        if args[0] == 0 or abs(args[0]) > 100:
            raise PayloadError(f"ADJUST by {args[0]} % is outside -100..-1, 1..100")
        return Command(action="increase" if args[0] > 0 else "decrease", level=abs(args[0]), **base)
    if opcode == 0x03:
        check_range("SET_LEVEL", args[0], 0, 100)
        return Command(action="set_level", level=args[0], **base)
    if opcode == 0x04:
        check_range("DR_EVENT level", args[0], 0, 3)
        return Command(action="dr_event", level=args[0], duration_min=args[1], **base)
    if opcode == 0x05:
        check_range("SET_INTERVAL seconds", args[0], 60, 0xFFFF)
        return Command(action="set_interval", interval_s=args[0], **base)
    return Command(action="restore" if opcode == 0x06 else "status", **base)
