"""Segmentation recipes built from the pieces of this package: foreground extraction, touching objects and
k-means (texture segmentation is in ``_texture``)."""

from __future__ import annotations

import numpy as np

from .._shared.validation import (
    check_bool,
    check_choice,
    check_image,
    check_int,
    check_kernel_radius,
    check_positive,
    check_real,
)
from ..cluster import kmeans
from ..color import rgb2gray, rgb2lab
from ..errors import InvalidArgumentError
from ..features import gabor_bank
from ..filters import gaussian
from ._common import _raster_numbering
from ._distance import distance_transform_edt
from ._label import label, relabel_sequential, remove_small_objects
from ._threshold import threshold_local, threshold_otsu
from ._watershed import peak_local_max, watershed

#: The largest feature weight: weights are relative to the colour group's 1, and 1e300 overflowed the
#: float32 features to inf (an error about `X` from inside k-means).
MAX_WEIGHT = 1e6


def _check_finite_image(arr: np.ndarray) -> None:
    """k-means places every pixel: NaN/inf pixels (and values past float32, where features are computed)
    are refused here by name rather than as `X` from inside :func:`segen.cluster.kmeans`."""
    if arr.dtype.kind != "f":
        return
    if not np.isfinite(arr).all():
        raise InvalidArgumentError("`image` must contain only finite values (no NaN or inf) for k-means")
    top = float(np.abs(arr).max())
    if top > float(np.finfo(np.float32).max):
        raise InvalidArgumentError(
            f"`image` has values up to {top:.3g}, past float32's range, in which its features are computed: "
            "rescale it"
        )


def _scaled(group: np.ndarray, weight: float) -> np.ndarray:
    """Scale a (N, F) feature group to total variance weight**2 (geometry inside the group is kept)."""
    g = group - group.mean(axis=0)
    total = float(np.sqrt((g.var(axis=0)).sum()))
    return g * (weight / total) if total > 0 else g


def kmeans_segment(
    image,
    k: int,
    *,
    features=("color",),
    color_space: str = "lab",
    position_weight: float = 1.0,
    texture_weight: float = 1.0,
    frequencies=(0.1, 0.2, 0.3),
    thetas=None,
    seed=0,
    n_init: int = 1,
    max_iter: int = 100,
    channel_axis: int | None = -1,
) -> np.ndarray:
    """Segment an image by k-means on per-pixel features: colour, position and Gabor texture.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Grey or RGB image (integer images are read in their dtype's range).
    k : int
        Number of segments (1 <= k <= H·W).
    features : sequence of {'color', 'position', 'texture'}, optional
        Feature groups to cluster on (default colour only).
    color_space : {'lab', 'rgb'}, optional
        Colour features of an RGB image: CIE Lab (default, via :func:`segen.color.rgb2lab`) or RGB. A grey
        image uses its intensity.
    position_weight, texture_weight : float, optional
        Weight of the position and texture groups relative to colour (each group is scaled to a total
        standard deviation equal to its weight; colour has weight 1).
    frequencies : sequence of float, optional
        Gabor frequencies (cycles/pixel) of the texture group.
    thetas : sequence of float, optional
        Gabor orientations in radians (default 4 orientations, 0..3π/4).
    seed : None, int or numpy.random.Generator, optional
        Seed of the k-means initialisation (default 0, reproducible).
    n_init, max_iter : int, optional
        Passed to :func:`segen.cluster.kmeans`.
    channel_axis : int or None, optional
        Channel axis of a 3-D image (default -1).

    Returns
    -------
    labels : (H, W) int32 ndarray
        Segments numbered 1..k in raster order of their first pixel (0 is never used: every pixel belongs
        to a segment).

    Raises
    ------
    ValueError
        If `image` is empty, has a wrong shape or NaN/inf values, `features` is empty or unknown, `k` is out
        of range, or a weight is negative or above 1e6.

    See Also
    --------
    segen.cluster.kmeans, segen.features.gabor_bank, texture_segment, foreground_kmeans

    Notes
    -----
    Texture features are ``segen.features.gabor_bank`` magnitudes (smoothed over half a wavelength) on the
    grey image, log-compressed (``log1p``); position features are (row, col). Each group is centred and
    scaled as a whole, which keeps distances within the group (Lab distances stay perceptual).

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((4, 6, 3), np.uint8); img[:, 3:] = 255
    >>> segen.segmentation.kmeans_segment(img, 2)[0].tolist()
    [1, 1, 1, 2, 2, 2]
    """

    arr, _ = check_image(image, "image", channel_axis=channel_axis)
    if arr.ndim == 3 and arr.shape[2] != 3:
        raise InvalidArgumentError(
            f"`image` must be grey or have 3 (RGB) channels; got {arr.shape[2]} channels"
        )
    _check_finite_image(arr)
    if isinstance(features, str):
        features = (features,)
    given = features
    try:
        features = tuple(features)
    except TypeError:  # a number: was "'int' object is not iterable"
        features = ()
    if not features or any(
        not isinstance(f, str) or f not in ("color", "position", "texture") for f in features
    ):
        raise InvalidArgumentError(
            f"`features` must be a non-empty subset of ('color', 'position', 'texture'); got {given!r}"
        )
    color_space = check_choice(color_space, "color_space", ("lab", "rgb"))
    pw = check_positive(position_weight, "position_weight", allow_zero=True, maximum=MAX_WEIGHT)
    tw = check_positive(texture_weight, "texture_weight", allow_zero=True, maximum=MAX_WEIGHT)
    h, w = arr.shape[:2]
    n = h * w
    k = check_int(k, "k")
    if not 1 <= k <= n:
        raise InvalidArgumentError(f"`k` must be in [1, {n}] (the number of pixels); got {k}")
    scale = 1.0 if arr.dtype.kind == "f" else float(np.iinfo(arr.dtype).max)
    groups = []
    if "color" in features:
        if arr.ndim == 3 and color_space == "lab":
            col = rgb2lab(arr).reshape(n, 3).astype(np.float32)
        else:
            col = (arr.reshape(n, -1).astype(np.float32)) / np.float32(scale)
        groups.append(_scaled(col, 1.0))
    if "position" in features:
        yy, xx = np.mgrid[0:h, 0:w]
        pos = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float32)
        groups.append(_scaled(pos, pw))
    if "texture" in features:
        if thetas is None:
            thetas = tuple(np.arange(4) * np.pi / 4)
        grey = arr if arr.ndim == 2 else arr
        tex = gabor_bank(grey, frequencies, thetas)
        tex = np.log1p(tex.reshape(n, -1).astype(np.float32) / np.float32(scale))
        groups.append(_scaled(tex, tw))
    X = np.ascontiguousarray(np.concatenate(groups, axis=1), dtype=np.float32)
    r = kmeans(X, k, n_init=n_init, max_iter=max_iter, seed=seed)
    return _raster_numbering(r.labels, k).reshape(h, w)


