"""Hostile-input sweep over segen's public array API: every public function, every parameter, a battery of
bad values, each call in a worker process under a memory cap and a timeout; the outcomes are counted.

For each public function of segen.filters, .features, .color, .transform, .cluster, .segmentation, .viz and
.eval.metrics (their ``__all__``; classes are skipped) there is one or more *baselines*: a call that works.
A case replaces one parameter of a baseline by one bad value:

* parameters whose baseline is an array get the array battery (``ARRAY_VALUES``): empty, 1-D, 4-D, 0-D,
  complex, object, str, bool, float16, int8/uint8/uint16/uint32/int64, NaN/inf, negative values, a constant
  array, 2 and 4 channels, non-contiguous, negative stride,
  Fortran order, read-only, huge-but-cheap (``np.broadcast_to``), huge int64 values, 1x1, 1x100000,
  100000x1, one row more than the baseline, a list, a ragged list, a scalar, None, a string;
* the others get the scalar battery (``SCALAR_VALUES``): negative, 0, fractional, tiny, NaN, +-inf, 1e300,
  2**31, 2**63, -2**63, 10**30, True, a string, None, a list, a tuple, a complex, a 2x2 array.

Outcomes:

``OK``          returned (layout variants of an array — non-contiguous, negative stride, Fortran order,
                read-only — must equal the baseline's result; a result is checked for NaN/inf when every
                input was finite)
``CLEAN``       a SegenError, ValueError or TypeError whose message names the parameter (in backticks or as
                a word; naming another of the function's parameters in backticks counts, e.g. `k` for a 1x1
                image)
``UNCLEAR``     a ValueError/TypeError that names no parameter (numpy's or Python's own message)
``WRONG_TYPE``  any other exception (IndexError, ZeroDivisionError, OverflowError, RuntimeError, a pybind11
                "incompatible function arguments" TypeError, KeyError, ...)
``BAD_RESULT``  returned, but NaN/inf from finite inputs, a result differing from the contiguous input's,
                or an input array modified
``CRASH``       the worker died (a signal)
``HANG``        no answer within ``--timeout`` seconds (the worker is killed and restarted)
``OOM``         a MemoryError that is not segen's ResourceLimitError (the ``RLIMIT_AS`` cap was hit)

Not collected by pytest (no ``test_`` prefix); tests/segen/test_bad_inputs.py runs a subset in-process
through :func:`build_call` and :func:`classify`. Usage::

    python tests/fuzz/sweep_api.py [--seed 0] [--max-cases N] [--module filters] [--func gaussian]
                                   [--workers 2] [--timeout 10] [--memory-mb 2048] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import inspect
import json
import math
import os
import queue
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
import traceback

MODULES = ("filters", "features", "color", "transform", "cluster", "segmentation", "viz", "eval.metrics")
OUTCOMES = ("OK", "CLEAN", "UNCLEAR", "WRONG_TYPE", "BAD_RESULT", "CRASH", "HANG", "OOM")
FINDINGS = ("UNCLEAR", "WRONG_TYPE", "BAD_RESULT", "CRASH", "HANG", "OOM")

# ------------------------------------------------------------------------------------------------ values

ARRAY_VALUES = (
    "empty",
    "empty_cols",
    "1d",
    "4d",
    "0d",
    "complex",
    "object",
    "str",
    "bool",
    "float16",
    "int8",
    "uint32",
    "int64",
    "nan",
    "inf",
    "neg_inf",
    "noncontig",
    "negstride",
    "fortran",
    "readonly",
    "huge_broadcast",
    "int64_huge",
    "int64_2e31",
    "float_1e300",
    "float_65535",
    "uint8",
    "uint16",
    "negative",
    "constant",
    "2ch",
    "4ch",
    "1x1",
    "1x100000",
    "100000x1",
    "shape_plus1",
    "list",
    "ragged",
    "scalar",
    "none",
    "string",
)
#: layout variants: same values, same dtype; the result must equal the baseline's (P7)
LAYOUT_VALUES = ("noncontig", "negstride", "fortran", "readonly")

#: functions documented to return inf from finite inputs (distance_transform_edt: a mask without
#: background is inf everywhere)
NONFINITE_OK = {("segmentation", "distance_transform_edt")}

SCALAR_VALUES = (
    "-1",
    "0",
    "-0.5",
    "0.5",
    "2.5",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "1e300",
    "2**31",
    "2**63",
    "-2**63",
    "10**30",
    "True",
    "string",
    "None",
    "list",
    "tuple3",
    "complex",
    "array2x2",
)


def array_value(vid: str, base, rng):
    """The bad array `vid` made from the baseline array `base`."""
    import numpy as np

    b = np.asarray(base)
    rest = b.shape[2:] if b.ndim >= 2 else ()
    if vid == "empty":
        return np.zeros((0, 5) + rest, b.dtype)
    if vid == "empty_cols":
        return np.zeros((5, 0) + rest, b.dtype)
    if vid == "1d":
        return np.ascontiguousarray(b.ravel()[:5])
    if vid == "4d":
        return np.zeros((2, 3, 4, 5), b.dtype)
    if vid == "0d":
        return np.array(b.ravel()[0])
    if vid == "complex":
        return b.astype(np.complex128) + 1j
    if vid in ("object", "str", "bool", "float16"):
        return b.astype({"object": object, "str": str, "bool": bool, "float16": np.float16}[vid])
    if vid in ("int8", "uint32", "int64"):
        scale = 100 if b.dtype.kind == "f" else 1
        return (b.astype(np.float64) * scale).astype(vid)
    if vid in ("nan", "inf", "neg_inf"):
        out = b.astype(np.float64 if b.dtype.kind != "f" else b.dtype).copy()
        out.flat[out.size // 2] = {"nan": np.nan, "inf": np.inf, "neg_inf": -np.inf}[vid]
        return out
    if vid == "noncontig":
        wide = np.repeat(b, 2, axis=b.ndim - 1 if b.ndim < 3 else 1)
        return wide[:, ::2] if b.ndim >= 2 else wide[::2]
    if vid == "negstride":
        return b[::-1].copy()[::-1]
    if vid == "fortran":
        return np.asfortranarray(b)
    if vid == "readonly":
        out = b.copy()
        out.setflags(write=False)
        return out
    if vid == "huge_broadcast":  # 2**32 elements for no memory
        shape = (2**16, 2**16) + rest if b.ndim >= 2 else (2**32,)
        return np.broadcast_to(b.ravel()[:1].reshape((1,) * len(shape)), shape)
    if vid == "int64_huge":
        return np.where(b != 0, 2**62, 2**61).astype(np.int64)
    if vid == "int64_2e31":  # labels past int32
        return np.where(b != 0, 2**31 + (np.arange(b.size).reshape(b.shape) % 3), 0).astype(np.int64)
    if vid == "float_1e300":
        return b.astype(np.float64) * 1e300 + 1e300
    if vid == "float_65535":
        return b.astype(np.float32) * 65535
    if vid in ("uint8", "uint16"):
        top = 255 if vid == "uint8" else 65535
        scale = top if b.dtype.kind == "f" else 1
        return np.clip(b.astype(np.float64) * scale, 0, top).astype(vid)
    if vid == "negative":  # values below zero (labels -1, images shifted below 0)
        return (b.astype(np.float64) - 1).astype(b.dtype) if b.dtype.kind in "fi" else b.astype(np.int64) - 1
    if vid == "constant":
        return np.full_like(b, b.ravel()[0])
    if vid in ("2ch", "4ch"):
        plane = b if b.ndim == 2 else b[..., 0]
        return np.ascontiguousarray(np.stack([plane] * int(vid[0]), axis=-1))
    if vid in ("1x1", "1x100000", "100000x1"):
        shape = {"1x1": (1, 1), "1x100000": (1, 100000), "100000x1": (100000, 1)}[vid]
        if b.ndim < 2:
            return np.resize(b, (shape[0] * shape[1],))
        return np.resize(b, shape + rest)
    if vid == "shape_plus1":
        return np.concatenate([b, b[:1]], axis=0)
    if vid == "list":
        return b.tolist()
    if vid == "ragged":
        return [[1, 2, 3], [4, 5]]
    if vid == "scalar":
        return 3.0
    if vid == "none":
        return None
    if vid == "string":
        return "not an array"
    raise KeyError(vid)


def scalar_value(vid: str):
    import numpy as np

    table = {
        "-1": -1,
        "0": 0,
        "-0.5": -0.5,
        "0.5": 0.5,
        "2.5": 2.5,
        "1e-300": 1e-300,
        "nan": float("nan"),
        "inf": float("inf"),
        "-inf": float("-inf"),
        "1e300": 1e300,
        "2**31": 2**31,
        "2**63": 2**63,
        "-2**63": -(2**63),
        "10**30": 10**30,
        "True": True,
        "string": "a string",
        "None": None,
        "list": [1, 2],
        "tuple3": (1, 2, 3),
        "complex": 1 + 2j,
    }
    if vid == "array2x2":
        return np.array([[1.0, 2.0], [3.0, 4.0]])
    return table[vid]


# --------------------------------------------------------------------------------------------- baselines


def _data(seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    grey = rng.random((16, 16), dtype=np.float32)
    rgb = rng.random((16, 16, 3), dtype=np.float32)
    mask = np.zeros((16, 16), bool)
    mask[3:9, 3:9] = True
    mask[10:14, 9:15] = True
    labels = np.zeros((16, 16), np.int32)
    labels[3:9, 3:9] = 1
    labels[10:14, 9:15] = 2
    labels[0:2, 0:2] = 3
    blobs = np.zeros((16, 16), np.float32)
    blobs[mask] = 1.0
    X = np.concatenate([rng.normal(c, 0.1, (40, 3)) for c in (0.0, 1.0, 2.0)]).astype(np.float64)
    return {"grey": grey, "rgb": rgb, "mask": mask, "labels": labels, "blobs": blobs, "X": X, "rng": rng}


def baselines(module: str, name: str, d) -> list[dict]:
    """Working calls of ``segen.<module>.<name>``: dicts of keyword arguments (``_focus``: the parameters
    mutated on this baseline; the first baseline mutates all)."""
    import numpy as np

    grey, rgb, mask, labels = d["grey"], d["rgb"], d["mask"], d["labels"]
    border = {"mode": "reflect", "cval": 0.0}
    w33 = np.array([[0, 1, 0], [1, 2, 1], [0, 1, 0]], np.float64)
    rgb_focus = ["image", "channel_axis"]
    if module == "filters":
        extra: dict = {"channel_axis": -1}
        if name in ("correlate", "convolve"):
            extra["weights"] = w33
        elif name == "separable":
            extra.update(row_kernel=np.array([1.0, 2.0, 1.0]), col_kernel=np.array([1.0, 0.0, -1.0]))
        elif name in ("gaussian", "gaussian_laplace"):
            extra.update(sigma=1.0, truncate=4.0)
        elif name == "uniform":
            extra["size"] = 3
        elif name.startswith(("sobel", "scharr")):
            extra["mask"] = mask
            if "_" not in name:
                extra.update(axis=None, return_direction=False)
        first = {"image": grey, **border, **extra}
        return [first, {**first, "image": rgb, "_focus": rgb_focus}]
    if module == "features":
        gab = {"theta": 0.0, "bandwidth": 1.0, "sigma_x": None, "sigma_y": None, "n_stds": 3.0}
        if name == "gabor_kernel":
            return [{"frequency": 0.2, **gab, "offset": 0.0, "dtype": np.complex128}]
        if name == "gabor":
            first = {"image": grey, "frequency": 0.2, **gab, "offset": 0.0, **border, "channel_axis": -1}
            return [first, {**first, "image": rgb, "_focus": rgb_focus}]
        if name == "gabor_bank":
            del gab["theta"]
            first = {
                "image": grey,
                "frequencies": (0.2, 0.3),
                "thetas": (0.0, 1.0),
                **gab,
                "smoothing": 0.5,
                "smoothing_truncate": 3.0,
                **border,
                "channel_axis": -1,
            }
            return [first, {**first, "image": rgb, "_focus": rgb_focus}]
        if name == "color_histogram":
            return [{"image": rgb, "bins": (8, 4, 4), "mask": mask, "normalize": True, "channel_axis": -1}]
        if name == "canny":
            return [
                {
                    "image": d["blobs"],
                    "sigma": 1.0,
                    "low_threshold": 0.1,
                    "high_threshold": 0.2,
                    "mask": mask | True,
                    "use_quantiles": False,
                    "mode": "constant",
                    "cval": 0.0,
                }
            ]
        if name == "local_binary_pattern":
            return [{"image": grey, "method": "uniform", "threshold": 0.0}]
    if module == "color":
        first = {"image": rgb, "channel_axis": -1, "out": None}
        if name == "rgb2lab":
            first.update(illuminant="D65", observer="2")
        out_shape = (16, 16) if name == "rgb2gray" else (16, 16, 3)
        with_out = {**first, "out": np.empty(out_shape, np.float32), "_focus": ["out"]}
        return [first, with_out]
    if module == "transform":
        if name == "resize":
            first = {
                "image": grey,
                "output_shape": (8, 12),
                "method": "bilinear",
                "anti_aliasing": None,
                "channel_axis": -1,
            }
        elif name == "rotate":
            first = {
                "image": grey,
                "angle": 30.0,
                "resize": False,
                "center": (4.0, 5.0),
                "cval": 0.0,
                "method": "bilinear",
                "channel_axis": -1,
            }
        else:
            first = {"image": grey, "axis": 1, "channel_axis": -1}
        return [first, {**first, "image": rgb, "_focus": rgb_focus}]
    if module == "cluster":
        if name == "kmeans":
            first = {
                "X": d["X"],
                "k": 3,
                "init": "k-means++",
                "n_init": 1,
                "max_iter": 300,
                "tol": 1e-4,
                "seed": 0,
            }
            given = {**first, "init": d["X"][[0, 40, 80]].copy(), "_focus": ["init"]}
            return [first, given]
        if name == "dbscan":
            return [{"X": d["X"], "eps": 0.5, "min_samples": 5}]
    if module == "segmentation":
        table = {
            "threshold_otsu": [{"image": grey, "nbins": 256}],
            "threshold_multiotsu": [{"image": grey, "classes": 3, "nbins": 256}],
            "threshold_local": [
                {
                    "image": grey,
                    "block_size": 5,
                    "method": "gaussian",
                    "offset": 0.0,
                    "mode": "reflect",
                    "param": None,
                    "cval": 0.0,
                },
                {"image": grey, "block_size": 3, "method": "median", "_focus": ["image", "block_size"]},
                {"image": grey, "block_size": 7, "param": 1.5, "_focus": ["param"]},
            ],
            "label": [{"mask": mask, "connectivity": 2, "return_num": False}],
            "distance_transform_edt": [
                {"mask": mask, "sampling": None},
                {"mask": mask, "sampling": (1.0, 2.0), "_focus": ["sampling"]},
            ],
            "peak_local_max": [
                {
                    "image": d["blobs"] + grey * 0.1,
                    "min_distance": 1,
                    "threshold_abs": None,
                    "threshold_rel": None,
                    "exclude_border": True,
                    "num_peaks": None,
                },
                {
                    "image": d["blobs"] + grey * 0.1,
                    "footprint": np.ones((3, 5), bool),
                    "labels": labels,
                    "num_peaks_per_label": 2,
                    "_focus": ["footprint", "labels", "num_peaks_per_label", "image"],
                },
            ],
            "watershed": [
                {
                    "image": grey,
                    "markers": labels,
                    "connectivity": 1,
                    "mask": mask | True,
                    "compactness": 0.0,
                    "watershed_line": False,
                },
                {"image": grey, "markers": 5, "_focus": ["markers"]},
                {
                    "image": grey,
                    "markers": labels,
                    "connectivity": np.ones((3, 3), bool),
                    "offset": (1, 1),
                    "_focus": ["connectivity", "offset"],
                },
            ],
            "remove_small_objects": [
                {"ar": labels, "max_size": 4, "connectivity": 1},
                {"ar": mask, "max_size": 4, "connectivity": 1, "_focus": ["ar"]},
            ],
            "relabel_sequential": [{"label_field": labels * 3, "offset": 1}],
            "find_boundaries": [{"label_img": labels, "connectivity": 1, "mode": "thick", "background": 0}],
            "regionprops": [
                {"label_image": labels, "intensity_image": grey, "channel_axis": -1},
                {"label_image": labels, "intensity_image": rgb, "channel_axis": -1, "_focus": rgb_focus},
            ],
            "merge_regions": [
                {
                    "label_image": labels,
                    "image": grey,
                    "threshold": 0.1,
                    "connectivity": 2,
                    "channel_axis": -1,
                },
            ],
            "remove_labels": [
                {
                    "label_image": labels,
                    "predicate": _small,
                    "intensity_image": None,
                    "relabel": False,
                    "channel_axis": -1,
                },
            ],
            "kmeans_segment": [
                {
                    "image": rgb,
                    "k": 3,
                    "features": ("color",),
                    "color_space": "lab",
                    "position_weight": 1.0,
                    "texture_weight": 1.0,
                    "frequencies": (0.1, 0.2),
                    "thetas": None,
                    "seed": 0,
                    "n_init": 1,
                    "max_iter": 100,
                    "channel_axis": -1,
                },
                {
                    "image": grey,
                    "k": 3,
                    "features": ("color", "position", "texture"),
                    "frequencies": (0.1, 0.2),
                    "thetas": (0.0, 1.0),
                    "seed": 0,
                    "_focus": ["image", "frequencies", "thetas", "position_weight", "texture_weight"],
                },
            ],
            "foreground_otsu": [{"image": grey, "bright": True, "channel_axis": -1}],
            "foreground_kmeans": [{"image": rgb, "color_space": "lab", "seed": 0, "channel_axis": -1}],
            "segment_touching_objects": [
                {
                    "image": d["blobs"],
                    "min_distance": 3,
                    "max_size": 4,
                    "bright": True,
                    "fill_holes": True,
                    "threshold": None,
                    "smooth": 0.0,
                    "channel_axis": -1,
                },
                {
                    "image": d["blobs"] + grey * 0.1,
                    "min_distance": 3,
                    "threshold": "local",
                    "block_size": 9,
                    "offset": -0.01,
                    "_focus": ["image", "block_size", "offset", "threshold"],
                },
            ],
            "texture_segment": [
                {
                    "image": grey,
                    "k": 3,
                    "frequencies": (0.1, 0.2),
                    "thetas": None,
                    "position_weight": 0.3,
                    "seed": 0,
                    "channel_axis": -1,
                }
            ],
        }
        return table[name]
    if module == "viz":
        table = {
            "to_uint8": [{"image": grey, "percentile": 0.5}],
            "contact_sheet": [{"images": [grey, rgb], "titles": ["a", "b"], "columns": 4, "tile": 32}],
            "label2rgb": [{"labels": labels}],
            "boundaries": [{"labels": labels}],
            "overlay": [{"image": rgb, "labels": labels, "alpha": 0.4, "boundary_color": (255, 255, 0)}],
            "image_grid": [{"images": np.stack([grey] * 4), "columns": None, "pad": 2}],
        }
        return table[name]
    if module == "eval.metrics":
        if name == "segmentation_scores":
            return [{"pred": labels, "true": np.roll(labels, 1, axis=0), "num_classes": 4}]
        pair = {"pred": labels, "true": np.roll(labels, 1, axis=0)}
        if name in ("match_instances", "instance_scores"):
            return [{**pair, "threshold": 0.5}]
        if name == "instance_iou":
            return [pair]
        if name == "average_precision":
            return [{**pair, "thresholds": (0.3, 0.5, 0.9)}]
    raise KeyError(f"no baseline for segen.{module}.{name}")


def _small(region) -> bool:
    return region.area < 5


def public_functions(module: str) -> list[str]:
    import importlib

    mod = importlib.import_module(f"segen.{module}")
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(mod).items()
            if not n.startswith("_") and inspect.isfunction(v) and v.__module__ == mod.__name__
        ]
    return [n for n in names if inspect.isfunction(getattr(mod, n))]


def _is_array(value) -> bool:
    """Whether a baseline value gets the array battery: an array, or a list of arrays (the first one)."""
    import numpy as np

    return isinstance(value, np.ndarray) or (
        isinstance(value, list) and bool(value) and isinstance(value[0], np.ndarray)
    )


@dataclasses.dataclass(frozen=True)
class Case:
    module: str
    func: str
    baseline: int
    param: str
    value: str

    @property
    def id(self) -> str:
        return f"{self.module}.{self.func}[{self.baseline}]:{self.param}={self.value}"


def enumerate_cases(modules=MODULES, funcs=None, seed: int = 0) -> list[Case]:

    d = _data(seed)
    cases = []
    for module in modules:
        for name in public_functions(module):
            if funcs and name not in funcs:
                continue
            for i, base in enumerate(baselines(module, name, d)):
                focus = base.get("_focus")
                for param, value in base.items():
                    if param.startswith("_") or (focus is not None and param not in focus):
                        continue
                    battery = ARRAY_VALUES if _is_array(value) else SCALAR_VALUES
                    cases += [Case(module, name, i, param, v) for v in battery]
    return cases


def build_call(case: Case, seed: int = 0):
    """``(function, kwargs, info)`` for a case; `info` says whether the inputs are all finite and whether
    the value is a layout variant whose result must equal the baseline's."""
    import importlib

    d = _data(seed)
    mod = importlib.import_module(f"segen.{case.module}")
    func = getattr(mod, case.func)
    base = {k: v for k, v in baselines(case.module, case.func, d)[case.baseline].items() if k[0] != "_"}
    kwargs = dict(base)
    old = base[case.param]
    if _is_array(old) and isinstance(old, list):  # a sequence of images: mutate the first
        kwargs[case.param] = [array_value(case.value, old[0], d["rng"])] + list(old[1:])
    elif _is_array(old):
        kwargs[case.param] = array_value(case.value, old, d["rng"])
    else:
        kwargs[case.param] = scalar_value(case.value)
    finite = (
        case.value not in ("nan", "inf", "neg_inf", "-inf") and (case.module, case.func) not in NONFINITE_OK
    )
    info = {"finite": finite, "layout": case.value in LAYOUT_VALUES, "base": base}
    # positional-only parameters (none today) would need positional passing; every public one has a name
    return func, kwargs, info


