"""Marker-based watershed and peak detection (C++: ``segen/watershed.hpp``)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _core
from .._shared.validation import check_bool, check_int, check_positive, check_real
from ..errors import InvalidArgumentError
from ._common import _as_labels, _as_mask, _check_connectivity, _grey_image
from ._label import label


def peak_local_max(
    image,
    *,
    min_distance: int = 1,
    threshold_abs=None,
    threshold_rel=None,
    exclude_border=True,
    num_peaks=None,
) -> np.ndarray:
    """Coordinates of the local maxima of an image (for watershed markers).

    Parameters
    ----------
    image : (H, W) array_like
        Input image.
    min_distance : int, optional
        Peaks are at least this (Chebyshev) distance apart, and a peak is the maximum of its
        ``(2 * min_distance + 1)²`` neighbourhood (default 1).
    threshold_abs : float, optional
        Peaks must exceed this value (default: the image minimum).
    threshold_rel : float, optional
        Peaks must also exceed ``threshold_rel * image.max()``.
    exclude_border : bool or int, optional
        No peak within `min_distance` (True, default), 0 (False) or this many pixels of the border.
    num_peaks : int, optional
        Keep at most this many peaks, highest first (default all).

    Returns
    -------
    coordinates : (P, 2) int64 ndarray
        (row, col) of the peaks, highest first (raster order among equal values).

    Raises
    ------
    ValueError
        If `image` is empty, not 2-D or contains NaN, or a distance/count is negative.

    See Also
    --------
    watershed, skimage.feature.peak_local_max

    Notes
    -----
    Follows scikit-image's ``peak_local_max`` with its default square footprint (including its rule that a
    flat image has no peak, and that spacing is enforced greedily by decreasing value for
    ``min_distance > 1``), and returns the same coordinates in the same order. The ``labels`` and
    ``footprint`` options of scikit-image are not provided: mask the image instead.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((7, 7)); img[3, 3] = 1; img[1, 5] = 0.5
    >>> segen.segmentation.peak_local_max(img, min_distance=1).tolist()
    [[3, 3], [1, 5]]
    """
    arr = _grey_image(image)
    md = check_int(min_distance, "min_distance", minimum=0)
    thr = float(arr.min()) if threshold_abs is None else check_real(threshold_abs, "threshold_abs")
    if threshold_rel is not None:
        thr = max(thr, check_real(threshold_rel, "threshold_rel") * float(arr.max()))
    if isinstance(exclude_border, (bool, np.bool_)):
        border = md if exclude_border else 0
    else:
        border = check_int(exclude_border, "exclude_border", minimum=0)
    if num_peaks is None or (isinstance(num_peaks, float) and num_peaks == math.inf):
        n = -1
    else:
        n = check_int(num_peaks, "num_peaks", minimum=0)
    # distances past max(H, W) give the peaks of max(H, W) (the core clamps too; its parameter is a C int)
    span = max(arr.shape)
    return _core.peak_local_max(arr, min(md, span), thr, min(border, span), min(n, 2**62))


def _regular_seeds(shape, n_points: int) -> np.ndarray:
    """Markers on a regular grid of about `n_points` points (scikit-image's ``regular_seeds`` placement)."""
    dims = np.asarray(shape)
    order = np.argsort(dims)
    sdims = dims[order].astype(float)
    total = float(np.prod(dims))
    out = np.zeros(shape, dtype=np.int32)
    if total <= n_points:
        grid = (slice(None), slice(None))
    else:
        step = np.full(2, (total / n_points) ** 0.5)
        if (sdims < step).any():  # the short side cannot hold the spacing: one row of seeds along it
            step[0] = sdims[0]
            step[1] = sdims[1] / n_points
        start = (step // 2).astype(int)
        step = np.round(step).astype(int)
        sl = [slice(int(a), None, int(b)) for a, b in zip(start, step)]
        unsort = np.argsort(order)
        grid = tuple(sl[i] for i in unsort)
    view = out[grid]
    out[grid] = 1 + np.arange(view.size, dtype=np.int32).reshape(view.shape)
    return out


def watershed(
    image,
    markers=None,
    *,
    connectivity: int = 1,
    mask=None,
    compactness: float = 0.0,
    watershed_line: bool = False,
) -> np.ndarray:
    """Flood an image from markers: each pixel joins the basin that reaches it first.

    Parameters
    ----------
    image : (H, W) array_like
        The relief; lowest values are flooded first (e.g. a gradient magnitude or ``-distance``).
    markers : None, int or (H, W) array_like of int, optional
        Seeds: nonzero pixels carry the label of their basin. An int asks for about that many markers
        placed on a regular grid (within the mask), as scikit-image does. None (default) uses the
        regional minima of `image` (within the mask), labelled with `connectivity`, as scikit-image does.
    connectivity : {1, 2}, optional
        Neighbourhood in hops (1 = 4-neighbourhood, default; 2 = 8-neighbourhood).
    mask : (H, W) array_like of bool, optional
        Flood only where True; markers outside are ignored.
    compactness : float, optional
        > 0 gives compact watershed: the priority adds ``compactness`` × the distance to the marker.
    watershed_line : bool, optional
        Leave a one-pixel line of 0 between basins (only without compactness, as in scikit-image).

    Returns
    -------
    labels : (H, W) int32 ndarray
        Basin labels; 0 outside the mask, where no marker reaches, and on watershed lines.

    Raises
    ------
    ValueError
        If `image` is empty, not 2-D or contains NaN; if `markers` or `mask` does not have the image's
        shape; if `mask` has no True pixel; if `connectivity` is not 1 or 2; if `compactness` < 0; if an
        int `markers` is < 1.
    TypeError
        If `markers` is not an integer array (or int), or `image` is complex.

    See Also
    --------
    peak_local_max, distance_transform_edt, segment_touching_objects, skimage.segmentation.watershed,
    cv2.watershed

    Notes
    -----
    scikit-image's algorithm: pixels leave a priority queue by (cost, age), lowest cost first and, among
    equal costs, first in first out, so plateaus are shared between the surrounding markers by distance in
    queue steps; a pixel costs its value (plus `compactness` × distance to its marker) but never less than
    the pixel it was reached from.

    **Tie-breaking.** Markers enter the queue in raster order, so markers of equal value leave it in
    raster order; every other tie is first in, first out, as in scikit-image. scikit-image's binary heap
    releases markers of equal value in heap order instead, so a pixel that two such markers (with
    different labels) reach at the same step may go the other way: on the coins relief scaled ×4 with two
    labels, and with 89 distance-map peaks, no pixel differs; with hundreds of regional minima as markers,
    1 to 8 pixels in 8000. The rule is the same for every dtype: one relief given as uint8, uint16, float32
    or float64 gives the same basins. Without compactness the flood is O(N) (one FIFO per grey level for
    integers; for floats a radix queue on order-preserving integer keys, where -0.0 equals 0.0 and ±inf
    are the extreme levels); with compactness a binary heap with scikit-image's sift procedure gives its
    results exactly. The flood is serial (it is ordered by nature); reading and writing use the threads.

    scikit-image's ``offset`` and footprint-array connectivity are not provided.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.array([[0, 1, 2, 1, 0]], dtype=np.uint8)
    >>> segen.segmentation.watershed(img, np.array([[1, 0, 0, 0, 2]]))
    array([[1, 1, 1, 2, 2]], dtype=int32)
    """
    arr = _grey_image(image)
    c = _check_connectivity(connectivity)
    m = None
    if mask is not None:
        m = _as_mask(mask, "mask", shape=arr.shape)
        if not m.any():
            raise InvalidArgumentError("`mask` has no foreground (True) pixel: there is nothing to flood")
    if markers is None:
        minima = _core.local_minima(arr, c) != 0
        if m is not None:
            minima &= m.view(np.bool_)
        mk = label(minima, connectivity=c)
    elif isinstance(markers, numbers.Integral) and not isinstance(markers, (bool, np.bool_)):
        n = int(markers)
        if n < 1:
            raise InvalidArgumentError(f"`markers` as a count must be >= 1; got {n}")
        inside = arr.size if m is None else int(m.sum())
        mk = _regular_seeds(arr.shape, int(n / (inside / arr.size)))
    else:
        mk = _as_labels(markers, "markers", allow_negative=True, shape=arr.shape)
    comp = check_positive(compactness, "compactness", allow_zero=True)
    return _core.watershed(arr, mk, m, c, comp, check_bool(watershed_line, "watershed_line"))


# ---- region tools -------------------------------------------------------------------------------
