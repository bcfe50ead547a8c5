"""Connected components and region tools (C++: ``segen/label.hpp``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import _core
from .._shared.limits import check_allocation
from .._shared.validation import as_array, check_bool, check_choice, check_image, check_int, check_positive
from ..errors import DTypeError, InvalidArgumentError
from ._common import _INT32_MAX, _as_labels, _as_mask, _check_connectivity


def label(mask, *, connectivity: int = 2, return_num: bool = False):
    """Label the connected components of the nonzero pixels of a 2-D mask.

    Parameters
    ----------
    mask : (H, W) array_like
        Nonzero (True) pixels are foreground.
    connectivity : {1, 2}, optional
        Neighbourhood in hops, as in scikit-image: 1 = 4-neighbourhood, 2 = 8-neighbourhood (default).
    return_num : bool, optional
        Also return the number of components.

    Returns
    -------
    labels : (H, W) int32 ndarray
        0 on background, 1..N numbered in raster order of each component's first pixel.
    num : int
        Number of components (only if `return_num`).

    Raises
    ------
    ValueError
        If `mask` is empty or not 2-D, or `connectivity` is not 1 or 2 (OpenCV's 4/8 get an explanation).
    TypeError
        If `mask` is complex or not numeric.

    See Also
    --------
    remove_small_objects, regionprops, skimage.measure.label, cv2.connectedComponents

    Notes
    -----
    Identical to ``skimage.measure.label(mask != 0, connectivity=connectivity)`` (same numbering). Unlike
    scikit-image, the input is a mask: it does not separate touching regions of different nonzero values.
    A mask without foreground gives all zeros (N = 0).

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.segmentation.label(np.array([[1, 0, 1], [0, 1, 0]]), connectivity=1)
    array([[1, 0, 2],
           [0, 3, 0]], dtype=int32)
    """
    m = _as_mask(mask)
    c = _check_connectivity(connectivity)
    return_num = check_bool(return_num, "return_num")
    out, n = _core.label(m, c)
    return (out, int(n)) if return_num else out


def remove_small_objects(ar, max_size: int = 64, *, connectivity: int = 1) -> np.ndarray:
    """Remove the objects of at most `max_size` pixels.

    Parameters
    ----------
    ar : (H, W) array_like of bool or int
        A mask (its connected components are the objects) or a label image (its labels are).
    max_size : int, optional
        Objects with ``area <= max_size`` are removed (scikit-image 0.26's inclusive ``max_size``;
        default 64).
    connectivity : {1, 2}, optional
        Connectivity used to find the objects of a mask (default 1).

    Returns
    -------
    out : (H, W) ndarray
        A bool mask for bool input, else an int32 label image (labels kept, not renumbered).

    Raises
    ------
    ValueError
        If `ar` is empty, not 2-D or has negative labels, or `max_size` < 0.
    TypeError
        If `ar` has a float or complex dtype.

    See Also
    --------
    label, relabel_sequential, remove_labels, skimage.morphology.remove_small_objects

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.segmentation.remove_small_objects(np.array([[1, 0, 2, 2]]), max_size=1)
    array([[0, 0, 2, 2]], dtype=int32)
    """
    arr = as_array(ar, "ar")
    max_size = check_int(max_size, "max_size", minimum=0)
    c = _check_connectivity(connectivity)
    if arr.dtype == np.bool_:
        lab, _ = _core.label(_as_mask(arr, "ar"), c)
    else:
        lab = _as_labels(arr, "ar")
    # no object has more pixels than the image: a larger max_size removes them all, as the image's size does
    # (2**63 reached the core's int64 parameter as a pybind11 signature dump)
    out = _core.remove_small_objects(lab, min(max_size, lab.size))
    return out != 0 if arr.dtype == np.bool_ else out


def relabel_sequential(label_field, offset: int = 1):
    """Renumber the labels to ``offset, offset + 1, ...`` in increasing order of the old labels.

    Parameters
    ----------
    label_field : array_like of int
        Label image (0 stays 0).
    offset : int, optional
        The first new label (>= 1; default 1); the last new label, ``offset + n - 1``, must fit in int32.

    Returns
    -------
    relabeled : ndarray of int32
        The renumbered image.
    forward_map : ndarray of int32
        ``forward_map[old] == new`` for ``old`` in ``0 .. max(label_field)``.
    inverse_map : ndarray of int32
        ``inverse_map[new] == old`` for ``new`` in ``0 .. max(relabeled)`` (0 where no old label maps).

    Raises
    ------
    ValueError
        If `label_field` has negative labels or `offset` < 1.
    TypeError
        If `label_field` is not an integer array.

    See Also
    --------
    skimage.segmentation.relabel_sequential

    Notes
    -----
    scikit-image returns ``ArrayMap`` objects for the maps; here they are plain arrays to index with.

    Examples
    --------
    >>> import numpy as np, segen
    >>> r, fw, inv = segen.segmentation.relabel_sequential(np.array([0, 5, 5, 9]))
    >>> r.tolist(), inv.tolist()
    ([0, 1, 1, 2], [0, 5, 9])
    """
    arr = as_array(label_field, "label_field")
    if arr.dtype.kind not in "biu":
        raise DTypeError(f"`label_field` must have an integer dtype; got {arr.dtype}")
    if arr.dtype.kind == "b":  # a bool array would index as a mask (IndexError), not as labels 0 and 1
        arr = arr.view(np.uint8)
    offset = check_int(offset, "offset", minimum=1, maximum=_INT32_MAX)
    if arr.size and arr.min() < 0:
        raise InvalidArgumentError(f"`label_field` must not contain negative labels; got {int(arr.min())}")
    mx = int(arr.max()) if arr.size else 0
    check_allocation(
        5.0 * (mx + 1),
        f"`label_field`'s `forward_map` for its largest label {mx}",
        "the map has one entry per value up to it",
    )
    present = np.zeros(mx + 1, dtype=bool)
    present[arr.reshape(-1)] = True
    present[0] = False
    olds = np.flatnonzero(present)
    if offset + olds.size - 1 > _INT32_MAX:  # was an OverflowError from numpy
        raise InvalidArgumentError(
            f"`offset` + the number of labels - 1 must fit in int32 (<= {_INT32_MAX}); got offset {offset} "
            f"with {olds.size} labels"
        )
    forward = np.zeros(mx + 1, dtype=np.int32)
    forward[olds] = np.arange(offset, offset + olds.size, dtype=np.int32)
    inverse = np.zeros(offset + olds.size, dtype=np.int32)
    inverse[offset:] = olds
    return forward[arr], forward, inverse


def find_boundaries(
    label_img, *, connectivity: int = 1, mode: str = "thick", background: int = 0
) -> np.ndarray:
    """Mark the pixels on the boundaries between labelled regions.

    Parameters
    ----------
    label_img : (H, W) array_like of int or bool
        Label image.
    connectivity : {1, 2}, optional
        Which neighbours count (default 1).
    mode : {'thick', 'inner', 'outer'}, optional
        'thick': pixels with a differently labelled neighbour (default); 'inner': those inside objects
        (not background); 'outer': those in the background, plus the pixels between touching objects.
    background : int, optional
        Background label for 'inner' and 'outer' (default 0).

    Returns
    -------
    boundaries : (H, W) bool ndarray

    Raises
    ------
    ValueError
        If `label_img` is empty or not 2-D, or `mode`/`connectivity` is unknown.
    TypeError
        If `label_img` has a float or complex dtype.

    See Also
    --------
    skimage.segmentation.find_boundaries

    Notes
    -----
    Same results as scikit-image for these modes ('subpixel' is not provided). The image border is not a
    boundary.

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.segmentation.find_boundaries(np.array([[1, 1, 2, 2]])).astype(int)
    array([[0, 1, 1, 0]])
    """
    lab = _as_labels(label_img, "label_img", allow_negative=True)
    c = _check_connectivity(connectivity)
    mode = check_choice(mode, "mode", ("thick", "inner", "outer"))
    # labels are int32 here: a background outside int32 is no label's (2**31 reached the core's int parameter)
    bg = check_int(background, "background", minimum=-_INT32_MAX - 1, maximum=_INT32_MAX)
    return _core.find_boundaries(lab, c, mode, bg).view(np.bool_)


@dataclass(frozen=True)
class RegionProperties:
    """Measurements of one region (see :func:`regionprops`).

    Attributes
    ----------
    label : int
    area : int
        Pixel count.
    centroid : tuple of float
        Mean (row, col).
    bbox : tuple of int
        ``(min_row, min_col, max_row, max_col)``, max exclusive (scikit-image's convention).
    mean_intensity : float, ndarray or None
        Mean of the intensity image over the region (per channel for a multichannel image); None without
        an intensity image.
    """

    label: int
    area: int
    centroid: tuple
    bbox: tuple
    mean_intensity: object = None


def _measure(label_image, intensity_image=None, channel_axis=-1):
    lab = _as_labels(label_image, "label_image")
    inten = None
    if intensity_image is not None:
        inten, _ = check_image(intensity_image, "intensity_image", channel_axis=channel_axis)
        if inten.shape[:2] != lab.shape:
            raise InvalidArgumentError(
                f"`intensity_image` must have the label image's height and width {lab.shape}; got "
                f"{inten.shape[:2]}"
            )
    mx = int(lab.max())
    if mx <= 2 * lab.size + 4096:
        area, centroid, bbox, mean = _core.regionprops(lab, inten, mx)
        return area, centroid, bbox, mean, inten, None
    # sparse labels (e.g. 2**31 - 1 in a small image): measure the ranks, one table row per distinct label
    values, ranks = np.unique(lab, return_inverse=True)
    if values[0] != 0:
        values, ranks = np.concatenate([[0], values]), ranks + 1
    ranks = np.ascontiguousarray(ranks.reshape(lab.shape), dtype=np.int32)
    area, centroid, bbox, mean = _core.regionprops(ranks, inten, int(values.size - 1))
    return area, centroid, bbox, mean, inten, values


def regionprops(
    label_image, intensity_image=None, *, channel_axis: int | None = -1
) -> list[RegionProperties]:
    """Measure the labelled regions: area, centroid, bounding box and mean intensity.

    Parameters
    ----------
    label_image : (H, W) array_like of int
        Label image; 0 is background and is not measured.
    intensity_image : (H, W) or (H, W, C) array_like, optional
        Image for ``mean_intensity``.
    channel_axis : int or None, optional
        Channel axis of a 3-D `intensity_image` (default -1).

    Returns
    -------
    regions : list of RegionProperties
        One per label present, in increasing label order.

    Raises
    ------
    ValueError
        If `label_image` is empty, not 2-D or has negative labels; if `intensity_image` has another height
        or width.
    TypeError
        If `label_image` is not an integer array.

    See Also
    --------
    remove_labels, skimage.measure.regionprops

    Notes
    -----
    One pass in C++ for all regions (exact integer sums for area, centroid and bounding box; float64 sums
    for intensities); scikit-image computes these lazily per region. Only these four properties exist.

    Examples
    --------
    >>> import numpy as np, segen
    >>> r = segen.segmentation.regionprops(np.array([[0, 1, 1], [0, 1, 1]]))[0]
    >>> r.label, r.area, r.centroid, r.bbox
    (1, 4, (0.5, 1.5), (0, 1, 2, 3))
    """
    area, centroid, bbox, mean, inten, values = _measure(label_image, intensity_image, channel_axis)
    out = []
    for lab in np.flatnonzero(area[1:]) + 1:
        mi = None
        if mean is not None:
            mi = float(mean[lab, 0]) if inten.ndim == 2 else mean[lab].copy()
        out.append(
            RegionProperties(
                label=int(lab if values is None else values[lab]),
                area=int(area[lab]),
                centroid=(float(centroid[lab, 0]), float(centroid[lab, 1])),
                bbox=tuple(int(v) for v in bbox[lab]),
                mean_intensity=mi,
            )
        )
    return out


def merge_regions(
    label_image, image, threshold: float, *, connectivity: int = 2, channel_axis: int | None = -1
) -> np.ndarray:
    """Merge adjacent regions whose mean colours are closer than `threshold` (object merging).

    Parameters
    ----------
    label_image : (H, W) array_like of int
        Regions to merge (e.g. superpixels or an over-segmentation); 0 is background and never merged.
    image : (H, W) or (H, W, C) array_like
        Image whose per-region means are compared.
    threshold : float
        Regions joined by an edge of colour distance ``< threshold`` end up in one region (>= 0).
    connectivity : {1, 2}, optional
        Which pixels make two regions adjacent (default 2, as scikit-image's ``rag_mean_color``).
    channel_axis : int or None, optional
        Channel axis of a 3-D `image` (default -1).

    Returns
    -------
    merged : (H, W) int32 ndarray
        Merged regions numbered 1..M in order of their smallest original label.

    Raises
    ------
    ValueError
        If the shapes differ, `label_image` has negative labels, or `threshold` < 0.
    TypeError
        If `label_image` is not an integer array.

    See Also
    --------
    regionprops, skimage.graph.rag_mean_color, skimage.graph.cut_threshold

    Notes
    -----
    The region adjacency graph weighted by the Euclidean distance between mean colours, cut at
    `threshold`: the result partitions the image like ``cut_threshold(labels, rag_mean_color(image,
    labels), threshold)`` (means are not updated while merging, so the result does not depend on an
    order). Differences: the background label 0 is left alone, and the numbering is sequential.

    Examples
    --------
    >>> import numpy as np, segen
    >>> lab = np.array([[1, 2, 3]]); img = np.array([[0.0, 0.1, 1.0]])
    >>> segen.segmentation.merge_regions(lab, img, 0.5)
    array([[1, 1, 2]], dtype=int32)
    """
    lab = _as_labels(label_image, "label_image")
    img, _ = check_image(image, "image", channel_axis=channel_axis)
    if img.shape[:2] != lab.shape:
        raise InvalidArgumentError(
            f"`image` must have the label image's height and width {lab.shape}; got {img.shape[:2]}"
        )
    t = check_positive(threshold, "threshold", allow_zero=True)
    c = _check_connectivity(connectivity)
    out, _ = _core.merge_regions(lab, img, t, c)
    return out


def remove_labels(
    label_image,
    predicate: Callable[[RegionProperties], bool],
    *,
    intensity_image=None,
    relabel: bool = False,
    channel_axis: int | None = -1,
) -> np.ndarray:
    """Remove the regions for which `predicate(region)` is true (object elimination).

    Parameters
    ----------
    label_image : (H, W) array_like of int
        Label image.
    predicate : callable
        Called with each region's :class:`RegionProperties`; True removes the region (sets it to 0).
    intensity_image : (H, W) or (H, W, C) array_like, optional
        Makes ``mean_intensity`` available to the predicate.
    relabel : bool, optional
        Renumber the remaining labels 1..M (default False keeps them).
    channel_axis : int or None, optional
        Channel axis of a 3-D `intensity_image`.

    Returns
    -------
    out : (H, W) int32 ndarray

    Raises
    ------
    ValueError
        As :func:`regionprops`.
    TypeError
        If `predicate` is not callable.

    See Also
    --------
    regionprops, remove_small_objects

    Examples
    --------
    >>> import numpy as np, segen
    >>> lab = np.array([[1, 1, 2, 3, 3, 3]])
    >>> segen.segmentation.remove_labels(lab, lambda r: r.area < 3)
    array([[0, 0, 0, 3, 3, 3]], dtype=int32)
    """
    if not callable(predicate):
        raise DTypeError(f"`predicate` must be callable; got {type(predicate).__name__}")
    relabel = check_bool(relabel, "relabel")
    lab = _as_labels(label_image, "label_image")
    regions = regionprops(lab, intensity_image, channel_axis=channel_axis)
    drop = np.array([r.label for r in regions if predicate(r)], dtype=np.int32)
    out = np.where(np.isin(lab, drop), 0, lab).astype(np.int32, copy=False)
    if relabel:
        out = relabel_sequential(out)[0]
    return out


# ---- k-means segmentation and recipes ------------------------------------------------------------