# ------------------------------------------------------------------------------------------ classifying


def _flatten(result) -> list:
    import numpy as np

    if isinstance(result, np.ndarray):
        return [result]
    if dataclasses.is_dataclass(result):
        return _flatten([getattr(result, f.name) for f in dataclasses.fields(result)])
    if isinstance(result, dict):
        return _flatten(list(result.values()))
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in _flatten(r)]
    return [result]


def _equal(a, b) -> bool:
    import numpy as np

    fa, fb = _flatten(a), _flatten(b)
    if len(fa) != len(fb):
        return False
    for x, y in zip(fa, fb):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape or x.dtype != y.dtype:
                return False
            if x.dtype.kind in "fc":
                if not np.array_equal(x, y, equal_nan=True):
                    return False
            elif not np.array_equal(x, y):
                return False
        elif isinstance(x, float) and isinstance(y, float):
            if not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
        elif x != y:
            return False
    return True


def _nonfinite(result) -> bool:
    import numpy as np

    for x in _flatten(result):
        if isinstance(x, np.ndarray) and x.dtype.kind in "fc" and x.size and not np.isfinite(x).all():
            return True
        if isinstance(x, float) and not math.isfinite(x):
            return True
    return False


def names_parameter(message: str, param: str, params) -> bool:
    if f"`{param}`" in message or re.search(rf"\b{re.escape(param)}\b", message):
        return True
    return any(f"`{p}`" in message for p in params)


