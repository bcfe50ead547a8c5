"""Input validation and the dtype policy shared by every public module (private).

The compiled core is strict (C-contiguous arrays of exactly the dtype a kernel is built for); everything a
user may pass is normalised here, once, so that every temporary has an owner:

* ``uint8``, ``uint16``, ``float32`` and ``float64`` images are used as they are (no copy when already
  C-contiguous);
* ``float16`` becomes ``float32``; ``bool``, ``int8`` and ``int16`` become ``float32``; wider integers
  become ``float64`` (one documented copy);
* complex, object and string arrays raise :class:`~segen.errors.DTypeError`;
* a non-contiguous view is copied once into a contiguous array.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable

import numpy as np

from ..errors import DTypeError, InvalidArgumentError
from .limits import check_allocation

#: The largest value a parameter that reaches a C ``int`` in the core may take.
C_INT_MAX = 2**31 - 1
#: The largest kernel radius the core's Gaussians accept (``segen::kMaxRadius``): ``truncate * sigma + 0.5``.
MAX_KERNEL_RADIUS = 2**20

CORE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))
BORDER_MODES = ("reflect", "mirror", "nearest", "constant", "wrap")


def _shape(a: np.ndarray) -> str:
    return str(tuple(int(s) for s in a.shape))


def as_core_dtype(arr: np.ndarray, name: str) -> np.ndarray:
    """Return `arr` with one of the four core dtypes, following the module's dtype policy."""
    dt = arr.dtype
    if dt in CORE_DTYPES:
        return arr
    if dt.kind == "b" or (dt.kind in "iu" and dt.itemsize <= 2):
        return arr.astype(np.float32)
    if dt.kind in "iu":
        return arr.astype(np.float64)
    if dt.kind == "f" and dt.itemsize < 4:
        return arr.astype(np.float32)
    if dt.kind == "f":  # longdouble
        return arr.astype(np.float64)
    raise DTypeError(
        f"`{name}` must have a real numeric dtype (uint8, uint16, float32, float64, ...); got {dt}"
    )


def as_array(value, name: str) -> np.ndarray:
    """np.asarray with a clear error for things that are not arrays of numbers.

    A view whose elements overlap in memory (``np.broadcast_to``, ``sliding_window_view``) costs the caller
    nothing however many elements it has, but the contiguous copy segen makes of it does: that copy is
    checked against the memory budget (:func:`~segen._shared.limits.check_allocation`) here, before anything
    reads the array (a 65536 x 65536 view of one pixel asked for 16 GiB).
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise DTypeError(f"`{name}` must be an array of numbers; got {type(value).__name__}") from exc
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"`{name}` must be a real numeric array; got dtype {arr.dtype}")
    check_virtual_copy(arr, name)
    return arr


def check_virtual_copy(arr: np.ndarray, name: str) -> None:
    """Refuse an array whose contiguous copy would need far more memory than the array occupies (a
    broadcast or overlapping-window view) when that copy is over the memory budget."""
    if arr.size <= 1:
        return
    span = arr.itemsize + sum((n - 1) * abs(s) for n, s in zip(arr.shape, arr.strides))
    if span >= arr.nbytes:
        return
    check_allocation(
        float(arr.size) * max(arr.itemsize, 4),
        f"a contiguous copy of `{name}` (shape {_shape(arr)}, a broadcast or overlapping view)",
    )


def check_image(
    image,
    name: str = "image",
    *,
    channel_axis: int | None = -1,
    allow_channels: bool = True,
    channels: int | None = None,
    convert: bool = True,
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Validate an image and bring it to the core's layout.

    Returns ``(arr, restore)``: ``arr`` is C-contiguous, (H, W) or (H, W, C) with channels last, with a
    core dtype when `convert` is true; ``restore(result)`` moves a result's channel axis back to where the
    caller had it (results without a channel axis pass through).

    A 2-D image is grey whatever `channel_axis` says. A 3-D image needs `channel_axis` (default -1, the
    last axis); ``channel_axis=None`` with a 3-D image is an error, since volumes are not supported.
    """
    arr = as_array(image, name)
    check_channel_axis(channel_axis)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and not allow_channels):
        want = "2-D (H, W) or 3-D (H, W, C)" if allow_channels else "2-D (H, W)"
        raise InvalidArgumentError(f"`{name}` must be {want}; got shape {_shape(arr)}")
    if arr.size == 0:
        raise InvalidArgumentError(f"`{name}` must be non-empty; got shape {_shape(arr)}")
    axis = None
    if arr.ndim == 3:
        if channel_axis is None:
            raise InvalidArgumentError(
                f"`{name}` is 3-D {_shape(arr)} but `channel_axis` is None; pass channel_axis=-1 (or 0) for a "
                "multichannel image (3-D volumes are not supported)"
            )
        axis = int(channel_axis) % 3
        if axis != 2:
            arr = np.moveaxis(arr, axis, -1)
    if channels is not None and (arr.ndim != 3 or arr.shape[2] != channels):
        got = "no channel axis" if arr.ndim == 2 else f"{arr.shape[2]} channels"
        raise InvalidArgumentError(f"`{name}` must have {channels} channels along `channel_axis`; got {got}")
    if convert:
        arr = as_core_dtype(arr, name)
    arr = np.ascontiguousarray(arr)

    def restore(result: np.ndarray) -> np.ndarray:
        if axis is None or axis == 2 or result.ndim != 3:
            return result
        return np.moveaxis(result, -1, axis)

    return arr, restore


