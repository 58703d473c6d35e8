"""Any bytes on the control channel give a header and arrays or a ``FrameError``.

A hostile or broken peer on the control port must never raise anything else
(the issue found ten kinds of other exceptions in this decoder). The budget is
bounded so CI time stays fixed; the regressions below are the cases found.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcoop.agents.runtime.wire import FrameError, pack, unpack

BUDGET = settings(max_examples=400, deadline=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=20)


def _decodes_or_refuses(frames: list[bytes]) -> None:
    try:
        header, arrays = unpack(frames)
    except FrameError:
        return
    assert isinstance(header, dict)
    assert all(isinstance(a, np.ndarray) for a in arrays.values())


@BUDGET
@given(st.lists(st.binary(max_size=64), max_size=4))
def test_any_bytes(frames: list[bytes]) -> None:
    _decodes_or_refuses(frames)


@BUDGET
@given(json_values, st.binary(max_size=64))
def test_any_json_header_with_any_data(value: object, data: bytes) -> None:
    header = json.dumps(value).encode()
    _decodes_or_refuses([header])
    _decodes_or_refuses([header, data])


spec = st.tuples(st.text(max_size=4) | st.integers(),
                 st.sampled_from(["<i8", "<f8", "|b1", "|u1", "O", "V0", "<U3", "x", "<c16"])
                 | st.text(max_size=4),
                 st.lists(st.integers(-3, 2**70) | st.text(max_size=2), max_size=4)
                 | st.integers())


@BUDGET
@given(st.lists(spec, max_size=3), st.binary(max_size=128))
def test_any_array_specs(specs: list[tuple[object, object, object]], data: bytes) -> None:
    header = json.dumps({"op": "x", "arrays": [list(s) for s in specs]}).encode()
    _decodes_or_refuses([header, data])


@pytest.mark.parametrize("frames", [
    [b"[" * 200_000],  # nesting: a RecursionError before
    [b'{"n": 1e999}'],  # infinity
    [b'{"arrays": 5}', b""],
    [b'{"arrays": [["a", "O", [1]]]}', b"\x00" * 8],  # object arrays from raw bytes
    [b'{"arrays": [["a", "<i8", [-1]]]}', b"\x00" * 8],
    [b'{"arrays": [["a", "<i8", [1e3]]]}', b"\x00" * 8],
    [b'{"arrays": [["a", "<i8", [99999999999, 99999999999]]]}', b"\x00" * 8],
    [b'{"arrays": [["a", "<i8", [0, 1073741824, 1073741824]]]}', b""],  # empty, too big
    [b'{"arrays": [["a", "nonsense", [1]]]}', b"\x00" * 8],
    [b'{"arrays": [["a", "<i8"]]}', b"\x00" * 8],
    [b'{"arrays": [["a", "<i8", [1]], ["a", "<i8", [1]]]}', b"\x00" * 16],
    [b"\xff\xfe"],
])
def test_regressions_are_frame_errors(frames: list[bytes]) -> None:
    with pytest.raises(FrameError):
        unpack(frames)


def test_what_pack_makes_still_round_trips() -> None:
    arrays = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": np.array([True, False]),
              "c": np.zeros(0, dtype=np.float32)}
    header, got = unpack(pack({"op": "read", "n": 3}, arrays))
    assert header == {"op": "read", "n": 3}
    for name, array in arrays.items():
        np.testing.assert_array_equal(got[name], array)
        assert got[name].dtype == array.dtype
