"""A meter's first reading on the ledger counts its energy since boot, whatever the guard saw.

The bridge acknowledges a message once the replay guard has committed it; if
the process is killed before the reading reaches the ledger, the guard has
moved on but the ledger has not. The first reading recorded after that must
still bring in everything since boot, or the ledger would fall short of the
device's own counter.
"""

from __future__ import annotations

from gridcoop.experiments.live.metering import MeterTrack, RealMeters
from gridcoop.hardware_bridge.readings import MeterReading


def reading(seq: int, vah: int, guard_delta_wh: int) -> MeterReading:
    return MeterReading(meter_id="70b3d57ed0000001", interval_start_s=0, interval_s=900,
                        import_wh=guard_delta_wh, export_wh=0, mac_verified=True, boot=1,
                        seq=seq, source="chirpstack", extra={"energy_vah": float(vah)})


def test_first_recorded_reading_counts_since_boot() -> None:
    track = MeterTrack(node="h001", device="70b3d57ed0000001")
    meters = RealMeters([track], interval_s=900, epoch_s=0)
    # the guard already accepted seq 0-4 (never recorded): its delta for seq 5 is 10 Wh
    assert meters._energy(track, reading(5, 146, 10)) == (146, "")
    assert meters._energy(track, reading(6, 150, 4)) == (4, "")
