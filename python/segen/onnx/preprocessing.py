"""Turning a user's image into an ONNX model's input, and the model's labels back into the image's size.

Shared by every ONNX segmenter, so a model sees the same preparation whether it runs whole
(:class:`~segen.onnx.OnnxSegmenter`) or tiled (:class:`~segen.onnx.DenseSegmenter`).
"""

from __future__ import annotations

import numpy as np

from ..color import rgb2gray
from ..errors import InvalidArgumentError
from ..transform import resize

__all__ = ["all_finite", "as_float01", "check_finite", "nearest_resize", "normalise"]


def all_finite(a: np.ndarray) -> bool:
    """Whether a numeric array holds no NaN or infinity (two reductions, no temporary array).

    Examples
    --------
    >>> all_finite(np.array([0.0, 1.0])), all_finite(np.array([0.0, np.nan])), all_finite(np.arange(3))
    (True, False, True)
    """
    if a.dtype.kind not in "fc" or a.size == 0:
        return True
    if a.dtype.kind == "c":
        return bool(np.isfinite(a).all())
    return bool(np.isfinite(a.min()) and np.isfinite(a.max()))


def check_finite(a: np.ndarray, name: str, what: str = "") -> None:
    """:class:`~segen.InvalidArgumentError` naming `name` if a float array holds NaN or infinity."""
    if not all_finite(a):
        raise InvalidArgumentError(f"`{name}` must be finite; it holds NaN or infinite values{what}")


def as_float01(image: np.ndarray) -> np.ndarray:
    """uint8 / uint16 scaled to [0, 1] as float32; floats as float32 (no copy when already float32).

    Examples
    --------
    >>> as_float01(np.array([0, 255], np.uint8))
    array([0., 1.], dtype=float32)
    """
    if image.dtype == np.uint8:
        return image.astype(np.float32) / np.float32(255)
    if image.dtype == np.uint16:
        return image.astype(np.float32) / np.float32(65535)
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf: refused by `normalise`
        return image.astype(np.float32, copy=False)


def nearest_resize(labels: np.ndarray, shape) -> np.ndarray:
    """Resize a label image to `shape` by nearest neighbour (pixel centres), keeping its dtype.

    Examples
    --------
    >>> nearest_resize(np.array([[1, 2]], np.int32), (2, 4)).tolist()
    [[1, 1, 2, 2], [1, 1, 2, 2]]
    """
    h, w = shape
    sh, sw = labels.shape
    rows = np.minimum(((np.arange(h) + 0.5) * sh / h).astype(np.intp), sh - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * sw / w).astype(np.intp), sw - 1)
    return labels[rows[:, None], cols[None, :]]


def normalise(image: np.ndarray, *, channels: int, mean=None, std=None, size=None, name: str = "model"):
    """A checked ``(H, W)`` or ``(H, W, C)`` image -> float32 ``(h, w, channels)`` as the model expects.

    Scaled to [0, 1] (:func:`as_float01`); grey repeated to RGB, or RGB(A) made grey with
    :func:`segen.color.rgb2gray` (alpha dropped); resized bilinearly to `size` ``(h, w)`` if given and
    different; then ``(x - mean) / std`` per channel where given.

    Raises
    ------
    InvalidArgumentError
        If the image's channels cannot be brought to `channels` (the message names the model `name`), or
        the image holds NaN or infinity, or values beyond float32's range once normalised.

    Examples
    --------
    >>> x = normalise(np.full((2, 2, 3), 255, np.uint8), channels=1, mean=[0.5], std=[0.5])
    >>> x.shape, round(float(x[0, 0, 0]), 6)
    ((2, 2, 1), 1.0)
    """
    x = as_float01(image)
    if x.ndim == 2:
        x = x[..., None]
    c = x.shape[2]
    if channels == 3 and c == 1:
        x = np.repeat(x, 3, axis=2)
    elif channels == 1 and c >= 3:
        x = rgb2gray(np.ascontiguousarray(x[..., :3]))[..., None]
    elif c != channels:
        raise InvalidArgumentError(f"`image` must have 1 or 3 channels for {name!r}; got {c}")
    if size is not None and x.shape[:2] != tuple(size):
        x = resize(np.ascontiguousarray(x), tuple(size), method="bilinear").reshape(tuple(size) + (channels,))
    if mean is not None:
        x = x - np.asarray(mean, np.float32)
    if std is not None:
        x = x / np.asarray(std, np.float32)
    check_finite(x, "image", " (or values beyond float32's range once normalised)")
    return x
