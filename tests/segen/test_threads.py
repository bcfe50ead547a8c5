import os
import subprocess
import sys

import numpy as np
import pytest
import segen
from helpers import num_threads
from segen import _core
from segen.errors import InvalidArgumentError


def test_thread_knob_round_trip():
    with num_threads(1):
        assert segen.get_num_threads() == 1
    with num_threads(3):
        assert segen.get_num_threads() == 3


def test_zero_or_none_restores_default(monkeypatch):
    with num_threads(1):
        segen.set_num_threads(None)
        assert segen.get_num_threads() >= 1


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_thread_count(bad):
    with pytest.raises((ValueError, TypeError), match="`n`"):
        segen.set_num_threads(bad)


def test_threads_in_parallel_from_python():
    # Two Python threads calling into the core at once (the GIL is released) give the serial answer.
    from concurrent.futures import ThreadPoolExecutor

    img = np.random.default_rng(0).random((512, 512)).astype(np.float32)
    want = segen.transform.flip(img, axis=None)
    with ThreadPoolExecutor(4) as ex:
        for got in ex.map(lambda _: segen.transform.flip(img, axis=None), range(16)):
            np.testing.assert_array_equal(got, want)


def test_thread_count_is_bounded():
    # 10**6 threads once reached ONNX Runtime, which crashed (SIGSEGV); the C++ pool could not start them
    with pytest.raises(InvalidArgumentError, match=r"`n` must be <= 1024; got 1000000"):
        segen.set_num_threads(10**6)
    with pytest.raises(InvalidArgumentError, match=r"`n` must be <= 1024 threads; got 1025"):
        _core.set_num_threads(1025)  # the C++ check too, for C++ callers
    with num_threads(2):
        assert segen.get_num_threads() == 2  # a refused count changes nothing


def test_environment_thread_count_is_capped():
    code = "import segen; print(segen.get_num_threads())"
    env = dict(os.environ, SEGEN_NUM_THREADS="100000")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(_core.MAX_THREADS) == "1024"


def test_fork_after_the_pool_started():
    # multiprocessing's "fork" start method after segen had used its threads: the children's first
    # parallel call waited forever for pool workers that do not exist in a child
    code = """
import multiprocessing as mp
import numpy as np, segen
segen.set_num_threads(2)
img = np.random.default_rng(0).random((256, 256)).astype(np.float32)
want = float(segen.filters.gaussian(img, sigma=2).sum())

def child(_):
    return float(segen.filters.gaussian(img, sigma=2).sum()), segen.get_num_threads()

with mp.get_context("fork").Pool(2) as pool:
    got = pool.map(child, range(4))
assert got == [(want, 2)] * 4, (got, want)
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
