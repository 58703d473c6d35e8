"""``gridcoop ledger``: verify, checkpoint, show and export a ledger file.

``verify`` exits 0 when the whole chain and every other row check, 1 when the
file is invalid (it names the first bad block or row and why), and 2 when the
file or a trust anchor cannot be read. Given a trust anchor (trusted validator
keys, a genesis hash, a signed checkpoint kept outside the file) it also
detects a chain rebuilt with other keys and deleted last blocks; without one it
prints what it could not check.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import click

from gridcoop.ledger import GRID_ACCOUNT, Ledger, LedgerError
from gridcoop.ledger.checkpoint import (
    Checkpoint,
    TrustAnchor,
    load_validator_keys,
    parse_genesis_hash,
)
from gridcoop.ledger.export import FORMATS, export_ledger
from gridcoop.ledger.keystore import key_from_env_or_path
from gridcoop.ledger.signatures import SignatureVerifier
from gridcoop.ledger.storage import Store
from gridcoop.ledger.verify import verify_store
from gridcoop.units import UEUR_PER_EUR, WH_PER_KWH

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2
KEY_ENV = "GRIDCOOP_LEDGER_KEY"


class Unreadable(click.ClickException):
    """A file or anchor that cannot be read: one line, exit code 2."""

    exit_code = EXIT_UNREADABLE


@click.group()
def ledger() -> None:
    """Inspect a gridcoop ledger file (SQLite)."""


def _anchor(validators: str | None, genesis_hash: str | None,
            checkpoint: str | None) -> TrustAnchor:
    try:
        return TrustAnchor(load_validator_keys(validators) if validators else None,
                           parse_genesis_hash(genesis_hash) if genesis_hash else None,
                           Checkpoint.load(checkpoint) if checkpoint else None)
    except LedgerError as exc:
        raise Unreadable(str(exc)) from exc


@ledger.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--validators", type=click.Path(dir_okay=False), default=None,
              help="File of trusted validator public keys (64 hex each, one per line).")
@click.option("--genesis-hash", default=None, help="Trusted hash of block 0 (64 hex).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="Signed checkpoint kept outside the file (`gridcoop ledger checkpoint`).")
@click.option("--workers", type=int, default=None,
              help="Signature-verification processes (default: one per core; 0 = inline).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(path: str, validators: str | None, genesis_hash: str | None,
           checkpoint: str | None, workers: int | None, as_json: bool) -> None:
    """Re-verify PATH: links, seals, Merkle roots, signatures, state, and every other row.

    Exit status: 0 valid, 1 invalid (names the block or row), 2 unreadable.
    """
    anchor = _anchor(validators, genesis_hash, checkpoint)
    try:
        store = Store(path, readonly=True)
    except LedgerError as exc:
        raise Unreadable(str(exc)) from exc
    verifier = SignatureVerifier(workers)
    try:
        report = verify_store(store, verifier, anchor)
    finally:
        verifier.close()
        store.close()
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else str(report))
    if not report.readable:
        raise SystemExit(EXIT_UNREADABLE)
    if not report.ok:
        raise SystemExit(EXIT_INVALID)


@ledger.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="Where to write the checkpoint (keep it outside the ledger's folder).")
@click.option("--key", "key_paths", multiple=True, type=click.Path(dir_okay=False),
              help=f"Validator key file (PKCS#8 PEM, mode 0600); repeat for a quorum. "
                   f"Default: the file named by ${KEY_ENV}.")
def checkpoint(path: str, out_path: str, key_paths: tuple[str, ...]) -> None:
    """Sign the head of PATH with validator keys: a checkpoint for `verify --checkpoint`.

    The ledger is verified first; a chain that does not verify is never signed.
    """
    try:
        keys = [key_from_env_or_path(p, KEY_ENV) for p in key_paths] or \
            [key_from_env_or_path(None, KEY_ENV)]
        store = Store(path, readonly=True)
    except LedgerError as exc:
        raise Unreadable(str(exc)) from exc
    try:
        report = verify_store(store, SignatureVerifier(0))
        if not report.ok:
            click.echo(str(report))
            raise SystemExit(EXIT_UNREADABLE if not report.readable else EXIT_INVALID)
        with Ledger.open(path, readonly=True, workers=0) as book:
            point = Checkpoint.of(book.block(0), book.head, keys)
            point.check(book.config)
            point.save(out_path)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"checkpoint of block {point.height} {point.block_hash.hex()} "
               f"({len(point.seals)} seal(s)) written to {os.fspath(out_path)}")


def member_names(book: Ledger) -> dict[str, str]:
    """Account -> member id (the grid id in the operator's directory), plus the grid and
    the market; an account with no directory entry keeps its short hex id."""
    names = {GRID_ACCOUNT: "grid", book.authority: "market"}
    for account in book.state.members:
        profile = book.store.member(account)
        if profile is not None:
            names[account] = profile.grid_id
    return names


def in_units(asset: str, amount: int) -> tuple[str, float | int]:
    """An asset amount in the unit people read: µ€ as €, Wh (energy tokens) as kWh."""
    if asset == "eur_u":
        return "€", amount / UEUR_PER_EUR
    if asset == "wh":
        return "kWh", amount / WH_PER_KWH
    return "tokens", amount


def _summary(book: Ledger, limit: int) -> dict[str, Any]:
    state = book.state
    head = book.head.header
    total_txs = book.store.transaction_count()
    roles = Counter(m.role for m in state.members.values())
    listings = Counter(v.state for v in state.listings.values())
    eur = sorted(((amount, account) for (account, asset), amount in state.balances.items()
                  if asset == "eur_u"), reverse=True)
    shown = eur if limit <= 0 else eur[:limit]
    names = member_names(book)
    return {
        "path": book.store.path, "chain_id": book.config.chain_id, "signing": book.signing,
        "head": {"height": head.height, "hash": book.head_hash, "time_s": head.time_s},
        "blocks": head.height + 1, "transactions": total_txs,
        "members": dict(sorted(roles.items())), "directory_profiles": book.store.directory_size(),
        "validators": len(book.config.validator_keys), "quorum": book.config.quorum,
        "supply": dict(sorted(state.supply.items())),
        "supply_in_units": {in_units(asset, 0)[0]: in_units(asset, amount)[1]
                            for asset, amount in sorted(state.supply.items())},
        "open_escrows": len(state.escrows), "open_shortfalls": len(state.shortfalls),
        "listings": dict(sorted(listings.items())), "resources": len(state.resources),
        "balances": {account: {"member_id": names.get(account, account[:12]),
                               **{asset: state.balances.get((account, asset), 0)
                                  for asset in ("eur_u", "wh", "token")},
                               "eur": state.balances.get((account, "eur_u"), 0) / UEUR_PER_EUR,
                               "energy_kwh": state.balances.get((account, "wh"), 0) / WH_PER_KWH}
                     for _amount, account in shown},
    }


@ledger.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--limit", type=int, default=20, show_default=True,
              help="Balances to list (most euros first); 0 lists all.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show(path: str, limit: int, as_json: bool) -> None:
    """Head, counts and each member's balance (€, energy tokens in kWh, tokens) in PATH."""
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
    click.echo("supply      " + ", ".join(f"{value:,.6g} {unit}"
                                          for unit, value in
                                          summary["supply_in_units"].items()))
    click.echo(f"{'member':<24}{'€':>14}{'energy kWh':>14}{'tokens':>12}")
    for row in summary["balances"].values():
        click.echo(f"{row['member_id']:<24}{row['eur']:>14,.2f}{row['energy_kwh']:>14,.3f}"
                   f"{row['token']:>12,}")


@ledger.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: PATH without suffix + '-export').")
def export(path: str, fmt: str, out_dir: str | None) -> None:
    """Export blocks, transactions and balances of PATH as CSV or Parquet tables (with
    member ids, € and kWh beside the raw ids and integers)."""
    source = Path(path)
    target = Path(out_dir) if out_dir else source.with_name(source.stem + "-export")
    try:
        written = export_ledger(source, target, fmt)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with Ledger.open(source, readonly=True, workers=0) as book:
            names = member_names(book)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    for name, file in written.items():
        add_readable_columns(name, Path(file), names)
        click.echo(f"{name:<13} {file}")


