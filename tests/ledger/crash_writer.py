"""A writer that appends blocks until it is killed (driven by ``test_crash``).

Prints ``ready HEIGHT`` once the ledger is open, then ``HEIGHT HASH`` after each
block that ``seal_block`` reported committed. Arguments: path, signing policy,
``power-safe`` or ``simulation`` (the fsync per block, or not).
"""

from __future__ import annotations

import os
import sys

from gridcoop.ledger import KeyPair, Ledger, Member

SEED = b"gridcoop-crash-test"
MEMBERS = 20


def main(path: str, signing: str, power_safe: bool) -> None:
    market = KeyPair.derive(SEED, "market")
    pairs = [Member.from_seed(SEED, f"grid-{i:02d}") for i in range(MEMBERS)]
    members = [member for member, _keys in pairs]
    signers = [market, *(keys for _member, keys in pairs)]
    if os.path.exists(path):
        book = Ledger.open(path, signers=signers, workers=0, power_safe=power_safe)
    else:
        book = Ledger.create(path, authority=market, signing=signing, snapshot_interval=5,
                             signers=signers, workers=0, power_safe=power_safe)
        for member in members:
            book.register(member)
            book.market.mint(member.account, "eur_u", 10**9)
        book.seal_block(0)
    print(f"ready {book.height}", flush=True)
    accounts = [m.account for m in members]
    while True:
        height = book.height
        for i in range(60):
            payer = (height * 7 + i) % MEMBERS
            book.wallet(accounts[payer]).transfer(accounts[(payer + 1) % MEMBERS], "eur_u",
                                                  1 + i)
        block = book.seal_block(book.head.header.time_s + 60)
        print(f"{block.height} {block.hash.hex()}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] == "power-safe")
