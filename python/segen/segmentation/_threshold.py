"""Thresholds: Otsu and multi-level Otsu (numpy; the histogram is one pass), and local thresholds (the
Gaussian and box filters of the C++ core)."""

from __future__ import annotations

import numpy as np

from .._shared.validation import (
    MAX_KERNEL_RADIUS,
    as_array,
    check_choice,
    check_fits_float32,
    check_int,
    check_kernel_radius,
    check_mode,
    check_positive,
    check_real,
)
from ..errors import InvalidArgumentError
from ..filters import gaussian, uniform

#: Integer images whose values span at most this many levels (every 8- and 16-bit image) get one bin per
#: level, as in scikit-image; wider ones (uint32, int64 data) get `nbins` bins instead of a histogram
#: over the whole range, which took 32 GiB for a uint32 image.
MAX_LEVELS = 2**16


def _histogram(image: np.ndarray, nbins: int):
    """Counts (float32) and bin centres as scikit-image's ``histogram(..., source_range='image')``."""
    flat = image.reshape(-1)
    lo, hi = flat.min(), flat.max()
    if flat.dtype.kind in "iub" and int(hi) - int(lo) < MAX_LEVELS:
        lo, hi = int(lo), int(hi)
        counts = np.bincount((flat.astype(np.int64) - lo), minlength=hi - lo + 1)
        centers = np.arange(lo, hi + 1)
    else:
        # the range keeps the image's dtype, so float32 images get float32 bin edges as in scikit-image
        if flat.dtype.kind in "iub":  # a wide integer range: float bins (exact for values below 2**53)
            flat, lo, hi = flat.astype(np.float64), float(lo), float(hi)
        counts, edges = np.histogram(flat, bins=nbins, range=(lo, hi))
        centers = (edges[:-1] + edges[1:]) / 2.0
    return counts.astype(np.float32), centers


