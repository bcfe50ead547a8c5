"""Geometric transforms: resize, rotate, flip (C++ core: ``segen/transform.hpp``)."""

from __future__ import annotations

import numbers

import numpy as np

from . import _core
from ._shared.validation import check_fits_float32, check_image, check_real
from .errors import InvalidArgumentError

__all__ = ["resize", "rotate", "flip", "MAX_OUTPUT_PIXELS"]

#: The largest output :func:`resize` and :func:`rotate` produce, in pixels (rows x columns): 2**30,
#: e.g. 32768 x 32768. Larger requests raise instead of trying to allocate.
MAX_OUTPUT_PIXELS = 2**30

_RESIZE_METHODS = ("nearest", "bilinear", "area")
_ROTATE_METHODS = ("nearest", "bilinear")


def _check_method(method, allowed):
    if not isinstance(method, str) or method not in allowed:
        raise InvalidArgumentError(f"`method` must be one of {', '.join(map(repr, allowed))}; got {method!r}")
    return method


def _check_output_shape(output_shape, arr: np.ndarray, channel_axis) -> tuple[int, int]:
    """(rows, cols) from `output_shape`; a 3-entry shape must repeat the channel count on `channel_axis`."""
    try:
        shape = tuple(output_shape)
    except TypeError:
        raise InvalidArgumentError(
            f"`output_shape` must be a (rows, cols) tuple of ints; got {output_shape!r}"
        ) from None
    if len(shape) == 3 and arr.ndim == 3:
        axis = int(channel_axis) % 3
        if not isinstance(shape[axis], numbers.Integral) or shape[axis] != arr.shape[2]:
            raise InvalidArgumentError(
                f"`output_shape` {shape!r} must keep the {arr.shape[2]} channels on axis {axis} "
                "(or give (rows, cols))"
            )
        shape = tuple(v for i, v in enumerate(shape) if i != axis)
    if len(shape) != 2:
        raise InvalidArgumentError(f"`output_shape` must be (rows, cols); got {output_shape!r}")
    for v in shape:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise InvalidArgumentError(f"`output_shape` must hold ints; got {output_shape!r}")
        if v < 1:
            raise InvalidArgumentError(f"`output_shape` must be positive; got {output_shape!r}")
    rows, cols = (int(v) for v in shape)
    if rows * cols > MAX_OUTPUT_PIXELS:
        raise InvalidArgumentError(
            f"`output_shape` {output_shape!r} has {rows * cols} pixels, above the limit of 2**30"
        )
    return rows, cols