def _to_grey(image, channel_axis):
    arr, _ = check_image(image, "image", channel_axis=channel_axis)
    if arr.ndim == 3:
        if arr.shape[2] != 3:
            raise InvalidArgumentError(f"`image` must be grey or RGB; got {arr.shape[2]} channels")

        arr = rgb2gray(arr)
    return arr


def foreground_otsu(image, *, bright: bool = True, channel_axis: int | None = -1) -> np.ndarray:
    """Recipe: foreground mask by Otsu's threshold.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Grey or RGB image (RGB is converted to luminance).
    bright : bool, optional
        True (default): the foreground is brighter than the threshold; False: darker.
    channel_axis : int or None, optional
        Channel axis of a 3-D image.

    Returns
    -------
    mask : (H, W) bool ndarray

    Raises
    ------
    ValueError
        If `image` is empty, not finite, or has a wrong shape.

    See Also
    --------
    threshold_otsu, foreground_kmeans

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.segmentation.foreground_otsu(np.array([[10, 200, 10, 220]], np.uint8)).tolist()
    [[False, True, False, True]]
    """
    bright = check_bool(bright, "bright")
    grey = _to_grey(image, channel_axis)
    t = threshold_otsu(grey)
    return grey > t if bright else grey <= t


def foreground_kmeans(
    image, *, color_space: str = "lab", seed=0, channel_axis: int | None = -1
) -> np.ndarray:
    """Recipe: foreground mask by 2-means on colour; the background is the cluster that owns most of the
    image border.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Grey or RGB image.
    color_space : {'lab', 'rgb'}, optional
        Colour features (default Lab).
    seed : optional
        k-means seed (default 0).
    channel_axis : int or None, optional
        Channel axis of a 3-D image.

    Returns
    -------
    mask : (H, W) bool ndarray
        True on the foreground.

    Raises
    ------
    ValueError
        As :func:`kmeans_segment`.

    See Also
    --------
    kmeans_segment, foreground_otsu

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((8, 8), np.uint8); img[2:6, 2:6] = 200
    >>> int(segen.segmentation.foreground_kmeans(img).sum())
    16
    """
    arr, _ = check_image(image, "image", channel_axis=channel_axis)
    if arr.shape[0] * arr.shape[1] < 2:  # was "`k` must be in [1, 1]", for a parameter it does not have
        raise InvalidArgumentError(
            f"`image` must have at least 2 pixels to split into foreground and background; got shape "
            f"{tuple(np.shape(image))}"
        )
    lab = kmeans_segment(image, 2, color_space=color_space, seed=seed, channel_axis=channel_axis)
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    bg = 1 if np.count_nonzero(border == 1) >= np.count_nonzero(border == 2) else 2
    return lab != bg


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the background components that do not touch the border (4-connected background)."""
    bg = label(~mask, connectivity=1)
    border = np.unique(np.concatenate([bg[0], bg[-1], bg[:, 0], bg[:, -1]]))
    keep = np.zeros(int(bg.max()) + 1, dtype=bool)
    keep[border] = True
    keep[0] = False
    return mask | ~keep[bg] & (bg > 0)


def _foreground(grey, threshold, bright, min_distance, block_size, offset) -> np.ndarray:
    """The foreground of :func:`segment_touching_objects`: a global (given or Otsu's) or a local threshold."""
    if isinstance(threshold, str):
        threshold = check_choice(threshold, "threshold", ("otsu", "local"))
    elif threshold is not None:
        threshold = check_real(threshold, "threshold")
    if threshold != "local":
        for name, value in (("block_size", block_size), ("offset", offset)):
            if value is not None:
                raise InvalidArgumentError(f"`{name}` is only used with threshold='local'; got {value!r}")
        t = threshold_otsu(grey) if threshold in (None, "otsu") else threshold
        return grey > t if bright else grey <= t
    x = grey.astype(np.float64) if bright else -grey.astype(np.float64)
    if block_size is None:
        block_size = 8 * min_distance + 1
    if offset is None:
        lo, hi = np.percentile(x, [0.5, 99.5])
        offset = -0.02 * (hi - lo)
    return x > threshold_local(x, block_size, offset=check_real(offset, "offset"))


def segment_touching_objects(
    image,
    *,
    min_distance: int = 10,
    max_size: int = 64,
    bright: bool = True,
    fill_holes: bool = True,
    threshold=None,
    smooth: float = 0.0,
    block_size=None,
    offset=None,
    channel_axis: int | None = -1,
) -> np.ndarray:
    """Recipe: instance segmentation of touching round objects (coins, nuclei, cells).

    Otsu (or local) foreground → (hole filling) → Euclidean distance transform → its local maxima as
    markers → watershed of ``-distance`` inside the foreground → removal of small objects → sequential
    labels.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Grey or RGB image.
    min_distance : int, optional
        Minimum distance between object centres in pixels (about the smallest radius; default 10).
    max_size : int, optional
        Objects of at most this many pixels are dropped (default 64).
    bright : bool, optional
        Objects brighter than the background (default) or darker.
    fill_holes : bool, optional
        Fill holes in the foreground before the distance transform (default True).
    threshold : float, 'otsu' or 'local', optional
        Foreground threshold: a grey level, Otsu's (None or 'otsu', default), or 'local': each pixel against
        the Gaussian-weighted mean of the `block_size` block around it plus a margin (see `offset`), which
        keeps dim objects next to bright ones and copes with uneven background (:func:`threshold_local`).
    smooth : float, optional
        Gaussian sigma applied to the distance map before peak finding (0 = none, default), which merges
        peaks of elongated objects.
    block_size : int, optional
        With ``threshold='local'``: the odd block side, a few object diameters (default
        ``8 * min_distance + 1``).
    offset : float, optional
        With ``threshold='local'``: subtracted from the local mean, as in :func:`threshold_local` (default:
        minus 2 % of the image's robust range, its 0.5 to 99.5 percentiles, so that a pixel must stand
        that much above its surroundings and flat background stays background).
    channel_axis : int or None, optional
        Channel axis of a 3-D image.

    Returns
    -------
    labels : (H, W) int32 ndarray
        Objects 1..N, background 0.

    Raises
    ------
    ValueError
        If `image` is empty or has a wrong shape, or a parameter is out of range.

    See Also
    --------
    threshold_otsu, distance_transform_edt, peak_local_max, watershed, remove_small_objects

    Examples
    --------
    >>> import numpy as np, segen
    >>> yy, xx = np.mgrid[0:40, 0:70]
    >>> discs = ((yy - 20) ** 2 + (xx - 20) ** 2 < 150) | ((yy - 20) ** 2 + (xx - 45) ** 2 < 150)
    >>> img = discs.astype(np.uint8) * 200
    >>> int(segen.segmentation.segment_touching_objects(img, min_distance=5, max_size=10).max())
    2

    A dim object beside a bright one on an uneven background: Otsu's threshold loses it, a local one does
    not.

    >>> img = 0.1 + 0.1 * yy / 40 + discs * np.where(xx < 33, 1.0, 0.15)
    >>> kw = dict(min_distance=5, max_size=10)
    >>> int(segen.segmentation.segment_touching_objects(img, **kw).max())
    1
    >>> int(segen.segmentation.segment_touching_objects(img, threshold="local", **kw).max())
    2
    """
    grey = _to_grey(image, channel_axis)
    md = check_int(min_distance, "min_distance", minimum=1)
    ms = check_int(max_size, "max_size", minimum=0)
    bright = check_bool(bright, "bright")
    fill_holes = check_bool(fill_holes, "fill_holes")
    smooth = check_positive(smooth, "smooth", allow_zero=True)
    check_kernel_radius(smooth, 4.0, "`smooth`")  # was gaussian's error about `sigma` and `truncate`
    fg = _foreground(grey, threshold, bright, md, block_size, offset)
    if fill_holes:
        fg = _fill_holes(fg)
    dist = distance_transform_edt(fg)
    if smooth:
        dist = gaussian(dist, smooth)
    peaks = peak_local_max(dist, min_distance=md, threshold_abs=0.0, exclude_border=False)
    markers = np.zeros(fg.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    if not fg.any():
        return np.zeros(fg.shape, dtype=np.int32)
    labels = watershed(-dist, markers, mask=fg)
    labels = remove_small_objects(labels, ms)
    return relabel_sequential(labels)[0]
