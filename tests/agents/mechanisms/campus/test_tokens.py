"""The token desk: each footprint request checked, accepted once, refused with its reason."""

from __future__ import annotations

import numpy as np
import pytest

from gridcoop.agents.bus.messages import MeterReading
from gridcoop.agents.mechanisms.campus.footprint import Attendance, footprint
from gridcoop.agents.mechanisms.campus.tokens import TokenDesk, request_id, token_request
from tests.agents.mechanisms.campus.helpers import presence_frame, readings_frame


def _desk() -> TokenDesk:
    metered = {("room-1", 33): 1000, ("room-2", 33): 400}
    return TokenDesk({"A": "acc-a", "B": "acc-b", "C": "acc-c"},
                     lambda room, k: metered.get((room, k)),
                     {"reader-1": frozenset({"room-1"}), "reader-2": frozenset({"room-2"})})


def test_a_request_is_accepted_once_and_bad_ones_are_refused_with_their_reason() -> None:
    desk = _desk()
    first = desk.check("reader-1", request_id("room-1", 33, "A"), "A", 667, "m1")
    assert first is not None
    refusals = {
        "duplicate": ("reader-1", request_id("room-1", 33, "A"), "A", 1, "m2"),
        "unknown card": ("reader-1", request_id("room-1", 33, "Z"), "Z", 1, "m3"),
        "wrong reader": ("reader-2", request_id("room-1", 33, "B"), "B", 1, "m4"),
        "mismatch": ("reader-1", request_id("room-1", 33, "B"), "C", 1, "m5"),
        "malformed": ("reader-1", "footprint/room-1/x/B", "B", 1, "m6"),
        "empty": ("reader-1", request_id("room-1", 33, "B"), "B", 0, "m11"),
        "not metered": ("reader-1", request_id("room-1", 34, "B"), "B", 1, "m7"),
        # 1000 Wh metered, 667 claimed: 334 more is one too many
        "over the meter": ("reader-1", request_id("room-1", 33, "B"), "B", 334, "m8"),
    }
    for reason, args in refusals.items():
        with pytest.raises(ValueError, match=f"^{reason}:"):
            desk.check(*args)
    # the refusals lost nothing valid: B's true share still fits exactly
    second = desk.check("reader-1", request_id("room-1", 33, "B"), "B", 333, "m9")
    third = desk.check("reader-2", request_id("room-2", 33, "C"), "C", 400, "m10")
    assert [(a.room, a.person, a.tokens) for a in (first, second, third) if a] == [
        ("room-1", "A", 667), ("room-1", "B", 333), ("room-2", "C", 400)]
    assert list(desk.taken) == [request_id("room-1", 33, "A"), request_id("room-1", 33, "B"),
                                request_id("room-2", 33, "C")]
    assert desk.refused == {reason: 1 for reason in refusals}
    assert desk.claimed_wh == {("room-1", 33): 1000, ("room-2", 33): 400}


def test_a_resend_of_the_same_message_is_neither_new_nor_refused() -> None:
    desk = _desk()
    rid = request_id("room-1", 33, "A")
    assert desk.check("reader-1", rid, "A", 10, "reader-1:7") is not None
    assert desk.check("reader-1", rid, "A", 10, "reader-1:7") is None  # the bus's retry
    assert len(desk.taken) == 1 and not desk.refused


def test_the_bus_policy_takes_reward_requests_only() -> None:
    desk = _desk()
    message = token_request("room-1", 33, 900, "A", 500)
    message.sender, message.id = "reader-1", "reader-1:1"
    assert message.reward_id == "footprint/room-1/33/A" and message.sim_time_s == 34 * 900
    assert desk.policy(message) is None
    assert desk.policy(message.model_copy(update={"id": "reader-1:2"})) == (
        "duplicate: 'footprint/room-1/33/A' was already accepted")
    reading = MeterReading(sender="reader-1", meter_id="m", interval_start_s=0, interval_s=900,
                           import_wh=1, export_wh=0)
    assert "not meter_reading" in str(desk.policy(reading))


def test_splitting_each_interval_as_it_is_read_equals_the_whole_term() -> None:
    readings = readings_frame("room-1", {}, {33: 1000, 34: 900, 35: 7})
    presence = presence_frame([("A", "student", "room-1", 8.25, 8.9, 0),
                               ("B", "teacher", "room-1", 8.375, 8.75, 0),
                               ("C", "student", "room-1", 8.3, 8.4, 0)])
    whole = footprint(readings, presence, 900, seed=3).tokens
    att = Attendance.of(presence, 900, ["room-1"], seed=3)
    for k, wh in ((33, 1000), (34, 900), (35, 7)):
        rows = att.rows_of(k)
        shares = att.split(rows, np.full(rows.stop - rows.start, wh))
        expected = whole[whole["interval"] == k].set_index("person_id")["tokens"]
        assert dict(zip(att.people[att.person[rows]], shares.tolist(), strict=True)) == \
            expected.to_dict()
        assert shares.sum() == wh


def test_each_row_splits_its_own_rooms_reading() -> None:
    """Two people in room-1, none in room-2, two rooms: room-1's 100 Wh are split, never
    room-2's 7 (one value per row, not per room, whatever the counts)."""
    presence = presence_frame([("A", "student", "room-1", 8.25, 8.5, 0),
                               ("B", "student", "room-1", 8.25, 8.5, 0)])
    att = Attendance.of(presence, 900, ["room-1", "room-2"], seed=1)
    rows = att.rows_of(33)
    room_wh = np.array([100, 7])
    shares = att.split(rows, room_wh[att.room[rows]])
    assert shares.sum() == 100 and sorted(shares.tolist()) == [50, 50]
