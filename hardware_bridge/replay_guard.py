"""The replay guard: which frames are new, which are replays, and what was lost.

Why persisted (SQLite): after a bridge restart, a QoS-1 redelivery or a replay
by anyone with broker access must still be refused, and the cumulative energy
baseline must survive so the next reading's energy is the counter difference.

Per meter it keeps the last application ``(boot, seq)`` (covered by the device
MAC, so even a compromised network server cannot replay), the last network
``(session, f_cnt)``, the last cumulative energy, and a window of delivery ids
(ChirpStack ``deduplicationId`` / TTN ``as:up`` id). A refused frame changes no
state; gaps are recorded as lost frames.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

from gridcoop.hardware_bridge.errors import StoreError

SEQ_MOD = 1 << 16
BOOT_MOD = 1 << 8
ENERGY_MOD = 1 << 32
FCNT_MOD = 1 << 32  # LoRaWAN FCntUp is 32 bits (16 on the air, extended by the server)
MAX_SESSION_CHARS = 64  # a DevAddr is 8 hex digits; TTN session keys ids are shorter than this
MAX_TEXT_CHARS = 200  # meter ids and details kept in the rejection log

# rejection reasons (the ``reason`` of an Admission, and counter names)
DUPLICATE = "duplicate"
REPLAY = "replay"
SEQ_REGRESSION = "seq_regression"
BOOT_REGRESSION = "boot_regression"
ENERGY_REGRESSION = "energy_regression"
FCNT_REPLAY = "fcnt_replay"
FCNT_REGRESSION = "fcnt_regression"
BAD_FCNT = "bad_fcnt"
BAD_COUNTER = "bad_counter"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meter_state (
    meter_id TEXT PRIMARY KEY, boot INTEGER, seq INTEGER, energy_vah INTEGER,
    session TEXT, f_cnt INTEGER, last_s REAL, accepted INTEGER, rejected INTEGER,
    lost_frames INTEGER);
CREATE TABLE IF NOT EXISTS seen_delivery (dedup_id TEXT PRIMARY KEY, meter_id TEXT);
CREATE TABLE IF NOT EXISTS rejection (
    id INTEGER PRIMARY KEY, meter_id TEXT, reason TEXT, detail TEXT, at_s REAL);
CREATE TABLE IF NOT EXISTS lost_gap (
    id INTEGER PRIMARY KEY, meter_id TEXT, kind TEXT, after INTEGER, count INTEGER, at_s REAL);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER);
"""


