"""Time on air and the EU868 budget; fails when a format or an interval stops being legal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gridcoop.hardware_bridge.airtime import (
    DEFAULT_PLAN,
    RadioPlan,
    budget_table,
    check_fits,
    data_rate,
    lora_airtime_s,
    uplink_airtime_s,
)
from gridcoop.hardware_bridge.codec import AckFrame, MeterFrame, encode_ack, encode_reading
from gridcoop.hardware_bridge.command_codec import encode_command
from gridcoop.hardware_bridge.errors import ConfigError, DutyCycleError, PayloadTooLargeError
from gridcoop.hardware_bridge.readings import Command
from gridcoop.hardware_bridge.registry import Device
from tests.hardware_bridge.conftest import GOLDEN_EUI, GOLDEN_KEY

FIRMWARE_CONFIG = (
    Path(__file__).resolve().parents[2] / "hardware_bridge/firmware/gridcoop_meter/config.h"
)

# Reference section 3.3, milliseconds; rows: application bytes, columns: DR0..DR5.
REFERENCE_TABLE = {
    11: (1482.8, 823.3, 370.7, 205.8, 113.2, 61.7),
    16: (1646.6, 905.2, 411.6, 226.3, 123.4, 66.8),
    20: (1810.4, 987.1, 452.6, 246.8, 133.6, 71.9),
    24: (1974.3, 1069.1, 493.6, 267.3, 143.9, 82.2),
    51: (2793.5, 1560.6, 698.4, 390.1, 215.6, 118.0),
}


@pytest.mark.parametrize("app_bytes", sorted(REFERENCE_TABLE))
def test_reference_airtimes(app_bytes: int) -> None:
    for dr, expected_ms in enumerate(REFERENCE_TABLE[app_bytes]):
        assert round(uplink_airtime_s(app_bytes, dr) * 1000, 1) == expected_ms


def test_sf12_worked_example() -> None:
    # 20 B app + 13 B LoRaWAN = PL 33, SF12, 125 kHz, CR 4/5, DE 1:
    # Tsym = 4096/125000 = 32.768 ms; preamble (8 + 4.25) x 32.768 = 401.408 ms
    # ceil((8*33 - 48 + 28 + 16) / (4 * 10)) = ceil(260/40) = 7 -> 8 + 7*5 = 43 symbols
    # 43 x 32.768 = 1409.024 ms; total 1810.432 ms (TTN's consumed_airtime "1.810432s")
    assert lora_airtime_s(33, 12) == pytest.approx(1.810432, abs=1e-9)


def test_every_format_fits_dr0_with_room_for_fopts() -> None:
    reading = encode_reading(
        MeterFrame(
            boot=255,
            seq=65535,
            energy_vah=2**32 - 1,
            irms_ca=65535,
            s_avg_va=65535,
            s_max_va=65535,
            interval_min=255,
            status=255,
        ),
        dev_eui=GOLDEN_EUI,
        key=GOLDEN_KEY,
    )
    ack = encode_ack(AckFrame(cmd_id=65535, result=3), dev_eui=GOLDEN_EUI, key=GOLDEN_KEY)
    longest_cmd = encode_command(
        Command(GOLDEN_EUI, 255, 65535, "dr_event", 3, duration_min=65535), key=GOLDEN_KEY
    )
    for payload in (reading, ack, longest_cmd):
        check_fits(len(payload), 0)  # DR0, N = 51
        check_fits(len(payload), 0, fopts_bytes=15)  # still fits beside 15 B of MAC commands
        assert len(payload) <= 36


def test_too_large_payload_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError, match="DR0's 51 B"):
        check_fits(52, 0)
    check_fits(115, 3)
    with pytest.raises(ConfigError, match="DR8"):
        data_rate(8)


def test_default_plan_is_legal_at_dr0_every_15_min() -> None:
    plan = DEFAULT_PLAN.check()
    assert (plan.app_bytes, plan.dr, plan.interval_s) == (20, 0, 900)
    # 96 frames x 1.810432 s = 173.8 s/day = 0.201 % (ETSI limit 1 %)
    assert plan.airtime_s_per_day == pytest.approx(96 * 1.810432)
    assert plan.duty_cycle == pytest.approx(0.00201, abs=1e-5)
    # back-off: 1.810 s at 1 % -> the next frame no sooner than 181 s later
    assert plan.min_interval_s == pytest.approx(181.0432)


def test_firmware_configured_interval_and_dr_are_legal() -> None:
    text = FIRMWARE_CONFIG.read_text()
    interval_s = int(re.search(r"#define\s+METER_INTERVAL_S\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    dr = int(re.search(r"#define\s+LORA_DATA_RATE\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    RadioPlan(dr=dr, interval_s=interval_s, ack_frames_per_day=10).check()


def test_short_interval_breaks_the_duty_cycle() -> None:
    with pytest.raises(DutyCycleError, match="at least 181 s"):
        RadioPlan(dr=0, interval_s=120).check()
    RadioPlan(dr=5, interval_s=60).check()  # 71.9 ms every minute is 0.12 %


def test_ttn_fair_use_needs_dr3_for_15_minutes() -> None:
    with pytest.raises(DutyCycleError, match="TTN's fair use"):
        RadioPlan(dr=0, interval_s=900, ttn_fair_use=True).check()
    with pytest.raises(DutyCycleError):
        RadioPlan(dr=2, interval_s=900, ttn_fair_use=True).check()  # 43.5 s/day
    assert RadioPlan(dr=3, interval_s=900, ttn_fair_use=True).check().airtime_s_per_day < 30


def test_device_registration_checks_its_radio_plan() -> None:
    with pytest.raises(DutyCycleError):
        Device(eui=GOLDEN_EUI, key=GOLDEN_KEY, radio=RadioPlan(dr=0, interval_s=60))


def test_budget_table_rows() -> None:
    rows = budget_table()
    assert [r["dr"] for r in rows] == list(range(8))
    assert rows[0]["airtime_ms"] == 1810.4 and rows[0]["etsi_ok"] is True
    assert rows[0]["ttn_fair_use_ok"] is False and rows[3]["ttn_fair_use_ok"] is True
