"""The token desk: one footprint token request checked, accepted once, and minted.

Why a desk of its own: a request (a person's tokens for one classroom and one
metering interval) reaches the ledger either in process (a model run mints each
interval as its reading arrives) or over the bus from the classrooms' card
readers (:mod:`gridcoop.agents.mechanisms.campus.burst`). Both go through
:meth:`TokenDesk.check`, so a request means the same whichever way it came,
and a bad one is refused with its reason while every valid one is kept.

On the wire a request is the bus's ``Reward`` message: ``reward_id`` names it
``footprint/<classroom>/<interval>/<person>`` (its identity: a second request
with the same name is a duplicate), ``member_id`` is the person's card id and
``tokens`` its Wh (1 token = 1 Wh).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from gridcoop.agents.bus.messages import Message, Reward

REQUEST_KIND = "footprint"
TOKEN_ASSET = "token"  # 1 token = 1 Wh; the memo says "footprint"


def request_id(room: str, interval: int, person: str) -> str:
    """The name of one person's request for one classroom interval."""
    return f"{REQUEST_KIND}/{room}/{interval}/{person}"


def token_memo(room: str, interval: int, interval_s: int) -> str:
    """The memo of a footprint mint on the ledger: ``footprint <classroom> <interval start>``."""
    return f"{REQUEST_KIND} {room} {interval * interval_s}"


def token_request(room: str, interval: int, interval_s: int, person: str,
                  tokens: int) -> Reward:
    """The bus message a card reader sends for one person and one interval."""
    return Reward(reward_id=request_id(room, interval, person), member_id=person,
                  tokens=tokens, reason=token_memo(room, interval, interval_s),
                  sim_time_s=(interval + 1) * interval_s)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A request the desk took: whose tokens, for which classroom interval."""

    request_id: str
    room: str
    interval: int
    person: str
    tokens: int


class TokenDesk:
    """Checks token requests against the card directory and the meters; accepts each once.

    ``members``: card id -> ledger account. ``metered_wh(room, interval)``: the
    classroom's reading (None until it is read). ``rooms_of``: which classrooms
    each reader (bus sender) may claim for; None accepts any sender (in process).
    Refusals are counted by reason in ``refused``; nothing valid is dropped
    because something else was refused.
    """

    def __init__(self, members: dict[str, str], metered_wh: Callable[[str, int], int | None],
                 rooms_of: dict[str, frozenset[str]] | None = None) -> None:
        self.members = members
        self.metered_wh = metered_wh
        self.rooms_of = rooms_of
        self.claimed_wh: Counter[tuple[str, int]] = Counter()
        self.taken: dict[str, tuple[str, str]] = {}
        """Each accepted request id -> (sender, message id): duplicates and resends are
        told apart by it, and it is all a desk keeps per request."""
        self.refused: Counter[str] = Counter()

    def check(self, sender: str, rid: str, person: str, tokens: int,
              message_id: str = "") -> Accepted | None:
        """Accept the request, or count and raise :class:`ValueError` with why not.

        A resend of a message already accepted (same sender, same message id,
        as the bus's retries do) returns None: it is neither new nor refused.
        """
        taken = self.taken.get(rid)
        if taken is not None and message_id and taken == (sender, message_id):
            return None
        reason = self._reason(sender, rid, person, tokens, taken is not None)
        if reason is not None:
            self.refused[reason.split(":")[0]] += 1
            raise ValueError(reason)
        _, room, interval, _ = rid.split("/", 3)
        item = Accepted(rid, room, int(interval), person, tokens)
        self.claimed_wh[(room, item.interval)] += tokens
        self.taken[rid] = (sender, message_id)
        return item

    def _reason(self, sender: str, rid: str, person: str, tokens: int,
                duplicate: bool) -> str | None:
        parts = rid.split("/", 3)
        if len(parts) != 4 or parts[0] != REQUEST_KIND or not parts[2].isdigit():
            return f"malformed: {rid!r} is not footprint/<classroom>/<interval>/<person>"
        _, room, interval_text, named = parts
        interval = int(interval_text)
        if named != person:
            return f"mismatch: {rid!r} names {named!r}, the request is for {person!r}"
        if tokens <= 0:
            return f"empty: {rid!r} asks for {tokens} tokens; a request asks for at least 1"
        if person not in self.members:
            return f"unknown card: {person!r} is not in the card directory"
        if self.rooms_of is not None and room not in self.rooms_of.get(sender, frozenset()):
            return f"wrong reader: {sender!r} does not read cards in {room!r}"
        if duplicate:
            return f"duplicate: {rid!r} was already accepted"
        metered = self.metered_wh(room, interval)
        if metered is None:
            return f"not metered: {room!r} has no reading for interval {interval} yet"
        if self.claimed_wh[(room, interval)] + tokens > metered:
            return (f"over the meter: {room!r} interval {interval} metered {metered} Wh, "
                    f"{self.claimed_wh[(room, interval)]} already claimed, {tokens} more asked")
        return None

    def policy(self, message: Message) -> str | None:
        """The bus endpoint's policy: why ``message`` is refused, or None once accepted."""
        if not isinstance(message, Reward):
            return f"the token desk takes footprint token requests (reward), not {message.type}"
        try:
            self.check(message.sender, message.reward_id, message.member_id, message.tokens,
                       message.id)
        except ValueError as exc:
            return str(exc)
        return None
