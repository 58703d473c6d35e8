"""A test-only Solara app: the real page around a small seeded stand-in model.

It lets the browser tests check the page machinery (assets, panels, step,
reset) independently of the community model; `test_page_browser.py` checks
the real `gridcoop viz` page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mesa

from experiments.viz.components import component
from experiments.viz.page import GridcoopPage
from tests.experiments.viz.fakes import (
    Auction,
    Balance,
    Block,
    FakeLedger,
    Flow,
    Member,
    TokenPoint,
    Tx,
)


class StandInCommunity(mesa.Model):  # type: ignore[misc]
    """Households with seeded random flows and prices; one block per step."""

    def __init__(self, households: int = 12, regions: int = 3, seed: int = 1) -> None:
        super().__init__(seed=seed)
        self.region_ids = [f"region-{r}" for r in range(regions)]
        kinds = ("prosumer", "ev_owner", "dr_household")
        self.member_rows = [Member(f"h{i:03d}", kinds[i % 3], self.region_ids[i % regions])
                            for i in range(households)]
        self.flows: list[Flow] = []
        self.auction_rows: list[Auction] = []
        self.balance_rows: list[Balance] = []
        self.token_balances = {m.member_id: 0 for m in self.member_rows}
        self.token_points: list[TokenPoint] = []
        self.chain = FakeLedger([], [])

    def step(self) -> None:
        time_s = self.steps * 3600
        self.flows = [Flow(m.member_id, self.random.uniform(0, 2), self.random.uniform(0, 2))
                      for m in self.member_rows]
        self.auction_rows.append(Auction(time_s, round(self.random.uniform(0.04, 0.09), 4),
                                         self.random.uniform(1, 20)))
        imported = sum(f.import_kwh for f in self.flows)
        exported = sum(f.export_kwh for f in self.flows)
        self.balance_rows.append(Balance(time_s, exported + 1, imported + 1, imported, exported))
        for member_id in self.token_balances:
            self.token_balances[member_id] += self.random.randint(0, 10)
        self.token_points.append(TokenPoint(time_s, sum(self.token_balances.values())))
        self.chain.blocks.append(Block(self.steps, f"{self.random.getrandbits(256):064x}",
                                       time_s, len(self.member_rows)))
        self.chain.transactions.append(Tx(f"{self.steps:08d}", "trade", "h000", "h001", 500,
                                          "Wh"))

    @property
    def step_count(self) -> int:
        return int(self.steps)

    @property
    def time_s(self) -> int:
        return int(self.steps) * 3600

    def members(self) -> Sequence[Member]:
        return self.member_rows

    def regions(self) -> Sequence[str]:
        return self.region_ids

    def interval_flows(self) -> Sequence[Flow]:
        return self.flows

    def auctions(self) -> Sequence[Auction]:
        return self.auction_rows

    def energy_balance(self) -> Sequence[Balance]:
        return self.balance_rows

    def ledger(self) -> FakeLedger:
        return self.chain

    def tokens(self) -> Mapping[str, int]:
        return self.token_balances

    def token_history(self) -> Sequence[TokenPoint]:
        return self.token_points

    def ev(self) -> None:
        return None

    def dr(self) -> None:
        return None


PARAMS = {
    "households": {"type": "SliderInt", "value": 12, "min": 3, "max": 60, "step": 1,
                   "label": "Households"},
    "regions": 3,
    "seed": 1,
}


@component
def Page() -> None:
    GridcoopPage(StandInCommunity, PARAMS, name="gridcoop stand-in")
