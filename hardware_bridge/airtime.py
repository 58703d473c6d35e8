"""Time on air and the EU868 radio budget: will a frame fit, is an interval legal.

Why here and tested: the payload and the metering interval are chosen once and
then forgotten; these checks make a test fail the day a format grows past DR0's
51 bytes or an interval breaks the 1 % duty cycle (or TTN's 30 s/day fair use).
Formula: Semtech AN1200.13 (LoRa), as quoted in the reference section 3.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gridcoop.hardware_bridge.errors import ConfigError, DutyCycleError, PayloadTooLargeError

LORAWAN_OVERHEAD_BYTES = 13  # MHDR 1 + FHDR 7 + FPort 1 + MIC 4
MAX_FOPTS_BYTES = 15
ETSI_DUTY_CYCLE = 0.01  # sub-bands L, M, Q
TTN_FAIR_USE_S_PER_DAY = 30.0
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class DataRate:
    """One EU868 data rate: modulation and the largest application payload (N)."""

    index: int
    spreading_factor: int  # 0 for FSK
    bandwidth_hz: int
    max_app_bytes: int
    max_app_bytes_repeater: int

    @property
    def is_fsk(self) -> bool:
        return self.spreading_factor == 0


EU868: tuple[DataRate, ...] = (
    DataRate(0, 12, 125_000, 51, 51),
    DataRate(1, 11, 125_000, 51, 51),
    DataRate(2, 10, 125_000, 51, 51),
    DataRate(3, 9, 125_000, 115, 115),
    DataRate(4, 8, 125_000, 242, 222),
    DataRate(5, 7, 125_000, 242, 222),
    DataRate(6, 7, 250_000, 242, 222),
    DataRate(7, 0, 50_000, 242, 222),  # FSK 50 kbit/s
)


def data_rate(index: int) -> DataRate:
    if not 0 <= index < len(EU868):
        raise ConfigError(f"EU868 data rate DR{index} does not exist; use DR0..DR7")
    return EU868[index]


def data_rate_of_lora(spreading_factor: int, bandwidth_hz: int) -> DataRate | None:
    """The EU868 data rate of a LoRa modulation (None: not an EU868 data rate).

    Why: The Things Stack reports an uplink's modulation (``data_rate.lora``), not its
    index; the index follows from this table, the one place the pairs are written.
    """
    for rate in EU868:
        if not rate.is_fsk and (rate.spreading_factor, rate.bandwidth_hz) == (
            spreading_factor,
            bandwidth_hz,
        ):
            return rate
    return None


def data_rate_of_fsk(bit_rate_bps: int) -> DataRate | None:
    """The EU868 data rate of an FSK modulation (DR7 at 50 kbit/s; None otherwise)."""
    return next((r for r in EU868 if r.is_fsk and r.bandwidth_hz == bit_rate_bps), None)


def lora_airtime_s(
    phy_payload_bytes: int,
    spreading_factor: int,
    bandwidth_hz: int = 125_000,
    *,
    coding_rate: int = 1,  # 1 means 4/5
    preamble_symbols: int = 8,
    explicit_header: bool = True,
    crc: bool = True,
    low_dr_optimize: bool | None = None,
) -> float:
    """Seconds on air of one LoRa frame of ``phy_payload_bytes`` (Semtech formula)."""
    if phy_payload_bytes < 0:
        raise ConfigError(f"payload length {phy_payload_bytes} is negative")
    if not 6 <= spreading_factor <= 12:
        raise ConfigError(f"spreading factor SF{spreading_factor} is outside SF6..SF12")
    t_sym = (2**spreading_factor) / bandwidth_hz
    if low_dr_optimize is None:  # mandated when a symbol lasts longer than 16 ms
        low_dr_optimize = t_sym > 0.016
    de = 1 if low_dr_optimize else 0
    ih = 0 if explicit_header else 1
    numerator = 8 * phy_payload_bytes - 4 * spreading_factor + 28 + 16 * int(crc) - 20 * ih
    n_payload = 8 + max(
        math.ceil(numerator / (4 * (spreading_factor - 2 * de))) * (coding_rate + 4), 0
    )
    return float((preamble_symbols + 4.25) * t_sym + n_payload * t_sym)


def fsk_airtime_s(phy_payload_bytes: int, bitrate_bps: int = 50_000) -> float:
    """Seconds on air of one GFSK frame: preamble 5 + sync 3 + length 1 + payload + CRC 2."""
    return 8 * (5 + 3 + 1 + phy_payload_bytes + 2) / bitrate_bps


def uplink_airtime_s(app_bytes: int, dr: int) -> float:
    """Seconds on air of an uplink carrying ``app_bytes`` of FRMPayload at EU868 ``dr``."""
    rate = data_rate(dr)
    phy = LORAWAN_OVERHEAD_BYTES + app_bytes
    if rate.is_fsk:
        return fsk_airtime_s(phy, rate.bandwidth_hz)
    return lora_airtime_s(phy, rate.spreading_factor, rate.bandwidth_hz)


def check_fits(app_bytes: int, dr: int, *, fopts_bytes: int = 0, repeater: bool = False) -> None:
    """Raise ``PayloadTooLargeError`` unless the frame (plus piggy-backed FOpts) fits ``dr``."""
    rate = data_rate(dr)
    limit = rate.max_app_bytes_repeater if repeater else rate.max_app_bytes
    if app_bytes + fopts_bytes > limit:
        raise PayloadTooLargeError(
            f"{app_bytes} B payload + {fopts_bytes} B FOpts exceeds DR{dr}'s {limit} B; "
            "shrink the format or use a faster data rate"
        )


@dataclass(frozen=True, slots=True)
class RadioPlan:
    """How one meter uses the radio: frame size, data rate, interval, extra ack frames."""

    app_bytes: int = 20
    dr: int = 0
    interval_s: int = 900
    ack_frames_per_day: int = 0
    ack_app_bytes: int = 8
    duty_cycle_limit: float = ETSI_DUTY_CYCLE
    ttn_fair_use: bool = False

    @property
    def frame_airtime_s(self) -> float:
        return uplink_airtime_s(self.app_bytes, self.dr)

    @property
    def airtime_s_per_day(self) -> float:
        frames = SECONDS_PER_DAY / self.interval_s
        acks = self.ack_frames_per_day * uplink_airtime_s(self.ack_app_bytes, self.dr)
        return frames * self.frame_airtime_s + acks

    @property
    def duty_cycle(self) -> float:
        """Fraction of time on air, all frames on one sub-band (the conservative case)."""
        return self.airtime_s_per_day / SECONDS_PER_DAY

    @property
    def min_interval_s(self) -> float:
        """Shortest legal interval: the LoRaWAN back-off Toff = T/dc - T, plus T itself."""
        return self.frame_airtime_s / self.duty_cycle_limit

    def check(self) -> RadioPlan:
        """Raise ``PayloadTooLargeError``/``DutyCycleError`` if the plan is illegal."""
        if self.interval_s <= 0:
            raise ConfigError(f"interval_s {self.interval_s} must be positive")
        check_fits(self.app_bytes, self.dr)
        if self.interval_s < self.min_interval_s:
            raise DutyCycleError(
                f"a {self.app_bytes} B frame at DR{self.dr} is {self.frame_airtime_s:.3f} s on "
                f"air; at {self.duty_cycle_limit:.1%} duty cycle the interval must be at least "
                f"{self.min_interval_s:.0f} s, not {self.interval_s} s"
            )
        if self.duty_cycle > self.duty_cycle_limit:
            raise DutyCycleError(
                f"{self.airtime_s_per_day:.1f} s/day on air is {self.duty_cycle:.3%}, above "
                f"{self.duty_cycle_limit:.1%}; lengthen the interval or raise the data rate"
            )
        if self.ttn_fair_use and self.airtime_s_per_day > TTN_FAIR_USE_S_PER_DAY:
            raise DutyCycleError(
                f"{self.airtime_s_per_day:.1f} s/day on air exceeds TTN's fair use of "
                f"{TTN_FAIR_USE_S_PER_DAY:.0f} s/day at DR{self.dr} every {self.interval_s} s; "
                "use DR3 or faster, a longer interval, or a private network server"
            )
        return self


DEFAULT_PLAN = RadioPlan()


def budget_table(app_bytes: int = 20, interval_s: int = 900) -> list[dict[str, float | int | bool]]:
    """Per data rate: airtime, seconds per day, duty cycle and whether ETSI/TTN allow it."""
    rows: list[dict[str, float | int | bool]] = []
    for rate in EU868:
        plan = RadioPlan(app_bytes=app_bytes, dr=rate.index, interval_s=interval_s)
        fits = app_bytes <= rate.max_app_bytes
        rows.append(
            {
                "dr": rate.index,
                "sf": rate.spreading_factor,
                "airtime_ms": round(plan.frame_airtime_s * 1000, 1),
                "airtime_s_per_day": round(plan.airtime_s_per_day, 1),
                "duty_cycle_pct": round(plan.duty_cycle * 100, 3),
                "fits": fits,
                "etsi_ok": fits and plan.duty_cycle <= ETSI_DUTY_CYCLE,
                "ttn_fair_use_ok": fits and plan.airtime_s_per_day <= TTN_FAIR_USE_S_PER_DAY,
            }
        )
    return rows
