"""Ctrl-C stops a long call into the C++ core promptly (the core polls an interrupt check between blocks
and in its long serial loops), at 1 and 2 threads, and the interpreter raises KeyboardInterrupt."""

from __future__ import annotations

import pytest
from helpers import run_python

LONG_CALLS = {
    # parallel_for blocks (separable passes): several seconds uninterrupted on a 2-core machine
    "gaussian": "segen.filters.gaussian(img, sigma=400)",
    # a serial priority flood over 16 M pixels with a float elevation
    "watershed": "segen.segmentation.watershed(img, markers)",
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("call", sorted(LONG_CALLS))
def test_ctrl_c_stops_a_long_core_call(call, threads):
    code = f"""
import os, signal, threading, time
import numpy as np, segen
segen.set_num_threads({threads})
img = np.random.default_rng(0).random((4000, 4000)).astype(np.float32)
markers = np.zeros(img.shape, np.int32); markers[10, 10] = 1; markers[-10, -10] = 2
start = time.perf_counter()
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    {LONG_CALLS[call]}
    print("finished", time.perf_counter() - start)
except KeyboardInterrupt:
    print("interrupted", time.perf_counter() - start)
start = time.perf_counter()
segen.filters.gaussian(img[:64, :64], sigma=1)  # the core still works afterwards
print("ok")
"""
    out = run_python(code, timeout=300).split()
    assert out[0] == "interrupted", out
    assert float(out[1]) < 0.3 + 0.9, out  # uninterrupted, each takes 3-7 s here
    assert out[2] == "ok"
