"""Integer apportionment: split an integer amount exactly by weights.

Why largest remainder: money and energy on the ledger are integers, and the
parts must add up to the whole (no micro-euro created or lost). Each part gets
the floor of its exact share; the units left over go, one each, to the largest
fractional remainders. Ties are broken deterministically: larger remainder,
then larger weight, then the earlier key (member id) in sort order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ApportionError(ValueError):
    """Weights or totals that cannot be apportioned (negative, or lengths that differ)."""


def apportion(total: int, weights: Sequence[int], keys: Sequence[str] | None = None) -> list[int]:
    """Split ``total`` (int >= 0) into ``len(weights)`` integer parts proportional to ``weights``.

    Parts sum exactly to ``total``. All-zero weights split equally. Example:
    100 by weights 1, 1, 1 gives 34, 33, 33 (the tie goes to the first key).
    """
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ApportionError(f"total must be an int >= 0, got {total!r}")
    n = len(weights)
    order_keys = list(keys) if keys is not None else [f"{i:012d}" for i in range(n)]
    if len(order_keys) != n:
        raise ApportionError(f"got {len(order_keys)} keys for {n} weights; give one per weight")
    if any(not isinstance(w, int) or isinstance(w, bool) or w < 0 for w in weights):
        raise ApportionError(f"weights must be ints >= 0, got {list(weights)!r}")
    if n == 0:
        if total:
            raise ApportionError(f"cannot split {total} among nobody; pass at least one weight")
        return []
    ws = list(weights) if sum(weights) > 0 else [1] * n
    weight_sum = sum(ws)
    parts: list[int] = []
    remainders: list[int] = []
    for w in ws:
        quotient, remainder = divmod(total * w, weight_sum)
        parts.append(quotient)
        remainders.append(remainder)
    left = total - sum(parts)
    ranked = sorted(range(n), key=lambda i: (-remainders[i], -ws[i], order_keys[i]))
    for i in ranked[:left]:
        parts[i] += 1
    return parts


def split_revenue(revenue_ueur: int, scores: Mapping[str, int]) -> dict[str, int]:
    """Divide the community's market revenue among members by behaviour score.

    Negative scores count as zero (a member who only earned penalties gets no
    share); if every score is zero the revenue is split equally. The result
    sums exactly to ``revenue_ueur``.
    """
    members = sorted(scores)
    weights = [max(0, int(scores[m])) for m in members]
    return dict(zip(members, apportion(revenue_ueur, weights, members), strict=True))
