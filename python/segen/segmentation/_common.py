"""Validation helpers shared by the segmentation modules."""

from __future__ import annotations

import numbers

import numpy as np

from .._shared.validation import as_array, as_core_dtype
from ..errors import DTypeError, InvalidArgumentError

_INT32_MAX = np.iinfo(np.int32).max


_INT32_MAX = np.iinfo(np.int32).max


# ---- validation helpers -------------------------------------------------------------------------
def _check_2d(arr: np.ndarray, name: str) -> None:
    if arr.ndim != 2:
        raise InvalidArgumentError(f"`{name}` must be 2-D (H, W); got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise InvalidArgumentError(f"`{name}` must be non-empty; got shape {tuple(arr.shape)}")


def _as_mask(mask, name: str = "mask", shape=None) -> np.ndarray:
    """A C-contiguous uint8 view (0/1) of a 2-D mask; nonzero means foreground."""
    arr = as_array(mask, name)
    _check_2d(arr, name)
    if shape is not None and arr.shape != shape:
        raise InvalidArgumentError(f"`{name}` must have the image's shape {shape}; got {tuple(arr.shape)}")
    if arr.dtype != np.bool_:
        arr = arr != 0
    return np.ascontiguousarray(arr).view(np.uint8)


def _as_labels(labels, name: str, *, allow_negative: bool = False, shape=None) -> np.ndarray:
    """A C-contiguous int32 copy/view of a 2-D integer label image."""
    arr = as_array(labels, name)
    _check_2d(arr, name)
    if shape is not None and arr.shape != shape:
        raise InvalidArgumentError(f"`{name}` must have the image's shape {shape}; got {tuple(arr.shape)}")
    if arr.dtype.kind not in "biu":
        raise DTypeError(f"`{name}` must have an integer (or bool) dtype; got {arr.dtype}")
    if arr.dtype != np.int32:
        if arr.dtype.kind != "b" and arr.size and (arr.max() > _INT32_MAX or arr.min() < -_INT32_MAX):
            raise InvalidArgumentError(f"`{name}` values must fit in int32")
        arr = arr.astype(np.int32)
    if not allow_negative and arr.min() < 0:
        raise InvalidArgumentError(f"`{name}` must not contain negative labels; got {int(arr.min())}")
    return np.ascontiguousarray(arr)


def _check_connectivity(connectivity) -> int:
    if isinstance(connectivity, (bool, np.bool_)) or not isinstance(connectivity, numbers.Integral):
        raise DTypeError(f"`connectivity` must be an int (1 or 2); got {type(connectivity).__name__}")
    c = int(connectivity)
    if c in (4, 8):
        raise InvalidArgumentError(
            f"`connectivity` counts hops as in scikit-image: 1 (4-neighbourhood) or 2 (8-neighbourhood); "
            f"got {c} — for OpenCV's {c}-connectivity pass connectivity={1 if c == 4 else 2}"
        )
    if c not in (1, 2):
        raise InvalidArgumentError(
            f"`connectivity` must be 1 (4-neighbourhood) or 2 (8-neighbourhood); got {c}"
        )
    return c


def _grey_image(image, name: str = "image", *, check_nan: bool = True) -> np.ndarray:
    """A C-contiguous 2-D image of a core dtype; NaN refused unless `check_nan` is False (for callers whose
    core function refuses it while it reads the image anyway)."""
    arr = as_array(image, name)
    _check_2d(arr, name)
    arr = np.ascontiguousarray(as_core_dtype(arr, name))
    if check_nan and arr.dtype.kind == "f" and np.isnan(arr).any():
        raise InvalidArgumentError(f"`{name}` must not contain NaN")
    return arr


# ---- thresholds ---------------------------------------------------------------------------------


def _raster_numbering(labels: np.ndarray, k: int) -> np.ndarray:
    """Map cluster ids 0..k-1 to int32 labels 1..k in raster order of their first pixel (ids that no
    pixel has take the last numbers)."""
    present, first = np.unique(labels, return_index=True)
    order = present[np.argsort(first)]
    lut = np.zeros(k, dtype=np.int32)
    lut[order] = np.arange(1, order.size + 1, dtype=np.int32)
    missing = np.setdiff1d(np.arange(k), present)
    lut[missing] = np.arange(order.size + 1, k + 1, dtype=np.int32)
    return lut[labels]
