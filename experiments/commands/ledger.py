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

from gridcoop.ledger import Ledger, LedgerError
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
