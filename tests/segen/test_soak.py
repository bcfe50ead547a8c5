"""A small run of benchmarks/soak.py: objects shared by 8 threads give the serial results, and memory
stays flat over repeated calls (the script runs 10,000 calls per op for the figures)."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import ROOT


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("segen_soak", ROOT / "benchmarks" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_objects_shared_by_8_threads_match_serial_results(soak):
    rows = soak.shared_objects(threads=8, per_thread=3)
    assert {r["object"] for r in rows} == {
        "segmenter kmeans",
        "segmenter unet-textures-int8",
        "generator dcgan-digits",
    }
    for r in rows:
        assert r["identical"], r


def test_memory_is_flat_over_repeated_calls(soak):
    for r in soak.memory(calls=600, warmup=100):
        assert r["growth_percent"] <= 5, r
