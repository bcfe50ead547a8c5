"""Helpers shared by the tests (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import ast
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


def run_python(code: str, *args: str, timeout: float = 120, env_path: str | None = None) -> str:
    """Run `code` in a fresh interpreter (``python -c``); it must exit 0. Returns its standard output.
    `env_path` is put in front of PYTHONPATH (e.g. the tests folder, for ``import helpers``)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env_path, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def outputs_at_cpu_levels(code: str, stdin: bytes = b"", levels=("baseline", "v3", "")) -> dict:
    """Run `code` in a fresh interpreter at each of segen's CPU levels (``SEGEN_CPU_LEVEL``; "" is the
    machine's own, v4 on an AVX-512 CPU), with `stdin` as its standard input; each run must exit 0.
    Returns {level: its standard output, as bytes}."""
    import os
    import subprocess
    import sys

    got = {}
    for level in levels:
        env = {**os.environ, "SEGEN_CPU_LEVEL": level}
        proc = subprocess.run(
            [sys.executable, "-c", code], input=stdin, capture_output=True, env=env, timeout=300
        )
        assert proc.returncode == 0, f"SEGEN_CPU_LEVEL={level!r}: " + proc.stderr[-2000:].decode(
            errors="replace"
        )
        got[level] = proc.stdout
    return got


def run_without_torch(code: str, timeout: float = 120) -> None:
    """Run `code` in a fresh interpreter: it must succeed without ever importing torch."""
    out = run_python(
        code + "\nimport sys\nassert 'torch' not in sys.modules, 'torch imported'\nprint('ok')\n",
        timeout=timeout,
    )
    assert out.strip().splitlines()[-1] == "ok", out


def modules_loaded(code: str, names) -> list[str]:
    """Which of the module `names` a fresh interpreter has imported after running `code`."""
    out = run_python(code + f"\nimport sys\nprint(sorted(m for m in {tuple(names)!r} if m in sys.modules))")
    return ast.literal_eval(out.strip().splitlines()[-1])  # the list printed above


class DyingSegmenter:
    """A picklable segmenter that ends its process on an image whose first pixel is 255 (as a worker killed by
    a huge image would die) and labels any other image 0."""

    def segment(self, image):
        import os

        if image.flat[0] == 255:
            os._exit(3)
        return np.zeros(image.shape[:2], np.int32)