def resize(
    image,
    output_shape,
    *,
    method: str = "bilinear",
    anti_aliasing: bool | None = None,
    channel_axis: int | None = -1,
) -> np.ndarray:
    """Resize an image to a given number of rows and columns.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        Input image; channels are resized independently.
    output_shape : tuple of int
        ``(rows, cols)`` of the result; ``(rows, cols, C)`` is accepted too when it keeps the channel count
        on `channel_axis`.
    method : {"bilinear", "nearest", "area"}, optional
        ``"bilinear"`` (default): linear interpolation between the four nearest pixel centres.
        ``"nearest"``: copies of input pixels. ``"area"``: along a shrinking axis, the average of the input
        over the footprint of each output pixel (box filter, weighted by overlap); use it to shrink without
        aliasing.
    anti_aliasing : bool or None, optional
        Bilinear only: smooth with a Gaussian of sigma ``(in / out - 1) / 2`` along each shrinking axis
        before interpolating, as scikit-image does. None (default) means True when shrinking along any
        axis with ``"bilinear"`` (scikit-image's default) and False otherwise. True with ``"nearest"`` and
        False with ``"area"`` (which always averages) are errors.
    channel_axis : int or None, optional
        The axis of a 3-D image that holds the channels (default -1, the last); a 2-D image is grey.

    Returns
    -------
    resized : ndarray
        Shape `output_shape` (channels where they were), same dtype as `image`: integer results are
        rounded to nearest (halves up) and saturated; dtypes outside uint8/uint16/float32/float64 follow
        segen's dtype policy.

    Raises
    ------
    ValueError
        If `output_shape` has zeros, negatives or non-integers, or more than ``MAX_OUTPUT_PIXELS`` (2**30)
        pixels; if `method` is unknown or contradicts `anti_aliasing`; if `image` is empty or not 2-D/3-D.
    TypeError
        If `image` has a complex or other non-numeric dtype.

    See Also
    --------
    rotate, skimage.transform.resize, cv2.resize

    Notes
    -----
    All methods use half-pixel centres: output pixel ``i`` is centred on input coordinate
    ``(i + 0.5) * in / out - 0.5``, and pixels beyond the border repeat the edge.

    * ``"bilinear"`` without anti-aliasing equals ``cv2.resize(..., interpolation=cv2.INTER_LINEAR)`` and
      ``skimage.transform.resize(order=1, mode="edge", anti_aliasing=False)``; with anti-aliasing it
      equals ``skimage.transform.resize(order=1, mode="edge", anti_aliasing=True)`` (scikit-image's
      default mode, "reflect", differs only in how the Gaussian sees the border).
    * ``"nearest"`` takes input pixel ``floor((i + 0.5) * in / out)``, computed in exact integer
      arithmetic: this is ``skimage.transform.resize(order=0)`` exactly. ``cv2.INTER_NEAREST_EXACT`` is
      the same rule except when the sample point falls exactly on the border between two input pixels,
      where its fixed-point arithmetic picks the lower one. ``cv2.INTER_NEAREST`` is not used as the
      reference because it drops the half-pixel offset (``floor(i * in / out)``), which shifts the image by
      up to half an input pixel and breaks the convention shared by the other methods.
    * ``"area"`` equals ``cv2.INTER_AREA`` when both axes shrink (including OpenCV's rule of ignoring
      slivers under 1/1000 of a pixel) or both grow (OpenCV's enlargement weights). When one axis shrinks
      and the other grows, OpenCV applies its enlargement weights to both axes; segen still box-averages
      the shrinking axis.

    Computation is in float32 (float64 for float64 images); integer results are then rounded, so they may
    differ by one from OpenCV's fixed-point arithmetic. NaN and infinities reach only the output pixels
    that interpolate from them with a non-zero weight (OpenCV and SciPy also spread them through
    zero weights).

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.arange(16, dtype=np.float32).reshape(4, 4)
    >>> segen.transform.resize(img, (2, 2), method="area")
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> segen.transform.resize(np.array([[0, 255]], dtype=np.uint8), (1, 4), method="nearest")
    array([[  0,   0, 255, 255]], dtype=uint8)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    method = _check_method(method, _RESIZE_METHODS)
    rows, cols = _check_output_shape(output_shape, arr, channel_axis)
    if anti_aliasing is not None and not isinstance(anti_aliasing, (bool, np.bool_)):
        raise InvalidArgumentError(f"`anti_aliasing` must be True, False or None; got {anti_aliasing!r}")
    if anti_aliasing is None:
        anti_aliasing = method == "bilinear" and (rows < arr.shape[0] or cols < arr.shape[1])
    elif anti_aliasing and method == "nearest":
        raise InvalidArgumentError("`anti_aliasing` cannot be True with method='nearest' (it copies pixels)")
    elif not anti_aliasing and method == "area":
        raise InvalidArgumentError("`anti_aliasing` cannot be False with method='area' (it always averages)")
    aa = bool(anti_aliasing) and method == "bilinear"
    return restore(_core.resize(arr, rows, cols, method, aa))


def rotate(
    image,
    angle,
    *,
    resize: bool = False,
    center=None,
    cval: float = 0.0,
    method: str = "bilinear",
    channel_axis: int | None = -1,
) -> np.ndarray:
    """Rotate an image by an angle in degrees, counter-clockwise, about its centre.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        Input image; channels are rotated alike.
    angle : float
        Rotation in degrees, counter-clockwise as displayed (rows pointing down), like
        ``skimage.transform.rotate``, ``scipy.ndimage.rotate`` and OpenCV (segen's filter orientations,
        ``theta``, are in radians; an image rotation is conventionally given in degrees).
    resize : bool, optional
        Enlarge the output so that the whole rotated image fits (default False: the output has the input's
        shape and the corners that leave it are cut).
    center : (row, col) tuple of float, optional
        The centre of rotation; default ``((H - 1) / 2, (W - 1) / 2)``, the image centre. Note the order:
        ``skimage.transform.rotate`` takes ``(col, row)``.
    cval : float, optional
        Value of output pixels that map outside the input, in the image's units (0 by default); saturated to
        the dtype's range for integer images. NaN is allowed for float images; for float32 images a finite
        value must be within float32's range.
    method : {"bilinear", "nearest"}, optional
        Interpolation (default bilinear).
    channel_axis : int or None, optional
        The axis of a 3-D image that holds the channels (default -1, the last); a 2-D image is grey.

    Returns
    -------
    rotated : ndarray
        Same dtype as `image` (integers rounded to nearest, halves up); shape as `image`, or larger with
        `resize`.

    Raises
    ------
    ValueError
        If `angle` is NaN or infinite, `center` is not two finite numbers, `cval` is not finite for an
        integer image, `method` is unknown, `image` is empty or not 2-D/3-D, or the output would exceed
        ``MAX_OUTPUT_PIXELS``.
    TypeError
        If `image` has a complex or other non-numeric dtype, or `angle`/`cval` is not a real number.

    See Also
    --------
    resize, flip, skimage.transform.rotate

    Notes
    -----
    Output pixel ``(r, c)`` samples the input at ``center + R(angle) ((r, c) + offset - center)``; with
    bilinear interpolation, neighbours outside the input count as `cval`. This is
    ``skimage.transform.rotate(order=1, mode="constant", cval=cval, preserve_range=True)`` (or ``order=0``
    for nearest, which rounds halves away from zero), including its output shape and placement with
    ``resize=True``; scikit-image returns float64 where segen keeps the dtype. One difference: scikit-image
    (``clip=True``, its default) clips the result to the input's range, keeping only pixels exactly equal
    to a `cval` outside that range; segen does not clip, so where the image's edge is blended with such a
    `cval` it returns the bilinear value (between the edge pixel and `cval`) and scikit-image the range's
    end. That is ``skimage.transform.rotate(..., clip=False)``. With `cval` inside the image's range, as
    with the default 0 for images that reach 0, the two agree.

    NaN and infinities in the image reach only the output pixels that interpolate from them.

    Multiples of 90° (negative ones included) use exact sines and cosines, so the pixels are copied
    exactly: a pure transposition/flip for square images or with ``resize=True``. Without `resize`, a
    non-square image is turned about its centre inside the original frame as scikit-image does: the parts
    that leave the frame are cut and the uncovered parts are `cval`. When ``H - W`` is odd the turned pixel
    centres fall halfway between input pixels, so (as in scikit-image) those values are averages of two
    neighbours, not copies.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    >>> segen.transform.rotate(img, 90)
    array([[2, 4],
           [1, 3]], dtype=uint8)
    >>> segen.transform.rotate(np.ones((2, 4)), 90, resize=True).shape
    (4, 2)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    angle = check_real(angle, "angle")
    cval = check_real(cval, "cval", finite=arr.dtype.kind != "f")
    check_fits_float32(cval, "cval", arr.dtype)  # 1e300 was an inf border
    if not isinstance(resize, (bool, np.bool_)):
        raise InvalidArgumentError(f"`resize` must be True or False; got {resize!r}")
    method = _check_method(method, _ROTATE_METHODS)
    if center is not None:
        try:
            center = tuple(check_real(v, "center") for v in center)
        except TypeError:
            msg = f"`center` must be a (row, col) pair of numbers; got {center!r}"
            raise InvalidArgumentError(msg) from None
        if len(center) != 2:
            raise InvalidArgumentError(f"`center` must be a (row, col) pair; got {center!r}")
    rows, cols = arr.shape[:2]
    out_rows, out_cols = _core.rotated_shape(rows, cols, angle, bool(resize))
    if out_rows * out_cols > MAX_OUTPUT_PIXELS:  # pragma: no cover - rotated_shape refuses first
        raise InvalidArgumentError("the rotated image exceeds the limit of 2**30 pixels")
    return restore(_core.rotate(arr, angle, bool(resize), center, cval, method))


def flip(image, axis: int | None = 1, *, channel_axis: int | None = -1) -> np.ndarray:
    """Flip an image up-down, left-right, or both.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        Input image.
    axis : {0, 1, None}, optional
        0 flips the rows (up-down), 1 the columns (left-right, default), None both (a 180° turn).
    channel_axis : int or None, optional
        The axis of a 3-D image that holds the channels (default -1, the last); a 2-D image is grey.

    Returns
    -------
    flipped : ndarray
        Same shape and dtype as `image` (dtypes outside uint8/uint16/float32/float64 follow segen's dtype
        policy).

    Raises
    ------
    ValueError
        If `axis` is not 0, 1 or None, or `image` is empty or not 2-D/3-D.

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.transform.flip(np.array([[1, 2, 3]], dtype=np.uint8))
    array([[3, 2, 1]], dtype=uint8)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    if axis is not None and (
        isinstance(axis, (bool, np.bool_))
        or not isinstance(axis, numbers.Integral)
        or int(axis) not in (0, 1)
    ):
        raise InvalidArgumentError(f"`axis` must be 0 (rows), 1 (columns) or None (both); got {axis!r}")
    return restore(_core.flip(arr, -1 if axis is None else int(axis)))
