"""Helpers shared by the tests (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import contextlib
import pathlib

import numpy as np
import segen

#: The repository root (README, docs/, examples/, plugins/).
ROOT = pathlib.Path(__file__).resolve().parents[1]

#: segen's built-in segmenters (segen.plugins.builtin).
BUILTINS = ["foreground-kmeans", "kmeans", "kmeans-texture", "multiotsu", "otsu", "threshold", "watershed"]

DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
MODES = ("reflect", "mirror", "nearest", "constant", "wrap")


def random_image(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Random image spanning the dtype's usual range (floats in [0, 1])."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


def value_range(dtype) -> float:
    """The value range a tolerance is relative to: 1 for floats, the max for integers."""
    dtype = np.dtype(dtype)
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


@contextlib.contextmanager
def num_threads(n: int):
    saved = segen.get_num_threads()
    segen.set_num_threads(n)
    try:
        yield
    finally:
        segen.set_num_threads(saved)
