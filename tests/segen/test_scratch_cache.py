"""The scratch cache (segen.set_scratch_cache_limit): large scratch buffers kept between calls for reuse.

A kept buffer holds the last call's data, so every flood that takes one must write all it reads; these tests
run the float watershed's floods on buffers left by other images and compare with the same call on fresh
buffers (the cache off) and, on reliefs without ties, with scikit-image (the sanitizer run also fills each
reused buffer with a non-zero pattern first)."""

import subprocess
import sys

import numpy as np
import pytest
import segen
from segen import _core
from skimage import segmentation as sks

MIB = 1 << 20


@pytest.fixture
def cache_limit():
    saved = segen.get_scratch_cache_limit()
    yield
    segen.set_scratch_cache_limit(saved)


def problem(rng, h, w, dtype, ties):
    img = rng.random((h, w))
    if ties:
        img = np.round(img * 6)  # plateaus: the radix queue's case
    markers = np.zeros((h, w), np.int32)
    idx = rng.choice(h * w, 40, replace=False)
    markers.flat[idx] = np.arange(1, 41)
    mask = rng.random((h, w)) > 0.1
    return img.astype(dtype), markers, mask


@pytest.mark.parametrize("flood", ["queue", "sweep"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_floods_on_reused_buffers_match_skimage(rng, monkeypatch, cache_limit, flood, dtype):
    monkeypatch.setenv("SEGEN_WATERSHED_FLOOD", flood)
    sizes = [(560, 570), (540, 550), (541, 549), (560, 570)]
    cases = []
    for h, w in sizes:
        img, markers, mask = problem(rng, h, w, dtype, ties=flood == "queue")
        cases += [(img, markers, None), (img, markers, mask)]
    segen.set_scratch_cache_limit(0)
    fresh = [segen.segmentation.watershed(*c[:2], mask=c[2]) for c in cases]
    segen.set_scratch_cache_limit(256 * MIB)
    # a larger image first leaves its buffers (>= 1 MiB each) with its data in them; the smaller ones reuse them
    for (img, markers, mask), want in zip(cases, fresh):
        got = segen.segmentation.watershed(img, markers, mask=mask)
        np.testing.assert_array_equal(got, want)
        if flood == "sweep":  # distinct values: scikit-image's order has no ties to break
            np.testing.assert_array_equal(got, sks.watershed(img, markers, mask=mask))
        assert 0 < _core.scratch_cache_held() <= 256 * MIB


def test_limit_bounds_what_is_kept(rng, cache_limit):
    img, markers, mask = problem(rng, 400, 410, "float64", ties=False)
    segen.set_scratch_cache_limit("64M")
    want = segen.segmentation.watershed(img, markers, mask=mask)
    assert 0 < _core.scratch_cache_held() <= 64 * MIB
    segen.set_scratch_cache_limit(MIB)  # lowering it frees what it no longer allows
    assert _core.scratch_cache_held() <= MIB
    np.testing.assert_array_equal(segen.segmentation.watershed(img, markers, mask=mask), want)
    assert _core.scratch_cache_held() <= MIB  # buffers larger than the limit are not kept
    segen.set_scratch_cache_limit(0)
    assert _core.scratch_cache_held() == 0 and segen.get_scratch_cache_limit() == 0
    np.testing.assert_array_equal(segen.segmentation.watershed(img, markers, mask=mask), want)
    assert _core.scratch_cache_held() == 0


def test_setter_round_trip_and_default(monkeypatch, cache_limit):
    segen.set_scratch_cache_limit(12345678)
    assert segen.get_scratch_cache_limit() == 12345678
    segen.set_scratch_cache_limit("1G")
    assert segen.get_scratch_cache_limit() == 1 << 30
    segen.set_scratch_cache_limit("0")
    assert segen.get_scratch_cache_limit() == 0
    monkeypatch.delenv("SEGEN_SCRATCH_CACHE", raising=False)
    segen.set_scratch_cache_limit(None)
    assert segen.get_scratch_cache_limit() == _core.DEFAULT_SCRATCH_CACHE == 64 * MIB
    for env, want in [
        ("16M", 16 * MIB),
        (" 2 GiB ", 2 << 30),
        ("0", 0),
        ("1.5G", 64 * MIB),
        ("lots", 64 * MIB),
    ]:
        monkeypatch.setenv("SEGEN_SCRATCH_CACHE", env)
        segen.set_scratch_cache_limit(None)  # the environment as it reads now; malformed: the default
        assert segen.get_scratch_cache_limit() == want, env


def test_environment_sets_the_limit_at_start():
    code = "import segen; print(segen.get_scratch_cache_limit())"
    import os

    env = dict(os.environ, SEGEN_SCRATCH_CACHE="8M")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(8 * MIB)


@pytest.mark.parametrize("bad", [-1, 1.5, "lots", "-3M", True, [64], 2**70, "99999999999T"])
def test_bad_limit(bad, cache_limit):
    before = segen.get_scratch_cache_limit()
    with pytest.raises((ValueError, TypeError), match="`nbytes`"):
        segen.set_scratch_cache_limit(bad)
    assert segen.get_scratch_cache_limit() == before


def test_fork_with_buffers_kept():
    # a child forked while the parent keeps buffers reuses them (copy-on-write) and gives the same labels; the
    # cache's lock is held across fork(), so a child never starts with it locked
    code = """
import multiprocessing as mp
import threading
import numpy as np, segen
img = np.random.default_rng(0).random((400, 400))
markers = np.zeros(img.shape, np.int32); markers[::50, ::50] = np.arange(1, 65).reshape(8, 8)
want = segen.segmentation.watershed(img, markers)
stop = False
def busy():  # another thread taking and giving buffers while the parent forks
    while not stop:
        segen.segmentation.watershed(img, markers)
t = threading.Thread(target=busy); t.start()

def child(_):
    return bool((segen.segmentation.watershed(img, markers) == want).all())

try:
    with mp.get_context("fork").Pool(2) as pool:
        got = pool.map(child, range(8))
finally:
    stop = True
    t.join()
assert got == [True] * 8, got
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
