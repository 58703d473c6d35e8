"""The SQLite replay guard: replays, regressions, gaps, joins, persistence."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.hardware_bridge.replay_guard import Admission, ReplayGuard

M = "70b3d57ed0000001"


def admit(
    guard: ReplayGuard,
    seq: int,
    energy: int,
    *,
    boot: int = 3,
    dedup: str | None = None,
    session: str | None = "s1",
    f_cnt: int | None = None,
) -> Admission:
    return guard.admit_reading(
        M, dedup, session, seq if f_cnt is None else f_cnt, boot, seq, energy, 0.0
    )


def test_first_reading_carries_the_energy_since_boot() -> None:
    guard = ReplayGuard()
    verdict = admit(guard, 412, 1_234_567)
    # seq 412 is the 413th frame of boot 3: the cumulative counter covers 413 intervals
    assert verdict.accepted and verdict.first_sighting
    assert (verdict.delta_vah, verdict.covered_intervals) == (1_234_567, 413)


def test_consecutive_readings_take_the_counter_difference() -> None:
    guard = ReplayGuard()
    admit(guard, 412, 1_234_567)
    verdict = admit(guard, 413, 1_234_809)
    assert verdict.accepted and (verdict.delta_vah, verdict.covered_intervals) == (242, 1)


def test_lost_frames_lose_no_energy() -> None:
    guard = ReplayGuard()
    admit(guard, 10, 1000)
    # frames 11 and 12 never arrive; 13 carries 1000 -> 1750: all 750 VAh, over 3 intervals
    verdict = admit(guard, 13, 1750)
    assert (verdict.delta_vah, verdict.covered_intervals, verdict.lost_seq) == (750, 3, 2)
    assert guard.lost_gaps(M) == [("fcnt", 10, 2), ("seq", 10, 2)]
    assert guard.counters["lost_readings"] == 2


def test_duplicates_replays_and_regressions_are_refused_without_changing_state() -> None:
    guard = ReplayGuard()
    admit(guard, 412, 1000, dedup="d1")
    before = guard.state(M)
    snapshot = (before.boot, before.seq, before.energy_vah, before.f_cnt) if before else None
    cases = [
        (admit(guard, 413, 1100, dedup="d1"), "duplicate"),  # QoS 1 redelivery
        (admit(guard, 412, 1000, dedup="d2", f_cnt=500), "replay"),  # same (boot, seq)
        (admit(guard, 400, 900, dedup="d3", f_cnt=501), "seq_regression"),
        (admit(guard, 413, 900, dedup="d4", f_cnt=502), "energy_regression"),
        (admit(guard, 5, 10, boot=2, dedup="d5", f_cnt=503), "boot_regression"),
        (admit(guard, 413, 1100, dedup="d6", f_cnt=412), "fcnt_replay"),
        (admit(guard, 413, 1100, dedup="d7", f_cnt=300), "fcnt_regression"),
    ]
    for verdict, reason in cases:
        assert not verdict.accepted and verdict.reason == reason, (verdict, reason)
    after = guard.state(M)
    assert after is not None and (after.boot, after.seq, after.energy_vah, after.f_cnt) == snapshot
    assert admit(guard, 413, 1100, dedup="d8").accepted  # the honest next frame still passes


def test_reboot_starts_a_new_boot_epoch() -> None:
    guard = ReplayGuard()
    admit(guard, 50, 5000)
    verdict = admit(guard, 0, 120, boot=4, session="s2")
    assert verdict.accepted and verdict.new_boot
    assert (verdict.delta_vah, verdict.covered_intervals) == (120, 1)
    assert guard.counters["reboots"] == 1


def test_counters_wrap_around() -> None:
    guard = ReplayGuard()
    admit(guard, 65_535, 2**32 - 10, boot=255)
    wrapped = admit(guard, 0, 5, boot=255, f_cnt=65_536)  # seq and energy wrap in boot 255
    assert wrapped.accepted and (wrapped.delta_vah, wrapped.covered_intervals) == (15, 1)
    new_epoch = admit(guard, 0, 7, boot=0, f_cnt=65_537)  # boot 255 -> 0 is a reboot
    assert new_epoch.accepted and new_epoch.new_boot


def test_network_session_and_join() -> None:
    guard = ReplayGuard()
    admit(guard, 100, 100, session="dev-a", f_cnt=1523)
    # a new devAddr (re-join) restarts the frame counter: fCnt 0 is fine there
    assert admit(guard, 101, 150, session="dev-b", f_cnt=0).accepted
    # a join event resets the expectation even within the same session id
    guard.reset_session(M, "dev-b")
    assert admit(guard, 102, 170, session="dev-b", f_cnt=0).accepted
    assert guard.counters["joins"] == 1


def test_acks_share_the_frame_counter() -> None:
    guard = ReplayGuard()
    admit(guard, 1, 10, f_cnt=7)
    assert guard.admit_network(M, "a1", "s1", 8, 0.0).accepted
    assert guard.admit_network(M, "a2", "s1", 8, 0.0).reason == "fcnt_replay"
    assert guard.admit_network(M, "a1", "s1", 9, 0.0).reason == "duplicate"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "guard.sqlite"
    guard = ReplayGuard(path)
    admit(guard, 412, 1_234_567, dedup="d1")
    guard.reject(M, "bad_mac", "tampered", 1.0)
    guard.close()
    reopened = ReplayGuard(path)
    assert admit(reopened, 413, 1_234_900, dedup="d1").reason == "duplicate"
    assert admit(reopened, 412, 1_234_567, dedup="d9", f_cnt=999).reason == "replay"
    verdict = admit(reopened, 413, 1_234_809, dedup="d10")
    assert verdict.accepted and verdict.delta_vah == 242
    assert reopened.counters["rejected.bad_mac"] == 1 and reopened.counters["accepted"] == 2
    assert reopened.rejections(1) == [(M, "bad_mac", "tampered", 1.0)]
    reopened.close()


def test_delivery_window_forgets_the_oldest_ids() -> None:
    guard = ReplayGuard(delivery_window=2)
    for seq, dedup in enumerate(("a", "b", "c"), start=1):
        admit(guard, seq, seq * 10, dedup=dedup)
    assert not guard.is_duplicate("a") and guard.is_duplicate("b") and guard.is_duplicate("c")


@settings(max_examples=60, deadline=None)
@given(
    increments=st.lists(st.integers(0, 5000), min_size=1, max_size=40),
    data=st.data(),
)
def test_accepted_energy_equals_the_counter_whatever_is_lost_or_repeated(
    increments: list[int], data: st.DataObject
) -> None:
    cumulative = [sum(increments[: i + 1]) for i in range(len(increments))]
    frames = list(enumerate(cumulative))
    delivered = data.draw(
        st.lists(st.sampled_from(frames), min_size=1, max_size=80), label="delivery order"
    )
    guard = ReplayGuard()
    accepted: list[int] = []
    total = 0
    for seq, energy in delivered:
        verdict = guard.admit_reading(M, None, None, None, 1, seq, energy, 0.0)
        if verdict.accepted:
            accepted.append(seq)
            total += verdict.delta_vah
    assert accepted == sorted(set(accepted))  # strictly increasing: no replay got through
    assert total == cumulative[accepted[-1]]  # nothing lost, nothing counted twice
