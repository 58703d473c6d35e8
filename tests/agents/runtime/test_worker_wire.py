"""The control channel's frames: a JSON header and one frame of raw array bytes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gridcoop.agents.runtime.wire import FrameError, pack, unpack


def test_round_trip_keeps_values_dtypes_and_shapes() -> None:
    flows = np.array([0.5, 1.25, -2.0])
    readings = np.array([[1, 2], [3, 4]], dtype=np.int64)
    frames = pack({"n": 7, "k": 3}, {"flows": flows, "imp0": readings})
    # 3 float64 (24 bytes) + 4 int64 (32 bytes) in one data frame after the header
    assert len(frames) == 2 and len(frames[1]) == 24 + 32
    header, got = unpack(frames)
    assert header == {"n": 7, "k": 3}
    np.testing.assert_array_equal(got["flows"], flows)
    np.testing.assert_array_equal(got["imp0"], readings)
    assert got["imp0"].dtype == np.int64 and got["imp0"].shape == (2, 2)


def test_no_arrays_is_one_frame() -> None:
    frames = pack({"op": "stop", "n": 1})
    assert len(frames) == 1
    assert unpack(frames) == ({"op": "stop", "n": 1}, {})


@given(st.lists(arrays(st.sampled_from([np.float64, np.int64, np.uint8, np.bool_]),
                       st.integers(0, 20)), max_size=5))
def test_any_arrays_round_trip(values: list[np.ndarray]) -> None:
    named = {f"a{i}": a for i, a in enumerate(values)}
    _, got = unpack(pack({}, named))
    assert list(got) == list(named)
    for name, array in named.items():
        assert got[name].dtype == array.dtype
        np.testing.assert_array_equal(got[name], array)


def test_bad_frames_say_what_is_wrong() -> None:
    header = json.dumps({"arrays": [["x", "<f8", [2]]]}).encode()
    with pytest.raises(FrameError, match="runs past"):
        unpack([header, b"\0" * 8])  # one float64 where two were announced
    with pytest.raises(FrameError, match="bytes after the last array"):
        unpack([header, b"\0" * 24])
    with pytest.raises(FrameError, match="1 arrays but 0 data frames"):
        unpack([header])
    with pytest.raises(FrameError, match="not JSON"):
        unpack([b"{oops"])
    with pytest.raises(FrameError, match="JSON object"):
        unpack([b"[1, 2]"])
    with pytest.raises(FrameError, match="empty"):
        unpack([])
