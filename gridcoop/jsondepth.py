"""How deep a JSON document nests, counted without recursion.

Why shared: every decoder of untrusted JSON (the ledger's stored bytes, the
network servers' MQTT messages) must refuse deep nesting *before* the standard
decoder, which recurses once per level and ends in ``RecursionError``. One
scanner serves them all; each caller keeps its own limit and error.
"""

from __future__ import annotations

import re
from typing import Final

# a string (an unterminated one runs to the end, so the scan stays linear) or a bracket
_STRING_OR_BRACKET: Final = re.compile(rb'"(?:[^"\\]|\\.?)*(?:"|\Z)|[\[\]{}]', re.DOTALL)


def json_depth(data: bytes, stop_above: int | None = None) -> int:
    """The deepest bracket nesting outside strings; with ``stop_above`` the scan ends as
    soon as the depth exceeds it (the result is then ``stop_above + 1``)."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def nests_deeper(data: bytes, limit: int) -> bool:
    """Whether ``data`` nests deeper than ``limit``; documents with few brackets skip the
    scan (a bracket count runs at C speed)."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    return json_depth(data, stop_above=limit) > limit