def classify(case: Case, func, kwargs, info, reference=None) -> dict:
    """Call ``func(**kwargs)`` and classify what happens (not CRASH/HANG: the caller's business)."""
    import warnings

    import numpy as np
    from segen.errors import ResourceLimitError

    snapshots = {
        k: v.copy() for k, v in kwargs.items() if k != "out" and isinstance(v, np.ndarray) and v.size <= 10**6
    }
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = func(**kwargs)
    except MemoryError as exc:
        seconds = time.perf_counter() - start
        msg = _line(exc)
        if isinstance(exc, ResourceLimitError):
            outcome = "CLEAN" if names_parameter(str(exc), case.param, kwargs) else "UNCLEAR"
        else:
            outcome = "OOM"
        return {"outcome": outcome, "type": type(exc).__name__, "message": msg, "seconds": seconds}
    except Exception as exc:
        seconds = time.perf_counter() - start
        msg = _line(exc)
        if "incompatible function arguments" in msg or not isinstance(exc, (ValueError, TypeError)):
            outcome = "WRONG_TYPE"
        else:
            outcome = "CLEAN" if names_parameter(str(exc), case.param, kwargs) else "UNCLEAR"
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return {
            "outcome": outcome,
            "type": type(exc).__name__,
            "message": msg,
            "where": f"{os.path.basename(where.filename)}:{where.lineno}",
            "seconds": seconds,
        }
    seconds = time.perf_counter() - start
    answer = {"outcome": "OK", "type": "", "message": _describe(result), "seconds": seconds}
    for k, before in snapshots.items():
        if not np.array_equal(before, kwargs[k], equal_nan=before.dtype.kind in "fc"):
            answer.update(outcome="BAD_RESULT", message=f"`{k}` was modified by the call")
            return answer
    if info["layout"] and reference is not None and not _equal(result, reference):
        answer.update(outcome="BAD_RESULT", message="result differs from the C-contiguous input's")
    elif info["finite"] and _nonfinite(result):
        answer.update(
            outcome="BAD_RESULT", message="NaN/inf in the result of finite inputs: " + answer["message"]
        )
    return answer


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:297] + "...") if len(text) > 300 else text