def float_dtype_for(dtype: np.dtype) -> np.dtype:
    """Output dtype of a filter: float64 stays float64, everything else gives float32."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def check_mode(mode: str) -> str:
    if not isinstance(mode, str) or mode not in BORDER_MODES:
        raise InvalidArgumentError(
            f"`mode` must be one of {', '.join(map(repr, BORDER_MODES))}; got {mode!r}"
        )
    return mode


def check_channel_axis(channel_axis) -> None:
    """`channel_axis` is None or an int in [-3, 2], whatever the image's dimensionality (a 2-D image
    ignores it, but a string or a float there is still a mistake)."""
    if channel_axis is None:
        return
    if (
        isinstance(channel_axis, (bool, np.bool_))
        or not isinstance(channel_axis, numbers.Integral)
        or not -3 <= int(channel_axis) <= 2
    ):
        raise InvalidArgumentError(f"`channel_axis` must be an int in [-3, 2] or None; got {channel_axis!r}")


def check_real(
    value, name: str, *, finite: bool = True, minimum: float | None = None, maximum: float | None = None
) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise DTypeError(f"`{name}` must be a real number; got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:  # an int past float's range (10**400)
        v = math.copysign(math.inf, value)
    if finite and not math.isfinite(v):
        raise InvalidArgumentError(f"`{name}` must be finite; got {value!r}")
    if minimum is not None and v < minimum:
        raise InvalidArgumentError(f"`{name}` must be >= {minimum:g}; got {value!r}")
    if maximum is not None and v > maximum:
        raise InvalidArgumentError(f"`{name}` must be <= {maximum:g}; got {value!r}")
    return v


def check_positive(value, name: str, *, allow_zero: bool = False, maximum: float | None = None) -> float:
    v = check_real(value, name, maximum=maximum)
    if v < 0 or (v == 0 and not allow_zero):
        raise InvalidArgumentError(f"`{name}` must be {'>= 0' if allow_zero else '> 0'}; got {value!r}")
    return v


def check_bool(value, name: str) -> bool:
    """True or False (numpy bools and the ints 0 and 1 too); anything else — a string, None, an array, 2 —
    is an error rather than its truth value."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    raise DTypeError(f"`{name}` must be True or False; got {type(value).__name__} {_short(value)}")