def storable(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to ``limit`` characters and made valid UTF-8 for SQLite.

    JSON may carry lone surrogates (``"\\ud800"``) that SQLite cannot store; one of
    them in a refusal's detail must not make every later commit fail.
    """
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


@dataclass(slots=True)
class MeterState:
    boot: int | None = None
    seq: int = 0
    energy_vah: int = 0
    session: str | None = None
    f_cnt: int | None = None
    last_s: float = 0.0
    accepted: int = 0
    rejected: int = 0
    lost_frames: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    """The guard's verdict on one frame."""

    accepted: bool
    reason: str = ""
    detail: str = ""
    first_sighting: bool = False
    new_boot: bool = False
    lost_seq: int = 0  # readings missing between the last accepted one and this one
    lost_fcnt: int = 0  # network frames missing (readings and acks)
    delta_vah: int = 0  # energy since the last accepted reading (or since boot)
    covered_intervals: int = 1  # metering intervals this reading's energy spans


class ReplayGuard:
    """Per-meter counters and delivery ids, in memory, flushed to SQLite by ``commit``."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        delivery_window: int = 200_000,
        rejection_log: int = 20_000,
    ) -> None:
        self.path = str(path)
        self._window = delivery_window
        self._rejection_log = rejection_log
        self._state: dict[str, MeterState] = {}
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                ids = self._load(delivery_window)
            except BaseException:
                self._db.close()
                raise
        except (sqlite3.Error, OSError, TypeError, ValueError) as exc:
            raise StoreError(
                f"replay guard {self.path}: cannot open ({exc}); check the path, its "
                "permissions and free space, or move a damaged file away"
            ) from exc
        self._seen: set[str] = {row[0] for row in ids}
        self._seen_order: deque[str] = deque(row[0] for row in reversed(ids))
        self._dirty: set[str] = set()
        self._new_ids: list[tuple[str, str]] = []
        self._new_rejections: list[tuple[str, str, str, float]] = []
        self._new_gaps: list[tuple[str, str, int, int, float]] = []
        self._counter_base = Counter(self.counters)

    def _load(self, delivery_window: int) -> list[tuple[str]]:
        """Schema, meter states and counters; the most recent delivery ids."""
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        for row in db.execute(
            "SELECT meter_id, boot, seq, energy_vah, session, f_cnt, last_s, accepted, rejected,"
            " lost_frames FROM meter_state"
        ):
            self._state[str(row[0])] = MeterState(*row[1:])
        self.counters: Counter[str] = Counter(
            {str(k): int(v) for k, v in db.execute("SELECT name, value FROM counter")}
        )
        return db.execute(
            "SELECT dedup_id FROM seen_delivery ORDER BY rowid DESC LIMIT ?", (delivery_window,)
        ).fetchall()

    # -- checks (no state change) -------------------------------------------------
    def is_duplicate(self, dedup_id: str | None) -> bool:
        return dedup_id is not None and dedup_id != "" and storable(dedup_id) in self._seen

    def _network_verdict(
        self, state: MeterState | None, session: str | None, f_cnt: int | None
    ) -> tuple[str, str, int]:
        """(reason, detail, lost) for the network frame counter; reason "" when fine."""
        if f_cnt is not None and not 0 <= f_cnt < FCNT_MOD:
            return BAD_FCNT, f"fCnt {str(f_cnt)[:30]} is outside the 32-bit counter", 0
        if session is not None and len(session) > MAX_SESSION_CHARS:
            return BAD_FCNT, f"session id of {len(session)} characters", 0
        if f_cnt is None or state is None or state.f_cnt is None or session != state.session:
            return "", "", 0
        if f_cnt == state.f_cnt:
            return FCNT_REPLAY, f"fCnt {f_cnt} already seen in session {session}", 0
        if f_cnt < state.f_cnt:
            return FCNT_REGRESSION, f"fCnt {f_cnt} < last {state.f_cnt} in session {session}", 0
        return "", "", f_cnt - state.f_cnt - 1

    def admit_network(
        self,
        meter_id: str,
        dedup_id: str | None,
        session: str | None,
        f_cnt: int | None,
        at_s: float,
    ) -> Admission:
        """Check and record a frame that carries no reading (a command ack)."""
        if self.is_duplicate(dedup_id):
            return Admission(False, DUPLICATE, f"delivery {dedup_id} already processed")
        state = self._state.get(meter_id)
        reason, detail, lost = self._network_verdict(state, session, f_cnt)
        if reason:
            return Admission(False, reason, detail)
        state = state or self._state.setdefault(meter_id, MeterState())
        self._apply_network(meter_id, state, dedup_id, session, f_cnt, lost, at_s)
        return Admission(True, lost_fcnt=lost)

    def admit_reading(
        self,
        meter_id: str,
        dedup_id: str | None,
        session: str | None,
        f_cnt: int | None,
        boot: int,
        seq: int,
        energy_vah: int,
        at_s: float,
    ) -> Admission:
        """Check one authenticated reading; when accepted, advance the meter's state."""
        if self.is_duplicate(dedup_id):
            return Admission(False, DUPLICATE, f"delivery {dedup_id} already processed")
        if not (0 <= boot < BOOT_MOD and 0 <= seq < SEQ_MOD and 0 <= energy_vah < ENERGY_MOD):
            return Admission(False, BAD_COUNTER, "(boot, seq, VAh) outside the frame's widths")
        state = self._state.get(meter_id)
        reason, detail, lost_fcnt = self._network_verdict(state, session, f_cnt)
        if reason:
            return Admission(False, reason, detail)
        first = state is None or state.boot is None
        new_boot = False
        lost_seq = 0
        if state is None or state.boot is None:
            delta, covered = energy_vah, seq + 1
        else:
            boot_step = (boot - state.boot) % BOOT_MOD
            if boot_step == 0:
                seq_step = (seq - state.seq) % SEQ_MOD
                if seq_step == 0:
                    return Admission(False, REPLAY, f"(boot {boot}, seq {seq}) already accepted")
                if seq_step >= SEQ_MOD // 2:
                    return Admission(
                        False, SEQ_REGRESSION, f"seq {seq} < last {state.seq} in boot {boot}"
                    )
                delta = (energy_vah - state.energy_vah) % ENERGY_MOD
                if delta >= ENERGY_MOD // 2:
                    return Admission(
                        False,
                        ENERGY_REGRESSION,
                        f"energy {energy_vah} VAh < last {state.energy_vah} VAh in boot {boot}",
                    )
                lost_seq, covered = seq_step - 1, seq_step
            elif boot_step < BOOT_MOD // 2:
                new_boot, delta, covered = True, energy_vah, seq + 1
            else:
                return Admission(False, BOOT_REGRESSION, f"boot {boot} is older than {state.boot}")
        state = state or self._state.setdefault(meter_id, MeterState())
        self._apply_network(meter_id, state, dedup_id, session, f_cnt, lost_fcnt, at_s)
        if lost_seq:
            state.lost_frames += lost_seq
            self._new_gaps.append((meter_id, "seq", state.seq, lost_seq, at_s))
            self.counters["lost_readings"] += lost_seq
        if new_boot:
            self.counters["reboots"] += 1
        state.boot, state.seq, state.energy_vah = boot, seq, energy_vah
        state.accepted += 1
        self.counters["accepted"] += 1
        return Admission(
            True,
            first_sighting=first,
            new_boot=new_boot,
            lost_seq=lost_seq,
            lost_fcnt=lost_fcnt,
            delta_vah=delta,
            covered_intervals=covered,
        )

    # -- state changes -------------------------------------------------------------
    def _apply_network(
        self,
        meter_id: str,
        state: MeterState,
        dedup_id: str | None,
        session: str | None,
        f_cnt: int | None,
        lost: int,
        at_s: float,
    ) -> None:
        if f_cnt is not None:
            if lost:
                self._new_gaps.append((meter_id, "fcnt", state.f_cnt or 0, lost, at_s))
                self.counters["lost_network_frames"] += lost
            state.session = None if session is None else storable(session)
            state.f_cnt = f_cnt
        state.last_s = at_s
        if dedup_id:
            self._remember(storable(dedup_id), meter_id)
        self._dirty.add(meter_id)

    def _remember(self, dedup_id: str, meter_id: str) -> None:
        self._seen.add(dedup_id)
        self._seen_order.append(dedup_id)
        self._new_ids.append((dedup_id, meter_id))
        while len(self._seen_order) > self._window:
            self._seen.discard(self._seen_order.popleft())

    def reject(self, meter_id: str, reason: str, detail: str, at_s: float) -> None:
        """Count and log a refused frame (the caller's reason: bad_mac, unknown_device, ...)."""
        self.counters[f"rejected.{reason}"] += 1
        self._new_rejections.append((storable(meter_id), reason, storable(detail), at_s))
        state = self._state.get(meter_id)
        if state is not None:
            state.rejected += 1
            self._dirty.add(meter_id)

    def reset_session(self, meter_id: str, session: str | None) -> None:
        """A (re-)join: the network frame counter restarts in a new session.

        Join events are not authenticated end to end, so one for a meter with no
        accepted reading is only counted: it creates no state (nothing to reset).
        """
        self.counters["joins"] += 1
        state = self._state.get(meter_id)
        if state is None:
            return
        state.session, state.f_cnt = storable(session or "", MAX_SESSION_CHARS), None
        self._dirty.add(meter_id)

    def reset_meter(self, meter_id: str) -> None:
        """Forget a meter's counters (after replacing its board or wiping its EEPROM)."""
        self._state.pop(meter_id, None)
        self._dirty.discard(meter_id)
        self._db.execute("DELETE FROM meter_state WHERE meter_id = ?", (meter_id,))

    def state(self, meter_id: str) -> MeterState | None:
        return self._state.get(meter_id)

    def commit(self) -> None:
        """Write everything changed since the last commit in one transaction."""
        if not (self._dirty or self._new_ids or self._new_rejections or self._new_gaps) and (
            self.counters == self._counter_base
        ):
            return
        try:
            self._write()
        except (sqlite3.Error, OSError, OverflowError, ValueError) as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(
                f"replay guard {self.path}: cannot write ({exc}); nothing was lost, the "
                "changes are kept and written at the next commit"
            ) from exc
        self._dirty.clear()
        self._new_ids.clear()
        self._new_rejections.clear()
        self._new_gaps.clear()
        self._counter_base = Counter(self.counters)

    def _write(self) -> None:
        db = self._db
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO meter_state VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    m,
                    s.boot,
                    s.seq,
                    s.energy_vah,
                    s.session,
                    s.f_cnt,
                    s.last_s,
                    s.accepted,
                    s.rejected,
                    s.lost_frames,
                )
                for m in self._dirty
                for s in (self._state[m],)
            ],
        )
        db.executemany("INSERT OR IGNORE INTO seen_delivery VALUES (?, ?)", self._new_ids)
        db.executemany(
            "INSERT INTO rejection (meter_id, reason, detail, at_s) VALUES (?,?,?,?)",
            self._new_rejections,
        )
        db.executemany(
            "INSERT INTO lost_gap (meter_id, kind, after, count, at_s) VALUES (?,?,?,?,?)",
            self._new_gaps,
        )
        db.executemany("INSERT OR REPLACE INTO counter VALUES (?, ?)", self.counters.items())
        if self._new_ids:
            db.execute(
                "DELETE FROM seen_delivery"
                " WHERE rowid <= (SELECT MAX(rowid) FROM seen_delivery) - ?",
                (self._window,),
            )
        if self._new_rejections:
            db.execute(
                "DELETE FROM rejection WHERE id <= (SELECT MAX(id) FROM rejection) - ?",
                (self._rejection_log,),
            )
        db.execute("COMMIT")

    def rejections(self, limit: int = 100) -> list[tuple[str, str, str, float]]:
        """The most recent refused frames: (meter_id, reason, detail, at_s), newest first."""
        self.commit()
        return self._db.execute(
            "SELECT meter_id, reason, detail, at_s FROM rejection ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()

    def lost_gaps(self, meter_id: str) -> list[tuple[str, int, int]]:
        """Recorded gaps of one meter: (kind "seq"|"fcnt", last counter before, frames lost)."""
        self.commit()
        return self._db.execute(
            "SELECT kind, after, count FROM lost_gap WHERE meter_id = ? ORDER BY id", (meter_id,)
        ).fetchall()

    def close(self) -> None:
        self.commit()
        self._db.close()