def _describe(result) -> str:
    import numpy as np

    parts = []
    for x in _flatten(result)[:3]:
        if isinstance(x, np.ndarray):
            parts.append(f"array{tuple(x.shape)} {x.dtype}")
        else:
            parts.append(type(x).__name__)
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------------ worker


def worker_main(memory_mb: int, seed: int) -> None:
    """Read cases (JSON lines) from stdin; answer each with a JSON line on stdout."""
    import resource

    if memory_mb:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    references: dict = {}
    for line in sys.stdin:
        case = Case(**json.loads(line))
        try:
            func, kwargs, info = build_call(case, seed)
        except Exception as exc:  # a bug of this script, reported as such
            answer = {"outcome": "WRONG_TYPE", "type": "SweepError", "message": f"building: {exc!r}"}
        else:
            ref = None
            if info["layout"]:
                key = (case.module, case.func, case.baseline)
                if key not in references:
                    try:
                        references[key] = func(**info["base"])
                    except Exception:
                        references[key] = None
                ref = references[key]
            answer = classify(case, func, kwargs, info, ref)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class Worker:
    """A worker process, restarted after a crash or a hang."""

    def __init__(self, memory_mb: int, seed: int):
        self.memory_mb, self.seed, self.proc, self.fresh = memory_mb, seed, None, False

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            SEGEN_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            SEGEN_MEMORY_LIMIT=env.get("SEGEN_MEMORY_LIMIT", f"{max(self.memory_mb // 2, 64)}M"),
        )
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", "--memory-mb", str(self.memory_mb)]
            + ["--seed", str(self.seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=env,
        )

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        return code

    def call(self, case: Case, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
            self.fresh = True
        try:
            self.proc.stdin.write(json.dumps(dataclasses.asdict(case)) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        # the first call of a fresh worker also imports segen: not counted against the case
        budget = timeout + (5.0 if self.fresh else 0.0)
        self.fresh = False
        ready, _, _ = select.select([self.proc.stdout], [], [], budget)
        if not ready:
            self.stop()
            return {"outcome": "HANG", "type": "timeout", "message": f"no answer in {timeout:g} s"}
        line = self.proc.stdout.readline()
        if not line:
            code = self.stop()
            name = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
            return {"outcome": "CRASH", "type": name, "message": f"worker ended ({name})"}
        return json.loads(line)


# ------------------------------------------------------------------------------------------------ driver


def run(
    cases: list[Case],
    *,
    workers: int = 2,
    timeout: float = 10.0,
    memory_mb: int = 2048,
    seed: int = 0,
    progress: bool = False,
) -> list[tuple[Case, dict]]:
    todo: queue.Queue = queue.Queue()
    for i, c in enumerate(cases):
        todo.put((i, c))
    results: list = [None] * len(cases)
    done = [0]
    lock = threading.Lock()

    def serve():
        w = Worker(memory_mb, seed)
        try:
            while True:
                try:
                    i, c = todo.get_nowait()
                except queue.Empty:
                    return
                results[i] = (c, w.call(c, timeout))
                with lock:
                    done[0] += 1
                    if progress and done[0] % 500 == 0:
                        print(f"  {done[0]}/{len(cases)}", file=sys.stderr, flush=True)
        finally:
            w.stop()

    threads = [threading.Thread(target=serve) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def summary(results, elapsed: float) -> str:
    by_module: dict = collections.defaultdict(collections.Counter)
    for case, ans in results:
        by_module[case.module][ans["outcome"]] += 1
    total = collections.Counter()
    for c in by_module.values():
        total.update(c)
    head = f"{'module':<14}{'cases':>7}" + "".join(f"{o:>11}" for o in OUTCOMES)
    lines = [head, "-" * len(head)]
    for module in sorted(by_module):
        c = by_module[module]
        lines.append(f"{module:<14}{sum(c.values()):>7}" + "".join(f"{c[o]:>11}" for o in OUTCOMES))
    lines.append("-" * len(head))
    lines.append(f"{'total':<14}{sum(total.values()):>7}" + "".join(f"{total[o]:>11}" for o in OUTCOMES))
    lines.append(f"run time {elapsed:.0f} s")
    findings = [(c, a) for c, a in results if a["outcome"] in FINDINGS]
    if findings:
        lines.append("")
        lines.append(f"findings ({len(findings)}):")
        for c, a in findings:
            where = f" @{a['where']}" if a.get("where") else ""
            lines.append(f"  {a['outcome']:<10} {c.id}: {a['type']}{where}: {a['message'][:200]}")
    slow = sorted(results, key=lambda r: -r[1].get("seconds", 0.0))[:5]
    lines.append("")
    lines.append("slowest: " + ", ".join(f"{c.id} {a.get('seconds', 0):.1f} s" for c, a in slow))
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-cases", type=int, default=0, help="a random sample of this many cases (0: all)")
    p.add_argument("--module", action="append", choices=MODULES, help="only this module (repeatable)")
    p.add_argument("--func", action="append", help="only this function name (repeatable)")
    p.add_argument("--param", action="append", help="only this parameter (repeatable)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--memory-mb", type=int, default=2048)
    p.add_argument("--json", help="write every case's outcome to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker_main(args.memory_mb, args.seed)
        return 0
    cases = enumerate_cases(tuple(args.module or MODULES), args.func, args.seed)
    if args.param:
        cases = [c for c in cases if c.param in args.param]
    if args.max_cases and args.max_cases < len(cases):
        cases = sorted(random.Random(args.seed).sample(cases, args.max_cases), key=cases.index)
    print(
        f"{len(cases)} cases, {args.workers} workers, timeout {args.timeout:g} s, RLIMIT_AS {args.memory_mb} MiB",
        file=sys.stderr,
    )
    start = time.perf_counter()
    results = run(
        cases,
        workers=args.workers,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        seed=args.seed,
        progress=True,
    )
    elapsed = time.perf_counter() - start
    print(summary(results, elapsed))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"case": c.id, **a} for c, a in results], f, indent=1)
    return 1 if any(a["outcome"] in FINDINGS for _, a in results) else 0


if __name__ == "__main__":
    sys.exit(main())
