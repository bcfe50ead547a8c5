"""Linear filters: correlation and convolution, separable filtering, Gaussian, box, Laplace, Laplacian of
Gaussian, and the Sobel/Scharr gradient operators (C++ core: ``segen/filters.hpp``).

Conventions shared by every function here:

* Borders are scipy.ndimage's: ``'reflect'`` (default, ``dcba|abcd|dcba``), ``'mirror'`` (``dcb|abcd|cba``),
  ``'nearest'``, ``'constant'`` (``cval`` outside) and ``'wrap'``. Kernels may be larger than the image:
  the border rule is applied as many times as needed, as scipy.ndimage does.
* Output dtype: float64 for float64 input, float32 otherwise (uint8, uint16, float32, and the types segen's
  dtype policy turns into float32). Integer images are *not* rescaled to [0, 1].
* A 3-D image is filtered channel by channel along ``channel_axis`` (default -1); a 2-D image is grey.
* float32 results are accumulated in float32 (scipy accumulates in float64): they differ from scipy's by
  rounding only, at most about 3e-7 of the value range times the sum of the absolute kernel weights (which
  is 1 for the smoothing filters; measured on photographs and random images).
* The input is never modified; a non-contiguous view is copied once.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _core
from ._shared.docs import fill_doc
from ._shared.validation import (
    MAX_KERNEL_RADIUS,
    as_array,
    check_bool,
    check_fits_float32,
    check_image,
    check_int,
    check_mode,
    check_positive,
    check_real,
    float_dtype_for,
    prescale_for_squares,
)
from .errors import InvalidArgumentError

__all__ = [
    "correlate",
    "convolve",
    "separable",
    "gaussian",
    "uniform",
    "laplace",
    "gaussian_laplace",
    "sobel",
    "sobel_h",
    "sobel_v",
    "scharr",
    "scharr_h",
    "scharr_v",
]


# ---- validation helpers ----------------------------------------------------------------------------------


def _pair(value, name: str) -> tuple:
    """A scalar, or a sequence of two values (row axis, column axis)."""
    if isinstance(value, (str, bytes)):
        raise InvalidArgumentError(f"`{name}` must be a number or a pair of numbers; got {value!r}")
    if np.ndim(value) == 0:
        return (value, value)
    seq = list(np.asarray(value, dtype=object).ravel()) if np.ndim(value) == 1 else None
    if seq is None or len(seq) != 2:
        raise InvalidArgumentError(
            f"`{name}` must be a number or a pair (rows, cols) of numbers; "
            f"got {np.shape(value)}-shaped {value!r}"
        )
    return (seq[0], seq[1])


def _sigmas(sigma, *, allow_zero: bool) -> tuple[float, float]:
    s = _pair(sigma, "sigma")
    return tuple(check_positive(v, "sigma", allow_zero=allow_zero) for v in s)  # type: ignore[return-value]


def _common(mode, cval, dtype=None) -> tuple[str, float]:
    """`mode` and `cval`; with the image's `dtype`, a `cval` that a float32 result cannot hold is refused
    (1e300 became inf all along the border)."""
    mode, v = check_mode(mode), check_real(cval, "cval")
    if dtype is not None:
        check_fits_float32(v, "cval", float_dtype_for(dtype))
    return mode, v


def _kernel(weights, name: str, ndim: int, image_dtype=None) -> np.ndarray:
    w = as_array(weights, name)
    if w.ndim != ndim:
        want = "1-D" if ndim == 1 else "2-D"
        raise InvalidArgumentError(f"`{name}` must be {want}; got shape {tuple(w.shape)}")
    if w.size == 0:
        raise InvalidArgumentError(f"`{name}` must be non-empty; got shape {tuple(w.shape)}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not np.isfinite(w).all():
        raise InvalidArgumentError(f"`{name}` must contain only finite values; got NaN or inf")
    if image_dtype is not None:  # such images are filtered in float32
        check_fits_float32(float(np.abs(w).max()), name, float_dtype_for(image_dtype))
    return w


# ---- correlation and convolution -------------------------------------------------------------------------


@fill_doc
def correlate(image, weights, *, mode: str = "reflect", cval: float = 0.0, channel_axis: int | None = -1):
    """Correlate an image with a 2-D kernel, as ``scipy.ndimage.correlate``.

    ``out[y, x] = sum_{j, k} weights[j, k] * image[y + j - kh // 2, x + k - kw // 2]`` for a kernel of
    shape ``(kh, kw)``, any size (even sizes included), with the border rule for pixels outside.

    Parameters
    ----------
    %(image)s
    weights : (kh, kw) array_like
        The kernel, real and finite. It may be larger than the image.
    mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension (scipy.ndimage's names and meanings).
    %(cval)s
    %(channel_axis)s

    Returns
    -------
    %(filtered)s

    Raises
    ------
    ValueError
        If `image` or `weights` is empty or has the wrong number of dimensions, `weights` has a NaN or
        inf, `mode` is unknown, or `cval` is not finite.
    TypeError
        If `image` or `weights` is not real (e.g. complex).

    See Also
    --------
    convolve, separable : the flipped kernel; a cheaper path for a kernel that is an outer product.

    Notes
    -----
    Kernel taps with ``|w| <= 2.2e-16`` are skipped, as scipy.ndimage does, so a NaN in the image spreads
    only where the kernel is non-zero. Point-symmetric kernels cost about half the multiplications.
    Unlike scipy, integer images give a float32 result rather than a result of their own dtype.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((3, 3), np.float32); img[1, 1] = 1
    >>> segen.filters.correlate(img, [[1, 2, 3]])
    array([[0., 0., 0.],
           [3., 2., 1.],
           [0., 0., 0.]], dtype=float32)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    w = _kernel(weights, "weights", 2, arr.dtype)
    mode, cval = _common(mode, cval, arr.dtype)
    return restore(_core.correlate(arr, w, mode, cval, False))


@fill_doc
def convolve(image, weights, *, mode: str = "reflect", cval: float = 0.0, channel_axis: int | None = -1):
    """Convolve an image with a 2-D kernel, as ``scipy.ndimage.convolve``.

    Convolution is correlation with the kernel flipped along both axes; for an even kernel size the
    flipped kernel's centre is at ``(size - 1) // 2``, where scipy.ndimage puts it.

    Parameters
    ----------
    %(image)s
    weights : (kh, kw) array_like
        The kernel, real and finite; any size.
    %(mode)s
    %(cval)s
    %(channel_axis)s

    Returns
    -------
    %(filtered)s

    Raises
    ------
    ValueError
        As :func:`correlate`.
    TypeError
        As :func:`correlate`.

    See Also
    --------
    correlate

    Notes
    -----
    As :func:`correlate`: zero taps are skipped and integer images give float32.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((3, 3), np.float32); img[1, 1] = 1
    >>> segen.filters.convolve(img, [[1, 2, 3]])
    array([[0., 0., 0.],
           [1., 2., 3.],
           [0., 0., 0.]], dtype=float32)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    w = _kernel(weights, "weights", 2, arr.dtype)
    mode, cval = _common(mode, cval, arr.dtype)
    return restore(_core.correlate(arr, w, mode, cval, True))


@fill_doc
def separable(
    image,
    row_kernel,
    col_kernel,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    channel_axis: int | None = -1,
):
    """Correlate each row with `row_kernel` and each column with `col_kernel`.

    The result equals ``correlate(image, np.outer(col_kernel, row_kernel))`` for every border mode, at the
    cost of ``len(row_kernel) + len(col_kernel)`` rather than their product multiplications per pixel.

    Parameters
    ----------
    %(image)s
    row_kernel : (kw,) array_like
        Weights along each row (axis 1), centred at ``kw // 2``.
    col_kernel : (kh,) array_like
        Weights along each column (axis 0), centred at ``kh // 2``.
    %(mode)s
    %(cval)s
    %(channel_axis)s

    Returns
    -------
    %(filtered)s

    Raises
    ------
    ValueError
        If `image` or a kernel is empty, a kernel is not 1-D or has a NaN or inf, `mode` is unknown, or
        `cval` is not finite.
    TypeError
        If `image` or a kernel is not real.

    See Also
    --------
    correlate, gaussian

    Notes
    -----
    With ``mode='constant'`` this is the 2-D correlation's result (pixels outside the image are `cval`),
    which differs from applying ``scipy.ndimage.correlate1d`` twice (each pass padding with `cval`)
    unless `col_kernel` sums to 1.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.arange(9, dtype=np.float32).reshape(3, 3)
    >>> segen.filters.separable(img, [1, 0, -1], [0, 1, 0], mode="nearest")
    array([[-1., -2., -1.],
           [-1., -2., -1.],
           [-1., -2., -1.]], dtype=float32)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    kr = _kernel(row_kernel, "row_kernel", 1, arr.dtype)
    kc = _kernel(col_kernel, "col_kernel", 1, arr.dtype)
    mode, cval = _common(mode, cval, arr.dtype)
    return restore(_core.separable(arr, kr, kc, mode, cval))


#: The largest box the core takes: a radius of MAX_KERNEL_RADIUS each side (2**31 gave a pybind11
#: signature dump, 2**26 the core's own `size_row`).
_MAX_SIZE = 2 * MAX_KERNEL_RADIUS + 1

# ---- smoothing -------------------------------------------------------------------------------------------


@fill_doc
def gaussian(
    image,
    sigma=1.0,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    channel_axis: int | None = -1,
):
    """Gaussian blur, as ``scipy.ndimage.gaussian_filter`` over the two spatial axes.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        Input image; channels are blurred independently.
    sigma : float or (float, float), optional
        Standard deviation in pixels, for both axes or as ``(sigma_row, sigma_col)``; >= 0. A zero sigma
        leaves that axis unfiltered (as scipy does).
    %(mode)s
    %(cval)s
    truncate : float, optional
        The kernel radius is ``int(truncate * sigma + 0.5)`` pixels (scipy's rule); > 0.
    %(channel_axis)s

    Returns
    -------
    blurred : ndarray
        Same shape as `image`; float64 for float64 input, float32 otherwise.

    Raises
    ------
    ValueError
        If a sigma is negative, NaN or inf, `sigma` is not a scalar or a pair, `truncate` is not > 0,
        `image` is empty or not 2-D/3-D, `mode` is unknown, or `cval` is not finite.
    TypeError
        If `image` is not real, or `sigma`/`truncate`/`cval` is not a number.

    See Also
    --------
    uniform, gaussian_laplace

    Notes
    -----
    The result is scipy's: the same sampled, normalised kernel, applied along axis 0 then axis 1, each pass
    padding with `cval` in constant mode. Unlike ``skimage.filters.gaussian``, integer images are not
    rescaled to [0, 1] (divide by 255 or 65535 to get its values) and the result is float32.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((5, 5), np.float32); img[2, 2] = 1
    >>> out = segen.filters.gaussian(img, sigma=1)
    >>> round(float(out.sum()), 6), int(out.argmax())
    (1.0, 12)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    s_row, s_col = _sigmas(sigma, allow_zero=True)
    mode, cval = _common(mode, cval, arr.dtype)
    truncate = check_positive(truncate, "truncate")
    return restore(_core.gaussian(arr, s_row, s_col, mode, cval, truncate))


@fill_doc
def uniform(image, size=3, *, mode: str = "reflect", cval: float = 0.0, channel_axis: int | None = -1):
    """Box (mean) filter, as ``scipy.ndimage.uniform_filter`` over the two spatial axes.

    Parameters
    ----------
    %(image)s
    size : int or (int, int), optional
        Window size for both axes or as ``(rows, cols)``; in [1, 2097153]. Along each axis the window starts
        ``size // 2`` pixels before the output pixel (scipy's placement for even sizes).
    %(mode)s
    %(cval)s
    %(channel_axis)s

    Returns
    -------
    %(filtered)s

    Raises
    ------
    ValueError
        If a size is < 1 or `size` is not an int or a pair of ints, `image` is empty or not 2-D/3-D,
        `mode` is unknown, or `cval` is not finite.
    TypeError
        If `image` is not real or a size is not an int.

    See Also
    --------
    gaussian

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.filters.uniform(np.array([[0, 3, 0]], np.uint8), size=(1, 3), mode="constant")
    array([[1., 1., 1.]], dtype=float32)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    s_row, s_col = (check_int(v, "size", minimum=1, maximum=_MAX_SIZE) for v in _pair(size, "size"))
    mode, cval = _common(mode, cval, arr.dtype)
    return restore(_core.uniform(arr, s_row, s_col, mode, cval))


# ---- second derivatives ----------------------------------------------------------------------------------


@fill_doc
def laplace(image, *, mode: str = "reflect", cval: float = 0.0, channel_axis: int | None = -1):
    """Discrete Laplacian, as ``scipy.ndimage.laplace``: second differences [1, -2, 1] along both axes.

    Parameters
    ----------
    %(image)s
    %(mode)s
    %(cval)s
    %(channel_axis)s

    Returns
    -------
    %(filtered)s

    Raises
    ------
    ValueError
        If `image` is empty or not 2-D/3-D, `mode` is unknown, or `cval` is not finite.
    TypeError
        If `image` is not real.

    See Also
    --------
    gaussian_laplace

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((3, 3), np.float32); img[1, 1] = 1
    >>> segen.filters.laplace(img, mode="constant")
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]], dtype=float32)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    mode, cval = _common(mode, cval, arr.dtype)
    return restore(_core.laplace(arr, mode, cval))


@fill_doc
def gaussian_laplace(
    image,
    sigma,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
    channel_axis: int | None = -1,
):
    """Laplacian of Gaussian, as ``scipy.ndimage.gaussian_laplace`` over the two spatial axes.

    Parameters
    ----------
    %(image)s
    sigma : float or (float, float)
        Standard deviation of the Gaussian, for both axes or as ``(sigma_row, sigma_col)``; > 0.
    %(mode)s
    %(cval)s
    truncate : float, optional
        The kernel radius is ``int(truncate * sigma + 0.5)`` pixels; > 0.
    %(channel_axis)s

    Returns
    -------
    out : ndarray
        Same shape as `image`; float64 for float64 input, float32 otherwise. Negative on the bright side
        of an edge and at the centre of a bright blob.

    Raises
    ------
    ValueError
        If a sigma is not > 0 and finite, `truncate` is not > 0, `image` is empty or not 2-D/3-D, `mode`
        is unknown, or `cval` is not finite.
    TypeError
        If `image` is not real.

    See Also
    --------
    laplace, gaussian

    Notes
    -----
    Computed as scipy does: the second Gaussian derivative along axis 0 smoothed along axis 1, plus the
    converse, in one pass over the image. Unlike scipy, a zero sigma is refused (scipy then silently drops
    the derivative along that axis).

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((9, 9), np.float32); img[4, 4] = 1
    >>> out = segen.filters.gaussian_laplace(img, sigma=1)
    >>> bool(out[4, 4] < 0), bool(abs(out.sum()) < 1e-2)
    (True, True)
    """
    arr, restore = check_image(image, channel_axis=channel_axis)
    s_row, s_col = _sigmas(sigma, allow_zero=False)
    mode, cval = _common(mode, cval, arr.dtype)
    truncate = check_positive(truncate, "truncate")
    return restore(_core.gaussian_laplace(arr, s_row, s_col, mode, cval, truncate))


# ---- gradients -------------------------------------------------------------------------------------------


def _eroded_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """`mask` as bool, eroded by a 3x3 square with False outside (scikit-image's rule)."""
    m = as_array(mask, "mask")
    if m.shape != shape:
        raise InvalidArgumentError(f"`mask` must have the image's shape {shape}; got {tuple(m.shape)}")
    m = m.astype(bool)
    p = np.zeros((shape[0] + 2, shape[1] + 2), bool)
    p[1:-1, 1:-1] = m
    out = m.copy()
    for dy in range(3):
        for dx in range(3):
            out &= p[dy : dy + shape[0], dx : dx + shape[1]]
    return out


def _edge_axis(axis) -> int:
    """-1 for the magnitude (None or both axes), else the derivative's axis (0 or 1)."""

    def one(a):
        if isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_)) and -2 <= int(a) <= 1:
            return int(a) % 2
        return None

    if axis is None:
        return -1
    if one(axis) is not None:
        return one(axis)
    if isinstance(axis, (tuple, list)) and sorted(map(one, axis), key=str) == [0, 1]:
        return -1
    raise InvalidArgumentError(f"`axis` must be None, 0 (rows), 1 (columns) or (0, 1); got {axis!r}")


def _edge(name, image, axis, mode, cval, mask, channel_axis, return_direction):
    arr, restore = check_image(image, channel_axis=channel_axis)
    ax = _edge_axis(axis)
    return_direction = check_bool(return_direction, "return_direction")
    if return_direction and ax != -1:
        raise InvalidArgumentError(f"`return_direction` needs the magnitude (axis=None); got axis={axis!r}")
    mode, cval = _common(mode, cval, arr.dtype)
    keep = None if mask is None else _eroded_mask(mask, arr.shape[:2])
    scale = 1.0
    if ax == -1:  # the magnitude squares the gradients: keep them inside the float range (1e20 gave inf)
        arr, cval, scale = prescale_for_squares(arr, float_dtype_for(arr.dtype), cval)
    res = _core.edge_filter(arr, name, ax, mode, cval, return_direction)
    outs = res if isinstance(res, tuple) else (res,)
    if scale != 1.0:
        np.multiply(outs[0], outs[0].dtype.type(scale), out=outs[0])
    if keep is not None:
        k = keep if arr.ndim == 2 else keep[..., None]
        for o in outs:
            o *= k
    outs = tuple(restore(o) for o in outs)
    return outs if return_direction else outs[0]


@fill_doc
def sobel(
    image,
    *,
    axis=None,
    mode: str = "reflect",
    cval: float = 0.0,
    mask=None,
    channel_axis: int | None = -1,
    return_direction: bool = False,
):
    """Sobel gradient magnitude (or one signed component), as ``skimage.filters.sobel``.

    Parameters
    ----------
    %(image)s
    axis : {None, 0, 1}, optional
        None (default): the magnitude ``sqrt((g_row**2 + g_col**2) / 2)``. 0: the signed derivative
        along the rows' axis, ``g_row`` (as :func:`sobel_h`); 1: along the columns, ``g_col``
        (as :func:`sobel_v`).
    mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension (for 'constant', pixels outside the image are `cval`, as in scikit-image's 2-D
        convolution).
    %(cval)s
    mask : (H, W) array of bool, optional
        Where the result is kept. As in scikit-image, the mask is first eroded by a 3x3 square (pixels on
        the image border count as outside), and the result is multiplied by it.
    %(channel_axis)s
    return_direction : bool, optional
        Also return the gradient direction (only with ``axis=None``).

    Returns
    -------
    magnitude : ndarray
        Same shape as `image`; float64 for float64 input, float32 otherwise. The signed component with
        `axis` 0 or 1.
    direction : ndarray
        Only with ``return_direction=True``: ``arctan2(g_row, g_col)`` in radians, in [-pi, pi], same
        shape and dtype. 0 means the image gets brighter towards +column (rightwards), pi/2 brighter
        towards +row (downwards), +-pi leftwards; where the gradient is zero it is 0, where it is NaN it
        is NaN. Masked pixels are 0. float32 directions are computed with a polynomial arctangent, within
        4e-7 rad of the exact angle; float64 ones with the C library's ``atan2``.

    Raises
    ------
    ValueError
        If `axis` is not None, 0 or 1, `return_direction` is asked with an `axis`, `mask` has another shape
        than the image's rows and columns, `image` is empty or not 2-D/3-D, `mode` is unknown, or `cval`
        is not finite.
    TypeError
        If `image` or `mask` is not real.

    See Also
    --------
    sobel_h, sobel_v, scharr

    Notes
    -----
    The kernels are scikit-image's: smoothing ``[1, 2, 1] / 4`` across, difference ``[1, 0, -1]`` along
    (convolved), so ``g_row`` is positive where the image gets brighter downwards. Deliberate differences
    from scikit-image: integer images are not rescaled to [0, 1] (divide the result by 255 or 65535 to get
    its values) and give float32; a 3-D image is filtered per channel rather than as a volume.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((4, 4), np.float32); img[:, 2:] = 1
    >>> mag, ang = segen.filters.sobel(img, return_direction=True)
    >>> mag[1]
    array([0.        , 0.70710677, 0.70710677, 0.        ], dtype=float32)
    >>> float(ang[1, 1])
    0.0
    """
    return _edge("sobel", image, axis, mode, cval, mask, channel_axis, return_direction)


@fill_doc
def scharr(
    image,
    *,
    axis=None,
    mode: str = "reflect",
    cval: float = 0.0,
    mask=None,
    channel_axis: int | None = -1,
    return_direction: bool = False,
):
    """Scharr gradient magnitude (or one signed component), as ``skimage.filters.scharr``.

    Same as :func:`sobel` with the smoothing ``[3, 10, 3] / 16``, which is closer to rotation invariant.

    Parameters
    ----------
    %(image)s
    axis : {None, 0, 1}, optional
        None (default): the magnitude ``sqrt((g_row**2 + g_col**2) / 2)``; 0 or 1: the signed derivative
        along that axis (as :func:`scharr_h`, :func:`scharr_v`).
    %(mode)s
    %(cval)s
    mask : (H, W) array of bool, optional
        Where the result is kept, after a 3x3 erosion (scikit-image's rule).
    %(channel_axis)s
    return_direction : bool, optional
        Also return the gradient direction ``arctan2(g_row, g_col)`` (only with ``axis=None``).

    Returns
    -------
    magnitude : ndarray
        Same shape as `image`; float64 for float64 input, float32 otherwise.
    direction : ndarray
        Only with ``return_direction=True``; see :func:`sobel`.

    Raises
    ------
    ValueError
        As :func:`sobel`.
    TypeError
        As :func:`sobel`.

    See Also
    --------
    sobel, scharr_h, scharr_v

    Notes
    -----
    Same deliberate differences from scikit-image as :func:`sobel`.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((4, 4), np.float32); img[:, 2:] = 1
    >>> segen.filters.scharr(img)[1]
    array([0.        , 0.70710677, 0.70710677, 0.        ], dtype=float32)
    """
    return _edge("scharr", image, axis, mode, cval, mask, channel_axis, return_direction)


def _component_doc(op: str, axis: int) -> str:
    what = (
        "along the rows' axis (axis 0): responds to horizontal edges, positive where the image gets "
        "brighter downwards"
        if axis == 0
        else "along the columns' axis (axis 1): responds to vertical edges, positive where the image gets "
        "brighter rightwards"
    )
    suffix = "h" if axis == 0 else "v"
    Op = op.capitalize()
    return f"""{Op} derivative {what}; as ``skimage.filters.{op}_{suffix}``.

    Equal to ``{op}(image, axis={axis}, ...)``.

    Parameters
    ----------
    %(image)s
    mode : {{'reflect', 'mirror', 'nearest', 'constant', 'wrap'}}, optional
        Border extension (for 'constant', pixels outside the image are `cval`).
    %(cval)s
    mask : (H, W) array of bool, optional
        Where the result is kept, after a 3x3 erosion (scikit-image's rule).
    %(channel_axis)s

    Returns
    -------
    %(filtered)s

    Raises
    ------
    ValueError
        As :func:`{op}`.
    TypeError
        As :func:`{op}`.

    See Also
    --------
    {op}

    Notes
    -----
    Same deliberate differences from scikit-image as :func:`sobel` (no rescaling of integer images,
    per-channel filtering).

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((4, 4), np.float32); img[{"2:, :" if axis == 0 else ":, 2:"}] = 1
    >>> segen.filters.{op}_{suffix}(img){"[:, 1]" if axis == 0 else "[1]"}
    array([0., 1., 1., 0.], dtype=float32)
    """


def _make_component(op: str, axis: int):
    def component(
        image, *, mode: str = "reflect", cval: float = 0.0, mask=None, channel_axis: int | None = -1
    ):
        return _edge(op, image, axis, mode, cval, mask, channel_axis, False)

    component.__name__ = component.__qualname__ = f"{op}_{'h' if axis == 0 else 'v'}"
    component.__doc__ = _component_doc(op, axis)
    fill_doc(component)
    component.__module__ = __name__
    return component


sobel_h = _make_component("sobel", 0)
sobel_v = _make_component("sobel", 1)
scharr_h = _make_component("scharr", 0)
scharr_v = _make_component("scharr", 1)
