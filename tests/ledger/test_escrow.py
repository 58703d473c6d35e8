"""Hand-worked escrow cases with exact balances (both signing policies)."""

from __future__ import annotations

import pytest

from gridcoop.ledger import GRID_ACCOUNT, EscrowError, RoleError, SettlementError
from tests.ledger.conftest import OPENING_EUR_U, Community

RETAIL_EUR_U_PER_KWH = 95_000  # 0.095 EUR/kWh, the pilot's peak buy tariff


def _traded(c: Community, energy_wh: int, price: int, listing: str = "h1") -> str:
    """Open a listing, alice offers, bob bids, close, trade; return the escrow id."""
    c.market.open_listing(listing, 3600, 7200)
    c.wallet("alice").offer(listing, energy_wh, 80_000)
    c.wallet("bob").bid(listing, energy_wh, 120_000)
    c.market.close_listing(listing)
    return c.market.trade(listing, c.accounts["alice"], c.accounts["bob"], energy_wh,
                          price).txid_hex


def _conserved(c: Community) -> None:
    """Every eur_u is in a balance (the grid's may be negative) or an escrow."""
    state = c.book.state
    held = sum(v for (_a, asset), v in state.balances.items() if asset == "eur_u")
    assert held + state.locked("eur_u") == state.supply["eur_u"]


def test_partial_delivery_pays_delivered_refunds_rest_records_shortfall(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    # 500 Wh x 85,000 eur_u/kWh / 1000 = 42,500 eur_u locked from bob
    assert c.balance("bob") == OPENING_EUR_U - 42_500 == 957_500
    assert c.book.escrow(escrow).remaining == 42_500  # type: ignore[union-attr]
    c.market.settle(escrow, 400)
    # pay 42,500 x 400 / 500 = 34,000 to alice; refund 42,500 - 34,000 = 8,500 to bob
    assert c.balance("alice") == OPENING_EUR_U + 34_000 == 1_034_000
    assert c.balance("bob") == 957_500 + 8_500 == 966_000
    assert c.book.escrow(escrow) is None
    shortfall = c.book.shortfall(escrow)
    assert shortfall is not None and shortfall.energy_wh == 100
    assert shortfall.buyer == c.accounts["bob"] and shortfall.seller == c.accounts["alice"]
    # bob buys the missing 100 Wh from the grid: 100 x 95,000 / 1000 = 9,500 eur_u
    c.market.grid_settlement(c.accounts["bob"], "import", 100, 9_500, escrow)
    assert c.balance("bob") == 966_000 - 9_500 == 956_500
    assert c.book.balance(GRID_ACCOUNT) == 9_500
    assert c.book.shortfall(escrow) is None
    with pytest.raises(SettlementError, match="no open shortfall"):
        c.market.grid_settlement(c.accounts["bob"], "import", 100, 9_500, escrow)
    _conserved(c)


def test_full_delivery_pays_everything_and_leaves_no_shortfall(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    c.market.settle(escrow, 500)
    assert c.balance("alice") == 1_042_500  # 1,000,000 + 42,500
    assert c.balance("bob") == 957_500
    assert c.book.shortfall(escrow) is None


def test_over_delivery_is_capped_at_the_traded_energy(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    c.market.settle(escrow, 650)
    assert c.balance("alice") == 1_042_500
    assert c.balance("bob") == 957_500


def test_nothing_delivered_refunds_all_and_records_the_whole_shortfall(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    c.market.settle(escrow, 0)
    assert c.balance("alice") == OPENING_EUR_U
    assert c.balance("bob") == OPENING_EUR_U
    assert c.book.shortfall(escrow).energy_wh == 500  # type: ignore[union-attr]


def test_rounding_goes_down_to_the_micro_euro(c: Community) -> None:
    escrow = _traded(c, 333, 100_001)
    # 333 x 100,001 = 33,300,333 -> // 1000 = 33,300 eur_u locked
    assert c.balance("bob") == 966_700
    c.market.settle(escrow, 111)
    # pay 33,300 x 111 // 333 = 11,100; refund 33,300 - 11,100 = 22,200
    assert c.balance("alice") == 1_011_100
    assert c.balance("bob") == 966_700 + 22_200 == 988_900
    _conserved(c)


def test_seller_can_be_charged_for_the_shortfall_as_an_export_deficit(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    c.market.settle(escrow, 300)
    # the shortfall (200 Wh) may be settled on the seller instead
    c.market.grid_settlement(c.accounts["alice"], "import", 200, 19_000, escrow)
    assert c.balance("alice") == OPENING_EUR_U + 25_500 - 19_000  # 42,500 x 300/500 = 25,500
    with pytest.raises(SettlementError, match="neither buyer nor seller"):
        escrow2 = _traded(c, 100, 85_000, "h2")
        c.market.settle(escrow2, 0)
        c.market.grid_settlement(c.accounts["carol"], "import", 100, 9_500, escrow2)


def test_grid_export_credits_the_member_and_the_grid_goes_negative(c: Community) -> None:
    # carol feeds 2,000 Wh at 0.039 EUR/kWh: 2,000 x 39,000 / 1000 = 78,000 eur_u
    c.market.grid_settlement(c.accounts["carol"], "export", 2_000, 78_000)
    assert c.balance("carol") == 1_078_000
    assert c.book.balance(GRID_ACCOUNT) == -78_000
    _conserved(c)


def test_generic_escrow_release_refund_and_double_release(c: Community) -> None:
    lock = c.wallet("alice").escrow_lock(c.accounts["carol"], "eur_u", 10_000, memo="deposit")
    escrow = lock.txid_hex
    assert c.balance("alice") == 990_000
    c.wallet("alice").escrow_release(escrow, 4_000)  # the payer may release
    assert c.balance("carol") == 1_004_000
    with pytest.raises(EscrowError, match="beyond its amount"):
        c.wallet("alice").escrow_release(escrow, 6_001)
    with pytest.raises(RoleError, match="payer"):
        c.wallet("carol").escrow_release(escrow, 1)  # the payee may not pay itself
    c.wallet("carol").escrow_refund(escrow, 6_000)  # the payee may refund
    assert c.balance("alice") == 996_000
    assert c.book.escrow(escrow) is None
    with pytest.raises(EscrowError, match="not open"):
        c.wallet("alice").escrow_release(escrow, 1)  # double release
    with pytest.raises(EscrowError, match="not open"):
        c.market.escrow_refund(escrow, 1)
    _conserved(c)


def test_settle_refuses_partial_escrows_and_non_energy_escrows(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    c.market.escrow_release(escrow, 1_000)
    with pytest.raises(EscrowError, match="partly released"):
        c.market.settle(escrow, 500)
    deposit = c.wallet("alice").escrow_lock(c.accounts["carol"], "eur_u", 500).txid_hex
    with pytest.raises(EscrowError, match="not for energy"):
        c.market.settle(deposit, 10)


def test_settle_twice_is_refused(c: Community) -> None:
    escrow = _traded(c, 500, 85_000)
    c.market.settle(escrow, 500)
    with pytest.raises(EscrowError):
        c.market.settle(escrow, 500)
    assert c.balance("alice") == 1_042_500


@pytest.fixture
def c(community: Community) -> Community:
    return community
