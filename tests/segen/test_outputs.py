"""The arrays the compiled core returns: large ones start on a 2 MiB boundary (so the first touch of a fresh
output is faulted in huge pages rather than ~500 small pages), own their memory through a capsule, are seen
by tracemalloc like numpy's arrays, and are released when the last reference goes."""

from __future__ import annotations

import copy
import gc
import pickle
import sys
import tracemalloc

import numpy as np
import pytest
import segen

HUGE = 2 << 20
linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="huge-page outputs are Linux only"
)


def _rgb(h, w, dtype=np.float32):
    return np.random.default_rng(0).random((h, w, 3), dtype=dtype)


@linux_only
@pytest.mark.parametrize(
    "make",
    [
        lambda: segen.color.rgb2hsv(_rgb(1024, 1024)),  # 12 MiB float32
        lambda: segen.filters.gaussian(_rgb(1536, 1024)[..., 0].copy(), 2.0),  # 6 MiB float32
        lambda: segen.color.rgb2gray(_rgb(2048, 1024, np.float64)),  # 16 MiB float64
    ],
    ids=["rgb2hsv", "gaussian", "rgb2gray"],
)
def test_large_outputs_are_huge_page_aligned_and_writeable(make):
    out = make()
    assert out.nbytes >= 4 << 20
    assert out.ctypes.data % HUGE == 0
    assert out.flags.c_contiguous and out.flags.writeable and not out.flags.owndata
    out.flat[0] = 0.5  # the memory is the caller's to write
    assert out.flat[0] == 0.5


def test_large_output_equals_the_same_call_into_a_numpy_array():
    rgb = _rgb(1024, 1024)
    fresh = segen.color.rgb2hsv(rgb)
    into = np.empty_like(rgb)
    segen.color.rgb2hsv(rgb, out=into)
    np.testing.assert_array_equal(fresh, into)
    # and equals the result of small calls (numpy-owned outputs), row block by row block
    for r0 in range(0, 1024, 256):
        np.testing.assert_array_equal(fresh[r0 : r0 + 256], segen.color.rgb2hsv(rgb[r0 : r0 + 256]))


def test_small_outputs_stay_numpy_owned():
    out = segen.color.rgb2hsv(_rgb(64, 64))
    assert out.flags.owndata and out.base is None


@linux_only
def test_tracemalloc_sees_large_outputs_and_their_release():
    rgb = _rgb(1024, 1024)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = segen.color.rgb2hsv(rgb)
        held = tracemalloc.get_traced_memory()[0] - before
        assert out.nbytes <= held < out.nbytes + (1 << 20)
        view = out[::2]  # a view keeps the memory alive
        del out
        assert tracemalloc.get_traced_memory()[0] - before >= view.base.nbytes
        del view
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] - before < 1 << 20
    finally:
        tracemalloc.stop()


def test_large_outputs_survive_pickle_and_copy():
    out = segen.color.rgb2hsv(_rgb(1024, 1024))
    for back in (pickle.loads(pickle.dumps(out)), copy.deepcopy(out), out.copy()):
        np.testing.assert_array_equal(back, out)
        assert not np.shares_memory(back, out)


@pytest.fixture
def cache_limit():
    """Restore the scratch cache's limit after a test that changes it."""
    before = segen.get_scratch_cache_limit()
    yield
    segen.set_scratch_cache_limit(before)


@linux_only
def test_a_released_large_output_is_reused_by_the_next_call(cache_limit):
    from segen import _core

    segen.set_scratch_cache_limit("64M")
    rgb = _rgb(1024, 1024)
    want = segen.color.rgb2hsv(rgb).copy()
    first = segen.color.rgb2hsv(rgb)
    address, held = first.ctypes.data, _core.scratch_cache_held()
    first[...] = np.nan  # the next result must overwrite every byte of what it reuses
    del first
    gc.collect()
    assert _core.scratch_cache_held() >= held + want.nbytes  # kept, not freed
    second = segen.color.rgb2hsv(rgb)
    assert second.ctypes.data == address  # the same pages: no fresh ones to fault in
    np.testing.assert_array_equal(second, want)
    # a result still alive is never handed out again
    third = segen.color.rgb2hsv(rgb)
    assert not np.shares_memory(second, third)
    np.testing.assert_array_equal(third, want)


@linux_only
def test_released_large_outputs_are_freed_when_the_cache_keeps_nothing(cache_limit):
    from segen import _core

    segen.set_scratch_cache_limit(0)
    out = segen.color.rgb2hsv(_rgb(1024, 1024))
    del out
    gc.collect()
    assert _core.scratch_cache_held() == 0
    segen.set_scratch_cache_limit("8M")  # below the 12 MiB result: it is not kept either
    out = segen.color.rgb2hsv(_rgb(1024, 1024))
    del out
    gc.collect()
    assert _core.scratch_cache_held() <= 8 << 20


@pytest.mark.parametrize("offset", [0, 1, 5], ids=["aligned", "offset-4B", "offset-20B"])
def test_rgb2gray_streamed_into_a_large_out_equals_the_plain_rows(offset):
    # A float32 result of 16 MiB or more whose memory is in place (a touched out=, a reused result) is
    # written with non-temporal stores from its first 32-byte boundary on; small calls use plain stores.
    rgb = _rgb(2048, 2048)
    n = 2048 * 2048
    out = np.full(n + offset, 0.5, np.float32)[offset:].reshape(2048, 2048)  # touched: in place
    segen.color.rgb2gray(rgb, out=out)
    for r0 in range(0, 2048, 512):
        np.testing.assert_array_equal(out[r0 : r0 + 512], segen.color.rgb2gray(rgb[r0 : r0 + 512]))
    again = segen.color.rgb2gray(rgb)  # a fresh result, then one that reuses released memory
    del again
    np.testing.assert_array_equal(segen.color.rgb2gray(rgb), out)