def _check_threshold_image(image, nbins):
    arr = as_array(image, "image")
    if arr.size == 0:
        raise InvalidArgumentError(f"`image` must be non-empty; got shape {tuple(arr.shape)}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InvalidArgumentError("`image` must contain only finite values (no NaN or inf)")
    nbins = check_int(nbins, "nbins", minimum=2, maximum=MAX_LEVELS)
    return arr, nbins


def threshold_otsu(image, nbins: int = 256):
    """Otsu's threshold: the grey level that maximises the between-class variance.

    Parameters
    ----------
    image : ndarray
        Grey-level image (any shape; all values are pooled).
    nbins : int, optional
        Histogram bins for float images (default 256; at most 65536); integer images use one bin per
        value when their values span at most 65536 levels (every 8- and 16-bit image), else `nbins`.

    Returns
    -------
    threshold : float or int
        Pixels ``> threshold`` are the foreground. A constant image returns its value.

    Raises
    ------
    ValueError
        If `image` is empty or contains NaN/inf, or `nbins` < 2.
    TypeError
        If `image` is complex or not numeric.

    See Also
    --------
    threshold_multiotsu, foreground_otsu, skimage.filters.threshold_otsu

    Notes
    -----
    Computes exactly what scikit-image computes (same histogram, same float32 counts), so the two agree.

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.segmentation.threshold_otsu(np.array([[10, 10, 200], [200, 10, 200]], dtype=np.uint8))
    10
    """
    arr, nbins = _check_threshold_image(image, nbins)
    first = arr.reshape(-1)[0]
    if np.all(arr == first):
        return first.item() if hasattr(first, "item") else first
    counts, centers = _histogram(arr, nbins)
    w1 = np.cumsum(counts)
    w2 = np.cumsum(counts[::-1])[::-1]
    m1 = np.cumsum(counts * centers) / w1
    m2 = (np.cumsum((counts * centers)[::-1]) / w2[::-1])[::-1]
    between = w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2
    t = centers[int(np.argmax(between))]
    return t.item() if hasattr(t, "item") else t


def threshold_multiotsu(image, classes: int = 3, nbins: int = 256) -> np.ndarray:
    """Multi-level Otsu thresholds (exhaustive search over the histogram).

    Parameters
    ----------
    image : ndarray
        Grey-level image.
    classes : int, optional
        Number of classes, 2 or 3 (default 3): ``classes - 1`` thresholds are returned.
    nbins : int, optional
        Histogram bins for float images (default 256; at most 65536); integer images use one bin per
        value when their values span at most 65536 levels (every 8- and 16-bit image), else `nbins`.

    Returns
    -------
    thresholds : (classes - 1,) ndarray
        Increasing thresholds; ``np.digitize(image, thresholds)`` gives the classes.

    Raises
    ------
    ValueError
        If `image` is empty or not finite, `classes` is not 2 or 3, or the image has fewer distinct
        values than `classes`.

    See Also
    --------
    threshold_otsu, skimage.filters.threshold_multiotsu

    Notes
    -----
    Maximises the between-class variance over all threshold pairs of the histogram (O(bins²) for three
    classes, vectorised); for integer images with a wide value range this histogram has one bin per value,
    so very sparse 16-bit images are better rescaled first. Thresholds are bin centres, as scikit-image's.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.repeat(np.array([10, 100, 200], dtype=np.uint8), 4).reshape(3, 4)
    >>> segen.segmentation.threshold_multiotsu(img).tolist()
    [10, 100]
    """
    arr, nbins = _check_threshold_image(image, nbins)
    classes = check_int(classes, "classes")
    if classes not in (2, 3):
        raise InvalidArgumentError(f"`classes` must be 2 or 3; got {classes}")
    if classes == 2:
        return np.array([threshold_otsu(arr, nbins)])
    counts, centers = _histogram(arr, nbins)
    keep = counts > 0
    if int(keep.sum()) < classes:
        raise InvalidArgumentError(
            f"`image` must have at least {classes} distinct values for {classes} classes"
        )
    # only occupied bins can end a class: an empty bin adds exactly 0 to every cumulative sum, so the
    # search over the occupied ones finds the same thresholds (the first maximum is at an occupied bin)
    # in O(occupied**2) rather than O(levels**2) — a 16 x 16 uint16 image spanning 65,000 levels took 35 s
    counts, centers = counts[keep], centers[keep]
    p = counts.astype(np.float64) / counts.sum()
    c = centers.astype(np.float64)
    P = np.concatenate([[0.0], np.cumsum(p)])  # P[i] = sum p[:i]
    S = np.concatenate([[0.0], np.cumsum(p * c)])
    n = p.size
    # classes [0, i], [i+1, j], [j+1, n-1]; thresholds centres[i] < centres[j]
    # in blocks of rows i, so memory stays ~16 MB per temporary even for 65536 levels (a full n x n table
    # took 34 GB); the first maximum in row-major order wins, as np.argmax over the whole table would
    best, a, b = -np.inf, 0, 0
    j = np.arange(n)[None, :]
    step = max(1, 2**21 // n)
    for start in range(0, n, step):
        i = np.arange(start, min(start + step, n))[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            w0, s0 = P[i + 1], S[i + 1]
            w1, s1 = P[j + 1] - P[i + 1], S[j + 1] - S[i + 1]
            w2, s2 = 1.0 - P[j + 1], S[n] - S[j + 1]
            var = s0**2 / w0 + s1**2 / w1 + s2**2 / w2
        valid = (j > i) & (w0 > 0) & (w1 > 0) & (w2 > 0)
        var = np.where(valid, var, -np.inf)
        k = int(np.argmax(var))
        if var.flat[k] > best:
            best, (a, b) = var.flat[k], (start + k // n, k % n)
    return np.array([centers[a], centers[b]])


# ---- local threshold ----------------------------------------------------------------------------

#: Bytes of window values one pass of the median may hold (rows of the image are taken in blocks).
_MEDIAN_CHUNK_BYTES = 2**26


def _block_size(value) -> tuple[int, int]:
    pair = value if isinstance(value, (tuple, list, np.ndarray)) else (value, value)
    if len(pair) != 2:
        raise InvalidArgumentError(f"`block_size` must be an odd int or a pair of them; got {value!r}")
    out = tuple(check_int(b, "block_size", minimum=3, maximum=2 * MAX_KERNEL_RADIUS + 1) for b in pair)
    if any(b % 2 == 0 for b in out):
        raise InvalidArgumentError(
            f"`block_size` must be odd (a block centred on its pixel); got {value!r}: use {out[0] | 1}"
        )
    return out


def _extended(n: int, pad: int, mode: str) -> np.ndarray:
    """Indices of an axis of length `n` extended by `pad` on both sides under scipy.ndimage's border `mode`,
    however large `pad` is (np.pad's 'symmetric' differs from scipy's 'reflect' once `pad` is several times
    `n`)."""
    i = np.arange(-pad, n + pad)
    if mode == "nearest":
        return np.clip(i, 0, n - 1)
    if mode == "wrap":
        return i % n
    period = 2 * n if mode == "reflect" else max(2 * n - 2, 1)
    i = i % period
    return np.where(i < n, i, period - 1 - i if mode == "reflect" else period - i)


def _block_windows(image: np.ndarray, size: tuple[int, int], mode: str, cval: float) -> np.ndarray:
    """(H, W, bh, bw) read-only view of the `size` block around each pixel, the image extended by `mode`
    (scipy.ndimage's border rules); one padded copy of the image, the windows are strides over it."""
    bh, bw = size
    if mode == "constant":
        padded = np.pad(image, ((bh // 2, bh // 2), (bw // 2, bw // 2)), constant_values=cval)
    else:
        rows = _extended(image.shape[0], bh // 2, mode)
        padded = image[np.ix_(rows, _extended(image.shape[1], bw // 2, mode))]
    return np.lib.stride_tricks.sliding_window_view(padded, size)


def _median_filter(image: np.ndarray, size: tuple[int, int], mode: str, cval: float) -> np.ndarray:
    """scipy.ndimage.median_filter over a `size` block: the middle value of each window (odd count, so
    exact), rows taken in blocks to bound the memory of the windows."""
    bh, bw = size
    windows = _block_windows(image, size, mode, cval)
    h, w = image.shape
    out = np.empty(image.shape, image.dtype)
    k = bh * bw // 2
    rows = max(1, _MEDIAN_CHUNK_BYTES // max(1, w * bh * bw * image.itemsize))
    for r in range(0, h, rows):
        block = windows[r : r + rows].reshape(-1, w, bh * bw)
        out[r : r + rows] = np.partition(block, k, axis=-1)[..., k]
    return out


def _generic_filter(image: np.ndarray, size: tuple[int, int], mode: str, cval: float, func) -> np.ndarray:
    """scipy.ndimage.generic_filter over a `size` block: ``func`` called on each pixel's block values as
    a float64 1-D array in row-major order; its result must be a real number."""
    windows = _block_windows(image, size, mode, cval)
    h, w = image.shape
    out = np.empty(image.shape, image.dtype)
    bh, bw = size
    rows = max(1, _MEDIAN_CHUNK_BYTES // max(1, w * bh * bw * 8))
    for r0 in range(0, h, rows):
        block = windows[r0 : r0 + rows].reshape(-1, w, bh * bw).astype(np.float64)
        for r in range(block.shape[0]):
            for c in range(w):
                value = func(block[r, c])
                try:
                    out[r0 + r, c] = value
                except (TypeError, ValueError):
                    raise InvalidArgumentError(
                        f"`param` (the function of method='generic') must return a real number for each "
                        f"block; got {type(value).__name__} {value!r:.60}"
                    ) from None
    return out


def threshold_local(
    image,
    block_size=3,
    method: str = "gaussian",
    offset: float = 0.0,
    mode: str = "reflect",
    param=None,
    cval: float = 0.0,
) -> np.ndarray:
    """Local (adaptive) threshold: a threshold for each pixel from the block around it.

    Parameters
    ----------
    image : (H, W) array_like
        Grey-level image.
    block_size : int or (int, int), optional
        Side (or ``(rows, cols)``) of the block a pixel's threshold is computed from; odd, >= 3 (default 3).
    method : {'gaussian', 'mean', 'median', 'generic'}, optional
        'gaussian' (default): Gaussian-weighted mean with sigma ``(block_size - 1) / 6`` (or `param`);
        'mean': mean of the block; 'median': median of the block; 'generic': ``param(values)`` of the
        block's values (a float64 1-D array, row-major), a Python call per pixel (slow: use it for
        statistics the others do not give).
    offset : float, optional
        Subtracted from the local statistic (default 0): a positive offset lowers the threshold.
    mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension, scipy.ndimage's names (default 'reflect').
    param : float or (float, float) or callable, optional
        With 'gaussian': the sigma (>= 0) instead of ``(block_size - 1) / 6``. With 'generic' (required): the
        function of the block's values that gives the threshold. Not used by 'mean' and 'median'.
    cval : float, optional
        Value outside the image with ``mode='constant'``.

    Returns
    -------
    threshold : (H, W) ndarray
        The threshold of each pixel (``image > threshold`` is the foreground); float32 for float16/float32
        images, float64 for the others (scikit-image's choice: integer images are not rescaled).

    Raises
    ------
    ValueError
        If `image` is empty, not 2-D or not finite; if `block_size` is even, < 3 or not one or two ints; if
        `method` or `mode` is unknown; if `param` is given for 'mean'/'median', is a negative sigma, is not
        callable for 'generic' or returns something other than a number; if `offset`/`cval` is not finite.
    TypeError
        If `image` is not real, or a parameter is not a number.

    See Also
    --------
    threshold_otsu, skimage.filters.threshold_local

    Notes
    -----
    Equal to ``skimage.filters.threshold_local`` (within float rounding for 'gaussian' and 'mean', exactly
    for 'median'): the Gaussian and the mean are segen's own filters (:func:`segen.filters.gaussian`,
    :func:`segen.filters.uniform`, C++), computed in float64 for integer and float64 images; the median
    is numpy's, O(block_size²) per pixel (for a block several times larger than the image, with
    ``mode='reflect'``, scipy's 2-D median — hence scikit-image's — reads past its own border extension;
    segen's follows the border rule). 'generic' calls `param` on the same windows as 'median', as
    scipy's ``generic_filter`` (which scikit-image uses) does.

    Examples
    --------
    >>> import numpy as np, segen
    >>> ramp = np.linspace(0, 200, 8)[None, :].repeat(3, 0)      # uneven background
    >>> img = ramp.copy(); img[:, 2] += 30; img[:, 6] += 30       # two spots on it
    >>> (img > segen.segmentation.threshold_local(img, 3, 'mean', offset=-10)).astype(int)[1].tolist()
    [0, 0, 1, 0, 0, 0, 1, 0]
    """
    arr = as_array(image, "image")
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidArgumentError(
            f"`image` must be a non-empty 2-D (H, W) image; got shape {tuple(arr.shape)}"
        )
    size = _block_size(block_size)
    method = check_choice(method, "method", ("gaussian", "mean", "median", "generic"))
    offset = check_real(offset, "offset")
    mode = check_mode(mode)
    cval = check_real(cval, "cval")
    if method == "gaussian":
        if param is None:
            sigma = tuple((b - 1) / 6.0 for b in size)
        else:
            pair = param if isinstance(param, (tuple, list, np.ndarray)) else (param, param)
            if len(pair) != 2:
                raise InvalidArgumentError(f"`param` (the sigma) must be a number or a pair; got {param!r}")
            sigma = tuple(check_positive(p, "param", allow_zero=True) for p in pair)
            check_kernel_radius(max(sigma), 4.0, "`param`")
    elif method == "generic":
        if not callable(param):
            raise InvalidArgumentError(
                f"`param` must be a function of a block's values (1-D float64 array) -> number with "
                f"method='generic'; got {param!r:.60}"
            )
    elif param is not None:
        raise InvalidArgumentError(
            f"`param` is only used by method='gaussian' (a sigma) and 'generic' (a function); got {param!r} with {method!r}"
        )
    work = arr.astype(np.float32 if arr.dtype in (np.float16, np.float32) else np.float64)
    check_fits_float32(offset, "offset", work.dtype)  # 1e300 made a threshold of -inf
    if not np.isfinite(work).all():
        raise InvalidArgumentError("`image` must contain only finite values (no NaN or inf)")
    if method == "gaussian":
        local = gaussian(work, sigma, mode=mode, cval=cval)
    elif method == "mean":
        local = uniform(work, size, mode=mode, cval=cval)
    elif method == "median":
        local = _median_filter(work, size, mode, cval)
    else:
        local = _generic_filter(work, size, mode, cval, param)
    return local - local.dtype.type(offset)