def add_readable_columns(table: str, file: Path, names: dict[str, str]) -> None:
    """Beside the raw ids and integers, columns in member ids, € and kWh.

    Transactions gain ``issuer_member``, ``party_member``, ``party2_member``,
    ``amount_eur`` (money amounts), ``energy_kwh``; balances gain ``member_id``
    and ``balance_eur`` / ``balance_kwh``. The raw columns stay, so a
    spreadsheet and a verifier read the same file.
    """
    import pandas as pd

    if table not in ("transactions", "balances"):
        return
    parquet = file.suffix == ".parquet"
    frame = pd.read_parquet(file) if parquet else pd.read_csv(file, dtype={"body": str})
    if table == "transactions":
        for column in ("issuer", "party", "party2"):
            frame[f"{column}_member"] = frame[column].map(names)
        money = frame["asset"] == "eur_u"
        frame["amount_eur"] = (frame["amount"] / UEUR_PER_EUR).where(money)
        frame["energy_kwh"] = frame["energy_wh"] / WH_PER_KWH
    else:
        frame["member_id"] = frame["account"].map(names)
        frame["balance_eur"] = (frame["balance"] / UEUR_PER_EUR).where(frame["asset"] == "eur_u")
        frame["balance_kwh"] = (frame["balance"] / WH_PER_KWH).where(frame["asset"] == "wh")
    if parquet:
        frame.to_parquet(file, index=False)
    else:
        frame.to_csv(file, index=False)
