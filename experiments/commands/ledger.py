"""``gridcoop ledger``: verify, show and export a ledger file.

``verify`` exits 0 only when the whole chain checks; otherwise it exits 1 and
names the first bad block and why (exit 2 when the file cannot be opened).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from gridcoop.ledger import Ledger, LedgerError
from gridcoop.ledger.export import FORMATS, export_ledger
from gridcoop.ledger.signatures import SignatureVerifier
from gridcoop.ledger.storage import Store
from gridcoop.ledger.verify import verify_store


@click.group()
def ledger() -> None:
    """Inspect a gridcoop ledger file (SQLite)."""


@ledger.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--workers", type=int, default=None,
              help="Signature-verification processes (default: one per core; 0 = inline).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(path: str, workers: int | None, as_json: bool) -> None:
    """Re-verify the whole chain in PATH: links, seals, Merkle roots, signatures, state."""
    try:
        store = Store(path, readonly=True)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    verifier = SignatureVerifier(workers)
    try:
        report = verify_store(store, verifier)
    finally:
        verifier.close()
        store.close()
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else str(report))
    if not report.ok:
        raise SystemExit(1)


def _summary(book: Ledger, limit: int) -> dict[str, Any]:
    state = book.state
    head = book.head.header
    total_txs = book.store.transaction_count()
    roles = Counter(m.role for m in state.members.values())
    listings = Counter(v.state for v in state.listings.values())
    eur = sorted(((amount, account) for (account, asset), amount in state.balances.items()
                  if asset == "eur_u"), reverse=True)
    shown = eur if limit <= 0 else eur[:limit]
    return {
        "path": book.store.path, "chain_id": book.config.chain_id, "signing": book.signing,
        "head": {"height": head.height, "hash": book.head_hash, "time_s": head.time_s},
        "blocks": head.height + 1, "transactions": total_txs,
        "members": dict(sorted(roles.items())), "directory_profiles": book.store.directory_size(),
        "validators": len(book.config.validator_keys), "quorum": book.config.quorum,
        "supply": dict(sorted(state.supply.items())),
        "open_escrows": len(state.escrows), "open_shortfalls": len(state.shortfalls),
        "listings": dict(sorted(listings.items())), "resources": len(state.resources),
        "balances": {account: {asset: state.balances.get((account, asset), 0)
                               for asset in ("eur_u", "wh", "token")}
                     for _amount, account in shown},
    }


@ledger.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--limit", type=int, default=20, show_default=True,
              help="Balances to list (largest eur_u first); 0 lists all.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show(path: str, limit: int, as_json: bool) -> None:
    """Head, counts and balances of the ledger in PATH."""
    try:
        with Ledger.open(path, readonly=True, workers=0) as book:
            summary = _summary(book, limit)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    head = summary["head"]
    click.echo(f"ledger      {summary['path']} (chain {summary['chain_id']!r}, signing "
               f"{summary['signing']}, quorum {summary['quorum']} of "
               f"{summary['validators']} validators)")
    click.echo(f"head        height {head['height']}  time {head['time_s']} s  {head['hash']}")
    click.echo(f"counts      {summary['blocks']} blocks, {summary['transactions']} "
               f"transactions, members {summary['members']}")
    click.echo(f"open        {summary['open_escrows']} escrows, {summary['open_shortfalls']} "
               f"shortfalls; listings {summary['listings']}")
    click.echo(f"supply      {summary['supply']}")
    click.echo(f"{'account':<34}{'eur_u':>16}{'wh':>14}{'token':>12}")
    for account, assets in summary["balances"].items():
        click.echo(f"{account:<34}{assets['eur_u']:>16}{assets['wh']:>14}{assets['token']:>12}")


@ledger.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: PATH without suffix + '-export').")
def export(path: str, fmt: str, out_dir: str | None) -> None:
    """Export blocks, transactions and balances of PATH as CSV or Parquet tables."""
    source = Path(path)
    target = Path(out_dir) if out_dir else source.with_name(source.stem + "-export")
    try:
        written = export_ledger(source, target, fmt)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    for name, file in written.items():
        click.echo(f"{name:<13} {file}")
