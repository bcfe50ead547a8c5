"""Marker-based watershed and peak detection (C++: ``segen/watershed.hpp``)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _core
from .._shared.validation import as_array, check_bool, check_int, check_positive, check_real
from ..errors import InvalidArgumentError
from ._common import _as_labels, _as_mask, _check_connectivity, _grey_image
from ._label import label, regionprops


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """The [start, stop) runs of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row.view(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _sliding_max(a: np.ndarray, length: int) -> np.ndarray:
    """``out[:, j] = a[:, j:j + length].max(1)``, by doubling: O(log length) passes."""
    m, span = a, 1
    while 2 * span <= length:
        m = np.maximum(m[:, :-span], m[:, span:])
        span *= 2
    if span < length:
        m = np.maximum(m[:, : m.shape[1] - (length - span)], m[:, length - span :])
    return m


def _fold(footprint: np.ndarray, size: int) -> np.ndarray:
    """Fold the rows of `footprint` further than ``size - 1`` from its centre row onto that row: with border
    'nearest' they all read the image's first or last row, so the footprint shrinks and the result does not
    change (a 100000-row footprint on a 16-row image padded 100000 rows)."""
    c = footprint.shape[0] // 2
    lo, hi = c - (size - 1), c + (size - 1)
    if lo <= 0 and hi >= footprint.shape[0] - 1:
        return footprint
    lo, hi = max(lo, 0), min(hi, footprint.shape[0] - 1)
    out = footprint[lo : hi + 1].copy()
    out[0] |= footprint[: lo + 1].any(0)
    out[-1] |= footprint[hi:].any(0)
    # keep the centre at index len // 2: pad the shorter side with False rows
    before, after = c - lo, hi - c
    pad = (max(after - before, 0), max(before - after, 0))
    return np.pad(out, (pad, (0, 0)))


def _max_filter(image: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.maximum_filter(image, footprint=footprint, mode='nearest')``: per footprint row, one
    sliding maximum per run of True (a disc or a square is one run per row)."""
    h, w = image.shape
    footprint = _fold(_fold(footprint, h).T, w).T
    fh, fw = footprint.shape
    cy, cx = fh // 2, fw // 2
    pad = np.pad(image, ((cy, fh - 1 - cy), (cx, fw - 1 - cx)), mode="edge")
    by_length: dict[int, np.ndarray] = {}
    out = None
    for dy in range(fh):
        for x0, x1 in _runs(footprint[dy]):
            if x1 - x0 not in by_length:
                by_length[x1 - x0] = _sliding_max(pad, x1 - x0)
            part = by_length[x1 - x0][dy : dy + h, x0 : x0 + w]
            out = part.copy() if out is None else np.maximum(out, part, out=out)
    return out


def _opening_leftover(mask: np.ndarray) -> np.ndarray:
    """``mask & ~scipy.ndimage.binary_opening(mask)`` (cross structure, outside False): the pixels of `mask`
    that belong to no full cross inside it."""
    p = np.pad(mask, 1)
    eroded = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    e = np.pad(eroded, 1)
    opened = e[1:-1, 1:-1] | e[:-2, 1:-1] | e[2:, 1:-1] | e[1:-1, :-2] | e[1:-1, 2:]
    return mask & ~opened


def _peak_mask(image, footprint, threshold, mask=None):
    """scikit-image's candidate rule: equal to the footprint's maximum (border 'nearest') and above the
    threshold; a flat image (flat over `mask`) has none, except the pixels of `mask` no cross fits in."""
    if footprint.size == 1 or image.size == 1:
        return image > threshold
    out = image == _max_filter(image, footprint)
    if np.all(out) if mask is None else np.all(out[mask]):
        out[:] = False
        if mask is not None:
            out[_opening_leftover(mask)] = True
    out &= image > threshold
    return out


def _spaced(coords: np.ndarray, spacing: int, limit: int) -> np.ndarray:
    """Greedy spacing of `coords` (highest first): keep a peak when no kept one is closer than `spacing`
    (Chebyshev), at most `limit` peaks; a grid of cells of side `spacing` finds the close ones."""
    kept: list[int] = []
    cells: dict[tuple[int, int], list[int]] = {}
    ys, xs = coords[:, 0].tolist(), coords[:, 1].tolist()
    for i, (y, x) in enumerate(zip(ys, xs)):
        if len(kept) >= limit:
            break
        cy, cx = y // spacing, x // spacing
        if any(
            abs(ys[k] - y) < spacing and abs(xs[k] - x) < spacing
            for gy in (cy - 1, cy, cy + 1)
            for gx in (cx - 1, cx, cx + 1)
            for k in cells.get((gy, gx), ())
        ):
            continue
        kept.append(i)
        cells.setdefault((cy, cx), []).append(i)
    return coords[kept]


def _highest(image, mask, limit, spacing) -> np.ndarray:
    """The peaks of `mask`, highest first (raster order among equal values), spaced, at most `limit`."""
    coords = np.argwhere(mask)
    order = np.argsort(-image[mask].astype(np.float64), kind="stable")
    coords = coords[order]
    if spacing > 1:
        coords = _spaced(coords, spacing, limit)
    return coords[:limit]


def _check_footprint(footprint) -> np.ndarray:
    fp = as_array(footprint, "footprint")
    if fp.ndim != 2 or fp.size == 0:
        raise InvalidArgumentError(f"`footprint` must be a non-empty 2-D array; got shape {tuple(fp.shape)}")
    fp = np.ascontiguousarray(fp != 0)
    if not fp.any():
        raise InvalidArgumentError("`footprint` must have at least one True (nonzero) element")
    return fp


def _count(value, name: str) -> int:
    """A peak count: an int >= 0, or None / inf for no limit (returned as a huge int)."""
    if value is None or (isinstance(value, float) and value == math.inf):
        return 2**62
    return min(check_int(value, name, minimum=0), 2**62)


def _peaks_by_label(arr, labels, footprint, thr, border, md, per_label, n):
    """scikit-image's ``labels`` branch: the peaks of each region (its bounding box after the border is
    excluded; pixels of other regions set to the dtype's lowest value), region after region."""
    inner = labels.copy()
    if border:
        for sl in (np.s_[:border, :], np.s_[-border:, :], np.s_[:, :border], np.s_[:, -border:]):
            inner[sl] = 0
    low = np.finfo(arr.dtype).min if arr.dtype.kind == "f" else np.iinfo(arr.dtype).min
    span = max(arr.shape)
    found = []
    for region in regionprops(inner):
        r0, c0, r1, c1 = region.bbox
        own = labels[r0:r1, c0:c1] == region.label
        sub = np.where(own, arr[r0:r1, c0:c1], low)
        peaks = _highest(sub, _peak_mask(sub, footprint, thr, own), per_label, min(md, span))
        found.append(peaks + np.array([r0, c0]))
    coords = np.concatenate(found) if found else np.empty((0, 2), np.int64)
    if len(coords) > n:
        chosen = np.zeros(arr.shape, dtype=bool)
        chosen[tuple(coords.T)] = True
        coords = _highest(arr, chosen, n, min(md, span))
    return coords.astype(np.int64)


def peak_local_max(
    image,
    *,
    min_distance: int = 1,
    threshold_abs=None,
    threshold_rel=None,
    exclude_border=True,
    num_peaks=None,
    footprint=None,
    labels=None,
    num_peaks_per_label=None,
) -> np.ndarray:
    """Coordinates of the local maxima of an image (for watershed markers).

    Parameters
    ----------
    image : (H, W) array_like
        Input image.
    min_distance : int, optional
        Peaks are at least this (Chebyshev) distance apart, and, without `footprint`, a peak is the maximum
        of its ``(2 * min_distance + 1)²`` neighbourhood (default 1).
    threshold_abs : float, optional
        Peaks must exceed this value (default: the image minimum).
    threshold_rel : float, optional
        Peaks must also exceed ``threshold_rel * image.max()``.
    exclude_border : bool or int, optional
        No peak within `min_distance` (True, default), 0 (False) or this many pixels of the border.
    num_peaks : int, optional
        Keep at most this many peaks, highest first (default all).
    footprint : (h, w) array_like of bool, optional
        The neighbourhood a peak is the maximum of (nonzero = in it), centred on element ``(h // 2, w // 2)``,
        instead of the ``(2 * min_distance + 1)²`` square; `min_distance` still spaces the peaks.
    labels : (H, W) array_like of int, optional
        Search each labelled region on its own (0 = nowhere): a peak is the maximum of its neighbourhood
        among the pixels of its own region, so touching regions each get their peaks.
    num_peaks_per_label : int, optional
        With `labels`: at most this many peaks per region (default all).

    Returns
    -------
    coordinates : (P, 2) int64 ndarray
        (row, col) of the peaks, highest first (raster order among equal values); with `labels`, region
        after region in increasing label order (highest first within each), unless `num_peaks` cuts them,
        in which case highest first overall.

    Raises
    ------
    ValueError
        If `image` is empty, not 2-D or contains NaN, a distance/count is negative, `footprint` is empty
        or has no True element, or `labels` does not have the image's shape or has negative labels.
    TypeError
        If `labels` is not an integer array.

    See Also
    --------
    watershed, skimage.feature.peak_local_max

    Notes
    -----
    Follows scikit-image's ``peak_local_max`` and returns the same coordinates in the same order, including
    its rules that a flat image has no peak (with `labels`: a flat region has none except its pixels that
    no 3 x 3 cross fits in), that spacing is enforced greedily by decreasing value for
    ``min_distance > 1`` (Chebyshev distance, scikit-image's default ``p_norm``), and that with `labels` the
    border exclusion trims each region's bounding box. Without `footprint` and `labels` the C++ core does
    the work; with either, numpy does: a maximum filter of one sliding maximum per run of True per
    footprint row, and the peaks of each region in its bounding box.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((7, 7)); img[3, 3] = 1; img[1, 5] = 0.5
    >>> segen.segmentation.peak_local_max(img, min_distance=1).tolist()
    [[3, 3], [1, 5]]

    Two touching regions: the dimmer one keeps its own peak when searched on its own.

    >>> img = np.outer([1, 2, 3, 2, 1], [1, 2, 3, 9, 8, 7]).astype(float)
    >>> lab = np.array([[1, 1, 1, 2, 2, 2]]).repeat(5, 0)
    >>> segen.segmentation.peak_local_max(img, exclude_border=False).tolist()
    [[2, 3]]
    >>> segen.segmentation.peak_local_max(img, labels=lab, exclude_border=False).tolist()
    [[2, 2], [2, 3]]
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
    n = _count(num_peaks, "num_peaks")
    per_label = _count(num_peaks_per_label, "num_peaks_per_label")
    # distances past max(H, W) give the peaks of max(H, W) (the core clamps too; its parameter is a C int)
    span = max(arr.shape)
    if footprint is None and labels is None:
        return _core.peak_local_max(arr, min(md, span), thr, min(border, span), min(n, 2**62))
    fp = np.ones((2 * min(md, span) + 1,) * 2, bool) if footprint is None else _check_footprint(footprint)
    border = min(border, span)
    if labels is not None:
        lab = _as_labels(labels, "labels", shape=arr.shape)
        return _peaks_by_label(arr, lab, fp, thr, border, md, per_label, n)
    mask = _peak_mask(arr, fp, thr)
    if border:
        for sl in (np.s_[:border, :], np.s_[-border:, :], np.s_[:, :border], np.s_[:, -border:]):
            mask[sl] = False
    return _highest(arr, mask, n, min(md, span)).astype(np.int64)


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


_NEIGHBOURS = {
    1: {(-1, 0), (0, -1), (0, 1), (1, 0)},
    2: {(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)} - {(0, 0)},
}


def _flood_connectivity(connectivity, offset) -> int:
    """1 or 2 from watershed's `connectivity` (hops, or a footprint array as scikit-image takes) and
    `offset` (the footprint's centre): the neighbours a footprint gives around its centre must be the 4- or
    the 8-neighbourhood, the flood's two."""
    if isinstance(connectivity, (np.ndarray, list, tuple)):
        fp = as_array(connectivity, "connectivity")
        if fp.ndim != 2 or fp.size == 0:
            raise InvalidArgumentError(
                f"`connectivity` as a footprint must be a non-empty 2-D array; got shape {tuple(fp.shape)}"
            )
        fp = fp != 0
    else:
        c = _check_connectivity(connectivity)
        fp = np.ones((3, 3), bool) if c == 2 else np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    if offset is None:
        if any(n % 2 == 0 for n in fp.shape):
            raise InvalidArgumentError(
                f"`connectivity` of shape {fp.shape} has no centre element: give `offset`, or odd sides"
            )
        centre = (fp.shape[0] // 2, fp.shape[1] // 2)
    else:
        if isinstance(offset, (str, bytes)) or not hasattr(offset, "__len__") or len(offset) != 2:
            raise InvalidArgumentError(f"`offset` must be a (row, col) pair of ints; got {offset!r}")
        centre = tuple(check_int(o, "offset", minimum=0) for o in offset)
        if centre[0] >= fp.shape[0] or centre[1] >= fp.shape[1]:
            raise InvalidArgumentError(
                f"`offset` {centre} must index an element of the connectivity footprint of shape {fp.shape}"
            )
    if not fp[centre]:
        raise InvalidArgumentError(
            f"the connectivity footprint must be True at its centre `offset` {centre} (scikit-image drops a "
            "neighbour otherwise)"
        )
    ys, xs = np.nonzero(fp)
    around = {(int(y) - centre[0], int(x) - centre[1]) for y, x in zip(ys, xs)} - {(0, 0)}
    for c, neighbours in _NEIGHBOURS.items():
        if around == neighbours:
            return c
    raise InvalidArgumentError(
        "`connectivity` and `offset` must give the 4-neighbourhood (a 3 x 3 cross centred on `offset`) or the "
        f"8-neighbourhood (a 3 x 3 square), the two the flood supports; got neighbours at {sorted(around)}"
    )


def watershed(
    image,
    markers=None,
    *,
    connectivity=1,
    offset=None,
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
    connectivity : {1, 2} or (h, w) array_like of bool, optional
        Neighbourhood in hops (1 = 4-neighbourhood, default; 2 = 8-neighbourhood), or as scikit-image also
        takes it, a footprint: the True elements around its centre (`offset`) are the neighbours; it must
        give the 4- or the 8-neighbourhood.
    offset : (int, int), optional
        The centre of the `connectivity` footprint (scikit-image's meaning; default its middle element,
        which needs odd sides). For an int connectivity the footprint is 3 x 3 and the only valid offset is
        ``(1, 1)``.
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
        shape; if `mask` has no True pixel; if `connectivity` (with `offset`) is not the 4- or the
        8-neighbourhood; if `compactness` < 0; if an int `markers` is < 1.
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
    results exactly. A float relief whose values rarely repeat (fewer than 1 in 16 of about 4096 pixels
    sampled on a grid, e.g. a smoothed gradient) of at most 4096 x 4096 pixels (beyond, the queue is
    faster again: the sweep's visits in sorted order miss the caches) is flooded instead as a sweep over
    its pixels sorted by value, which replays the queue's order (pixels that wait below the flood's level
    are filled first in, first out when it reaches them, and tied values in the queue's order), so the
    labels are the same; ``SEGEN_WATERSHED_FLOOD=queue`` or ``=sweep`` forces one of the two. The flood
    is serial (it is ordered by nature); reading, sorting and writing use the threads.

    A footprint `connectivity` and `offset` are accepted where they describe one of the flood's two
    neighbourhoods (scikit-image's results are then the same); other footprints (a 5 x 5 square, a
    footprint whose `offset` is off its centre, which makes the neighbourhood lopsided) are refused:
    scikit-image floods them, but pads the image by `offset` only, so an off-centre neighbourhood reads
    across the image's edges.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.array([[0, 1, 2, 1, 0]], dtype=np.uint8)
    >>> segen.segmentation.watershed(img, np.array([[1, 0, 0, 0, 2]]))
    array([[1, 1, 1, 2, 2]], dtype=int32)
    """
    arr = _grey_image(image, check_nan=False)  # the core refuses NaN while it reads the image
    c = _flood_connectivity(connectivity, offset)
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