def check_choice(value, name: str, choices) -> str:
    """A string among `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgumentError(
            f"`{name}` must be one of {', '.join(map(repr, choices))}; got {_short(value)}"
        )
    return value


#: float32's largest value.
F32_MAX = float(np.finfo(np.float32).max)


def check_fits_float32(value: float, name: str, result_dtype) -> None:
    """Refuse a finite `value` (a `cval`, the largest kernel weight) that a float32 result cannot hold: it
    became inf there (a border of inf for cval=1e300, inf/NaN everywhere for a weight of 1e300)."""
    if np.dtype(result_dtype) == np.float32 and math.isfinite(value) and abs(value) > F32_MAX:
        raise InvalidArgumentError(
            f"`{name}` must be within float32's range (|{name}| <= {F32_MAX:.4g}) for a float32 result; got "
            f"{value:.4g}"
        )


def check_kernel_radius(sigma: float, truncate: float, what: str) -> None:
    """Refuse a Gaussian whose radius ``truncate * sigma + 0.5`` is over the core's limit; `what` names the
    parameters responsible (e.g. "`sigma`")."""
    if truncate * sigma + 0.5 > MAX_KERNEL_RADIUS:
        raise InvalidArgumentError(
            f"{what} gives a Gaussian kernel radius of {truncate * sigma:.3g} pixels (sigma {sigma:.3g} times "
            f"truncate {truncate:g}), more than {MAX_KERNEL_RADIUS}"
        )


def prescale_for_squares(arr: np.ndarray, compute_dtype, cval: float = 0.0, headroom: float = 64.0):
    """Scale an image by a power of two so that a magnitude ``sqrt(a**2 + b**2)`` of linear responses to it
    cannot overflow `compute_dtype` in its squares; returns ``(arr, cval, scale)``, multiply the magnitude by
    ``scale`` afterwards (exact: powers of two only move the exponent).

    A float32 image with values ~1e20 gave Sobel magnitudes of inf where the true ones are ~1e20 (the
    squares overflow float32), and float64 ones past ~1e154 the same. Images whose finite values are all
    below ``sqrt(max(compute_dtype)) / headroom`` (every 8/16-bit image, every float image in a sane range)
    are returned as they are, with scale 1.
    """
    if arr.dtype.kind != "f":
        return arr, cval, 1.0
    limit = math.sqrt(float(np.finfo(compute_dtype).max)) / headroom
    hi, lo = float(np.fmax.reduce(arr, axis=None)), float(np.fmin.reduce(arr, axis=None))  # NaN ignored
    top = max(abs(hi), abs(lo), abs(cval))
    if not math.isfinite(top) or top <= limit:  # inf in the image: its magnitude is inf anyway
        return arr, cval, 1.0
    scale = 2.0 ** math.ceil(math.log2(top / limit))
    return np.ascontiguousarray(arr / arr.dtype.type(scale)), cval / scale, scale


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise DTypeError(f"`{name}` must be an int; got {type(value).__name__}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise InvalidArgumentError(f"`{name}` must be >= {minimum}; got {v}")
    if maximum is not None and v > maximum:
        raise InvalidArgumentError(f"`{name}` must be <= {maximum}; got {v}")
    return v


def check_seed(seed, name: str = "seed") -> np.random.Generator:
    """A numpy Generator from `seed`: None (fresh entropy), an int >= 0, or a ``numpy.random.Generator``
    (used as is). Anything else — a negative int, a float, a string, a legacy ``RandomState`` — is an
    error naming `name`, rather than numpy's own message."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        raise InvalidArgumentError(
            f"`{name}` must be None, an int >= 0 or a numpy.random.Generator; got a legacy RandomState "
            "(use numpy.random.default_rng)"
        )
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise InvalidArgumentError(
            f"`{name}` must be None, an int >= 0 or a numpy.random.Generator; "
            f"got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise InvalidArgumentError(f"`{name}` must be >= 0; got {seed}")
    return np.random.default_rng(int(seed))
