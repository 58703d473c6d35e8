"""The campus cases inside a model run: meters in, ledger tokens, tables and reports out.

Why per interval for the footprint: each metering interval's tokens are fixed
once the meters have read it, so as each classroom reading arrives the
extension splits it among the people present (``Attendance.split``), passes
each person's share as a token request through the token desk (the same
checks as requests arriving over the bus) and writes one ``mint`` of
``token`` (1 token = 1 Wh, memo "footprint <room> <interval start>") per
person and interval into the block sealed with that reading, as the pilot's
requests reached its server every 15 minutes. Students and teachers are
registered on the ledger as pseudonymous members (their grid id is the card
id; the ledger keeps only its salted digest).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridcoop.agents.mechanisms.campus.footprint import Attendance, FootprintResult, footprint
from gridcoop.agents.mechanisms.campus.lighting import LightingResult, lighting_waste
from gridcoop.agents.mechanisms.campus.report import render_footprint_report, render_lighting_report
from gridcoop.agents.mechanisms.campus.scenario import CampusCase, CampusCasePhysics
from gridcoop.agents.mechanisms.campus.tokens import (
    TOKEN_ASSET,
    TokenDesk,
    request_id,
    token_memo,
)
from gridcoop.agents.model.extensions import CommunityExtension
from gridcoop.ledger.identity import Member
from gridcoop.ledger.transactions import Mint

if TYPE_CHECKING:
    from gridcoop.agents.model.community import CommunityModel


class CampusExtension(CommunityExtension):
    """Collects what the classroom meters read, interval by interval."""

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        sc, physics = model.scenario, model.population.physics
        if not isinstance(sc, CampusCase) or not isinstance(physics, CampusCasePhysics):
            raise TypeError(f"{type(self).__name__} needs a campus-footprint or "
                            "campus-lighting scenario")
        self.sc = sc
        self.term = physics.term
        self.rooms = physics.term.rooms
        self.clock = model.clock
        self.metered_wh = np.full((self.clock.total_steps, len(self.rooms)), -1, dtype=np.int64)

    def _capture(self, step: int) -> None:
        if 0 <= step < self.clock.total_steps and self.metered_wh[step, 0] < 0:
            self.metered_wh[step] = self.model.last_import_wh[: len(self.rooms)]

    def before_seal(self, k: int, now_s: int) -> None:
        self._capture(k - 1)

    def end_of_day(self, day: int) -> None:
        self._capture((day + 1) * self.clock.steps_per_day - 1)

    def readings(self, first: int, last: int) -> pd.DataFrame:
        """The metered readings of steps ``first..last-1`` as the campus functions take them."""
        steps = np.arange(first, last)
        n = len(self.rooms)
        return pd.DataFrame({
            "classroom": np.tile(np.array(self.rooms, dtype=object), steps.size),
            "interval": np.repeat(steps, n),
            "interval_start_s": np.repeat(steps * self.clock.step_s, n),
            "energy_wh": self.metered_wh[first:last].ravel(),
            "lighting_wh": self.term.lighting_wh[first:last].ravel(),
        })


class FootprintExtension(CampusExtension):
    """Case 1: per interval, tokens equal to the metered Wh, to the people present."""

    name = "campus-footprint"

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        accounts = model.accounts
        people = pd.concat([
            pd.DataFrame({"person_id": [f"s{i:0{len(str(self.term.students))}d}"
                                        for i in range(1, self.term.students + 1)],
                          "role": "student"}),
            pd.DataFrame({"person_id": [f"t{i:0{len(str(self.term.teachers))}d}"
                                        for i in range(1, self.term.teachers + 1)],
                          "role": "teacher"})], ignore_index=True)
        self.people = people
        self.account: dict[str, str] = {}
        for person in people["person_id"]:
            member, _ = Member.from_seed(accounts.master, f"campus/{person}", "", "", "member")
            self.account[person] = accounts.register_account(member)
        self.attendance = Attendance.of(self.term.presence, self.clock.step_s, self.rooms,
                                        seed=self.sc.seed)
        self.column = {room: i for i, room in enumerate(self.rooms)}
        self.room_column = np.array([self.column[room] for room in self.attendance.rooms],
                                    dtype=np.int64)
        self.desk = TokenDesk(self.account, self._metered)
        self.minted_to = 0  # the next interval whose tokens are to be minted
        self.ledger_txs = 0
        self.written_tokens = 0
        self.result: FootprintResult | None = None

    def _metered(self, room: str, interval: int) -> int | None:
        wh = int(self.metered_wh[interval, self.column[room]])
        return None if wh < 0 else wh

    def _mint_read(self) -> None:
        """Mint the tokens of every interval read since the last call, one request each."""
        acc, att, batch = self.model.accounts, self.attendance, []
        while (self.minted_to < self.clock.total_steps
               and self.metered_wh[self.minted_to, 0] >= 0):
            k = self.minted_to
            rows = att.rows_of(k)
            shares = att.split(rows, self.metered_wh[k, self.room_column[att.room[rows]]])
            for room, person, amount in zip(att.room[rows].tolist(), att.person[rows].tolist(),
                                            shares.tolist(), strict=True):
                if amount <= 0:
                    continue
                name, card = att.rooms[room], str(att.people[person])
                self.desk.check("", request_id(name, k, card), card, amount)
                batch.append(acc.tx(Mint, acc.authority, self.account[card], TOKEN_ASSET,
                                    amount, token_memo(name, k, self.clock.step_s)))
                self.written_tokens += amount
            self.minted_to += 1
        acc.submit(batch)
        self.ledger_txs += len(batch)

    def before_seal(self, k: int, now_s: int) -> None:
        super().before_seal(k, now_s)
        self._mint_read()

    def end_of_day(self, day: int) -> None:
        super().end_of_day(day)
        self._mint_read()

    def finish(self) -> None:
        self.result = footprint(self.readings(0, self.clock.total_steps), self.term.presence,
                                self.clock.step_s, seed=self.sc.seed)
        written = self.written_tokens
        if written != int(self.result.tokens["tokens"].sum()):
            raise RuntimeError(f"footprint: {written} tokens on the ledger, "
                               f"{int(self.result.tokens['tokens'].sum())} in the final split")

    def summary(self) -> dict[str, Any]:
        if self.result is None:
            return {}
        r = self.result
        return {"footprint_people": len(self.people),
                "footprint_sessions": len(self.term.sessions),
                "footprint_metered_wh": r.metered_wh,
                "footprint_tokens": r.attributed_wh,
                "footprint_unattributed_wh": int(r.unattributed["energy_wh"].sum()),
                "footprint_ledger_txs": self.ledger_txs}

    def tables(self) -> dict[str, pd.DataFrame]:
        if self.result is None:
            return {}
        r = self.result
        per_interval = (r.tokens.groupby(["interval", "classroom"], as_index=False)["tokens"].sum())
        return {"footprint_per_person": r.per_person,
                "footprint_per_interval": per_interval,
                "footprint_unattributed": r.unattributed}

    def write_files(self, out: Path) -> list[Path]:
        if self.result is None:
            return []
        path = out / "footprint_report.md"
        path.write_text(render_footprint_report(self.result, top=self.sc.top), encoding="utf-8")
        return [path]


class LightingExtension(CampusExtension):
    """Case 3: empty-room lighting, blamed on the class before; rankings and € per year."""

    name = "campus-lighting"

    def __init__(self, model: CommunityModel) -> None:
        super().__init__(model)
        self.result: LightingResult | None = None

    def finish(self) -> None:
        self.result = lighting_waste(
            self.readings(0, self.clock.total_steps), self.term.sessions, self.term.presence,
            self.clock.step_s, self.term.config.start_date, self.sc.price_eur_per_kwh,
            top=self.sc.top, seed=self.sc.seed)

    def summary(self) -> dict[str, Any]:
        if self.result is None:
            return {}
        r = self.result
        waste = r.waste_by_classroom
        return {"lighting_sessions": len(self.term.sessions),
                "lighting_gap_wh": int(r.gaps["gap_wh"].sum()),
                "lighting_unattributed_wh": r.unattributed_wh,
                "lighting_waste_kwh_per_classroom_year": round(
                    float(waste["waste_kwh_per_year"].mean()), 3),
                "lighting_waste_eur_per_classroom_year": round(
                    float(waste["waste_eur_per_year"].mean()), 2)}

    def tables(self) -> dict[str, pd.DataFrame]:
        if self.result is None:
            return {}
        r = self.result
        return {"lighting_gaps": r.gaps, "lighting_per_session": r.per_session,
                "lighting_per_person": r.per_person, "lighting_rankings": r.rankings,
                "lighting_waste_by_classroom": r.waste_by_classroom}

    def write_files(self, out: Path) -> list[Path]:
        if self.result is None:
            return []
        path = out / "lighting_report.md"
        path.write_text(render_lighting_report(self.result), encoding="utf-8")
        return [path]
