"""Global thresholds: Otsu and multi-level Otsu (numpy; the histogram is one pass)."""

from __future__ import annotations

import numpy as np

from .._shared.validation import as_array, check_int
from ..errors import InvalidArgumentError

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


# ---- labelling and distances --------------------------------------------------------------------
