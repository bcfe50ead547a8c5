"""Texture segmentation: Gabor energies and local binary patterns smoothed over a window, k-means, a majority vote."""

from __future__ import annotations

import numpy as np

from .._shared.validation import check_image, check_int, check_kernel_radius, check_positive
from ..cluster import kmeans
from ..errors import InvalidArgumentError
from ..features import LUMINANCE, gabor_bank, local_binary_pattern
from ..filters import gaussian
from ._common import _raster_numbering
from ._recipes import _check_finite_image

#: texture_segment's defaults, shared with the ``kmeans-texture`` segmenter.
TEXTURE_DEFAULTS = dict(
    frequencies=(0.05, 0.1, 0.2, 0.3),
    smoothing=3.0,
    position_weight=1.0,
    lbp_weight=1.6,
    majority_sigma=16.0,
    n_init=5,
)
_MAX_WEIGHT = 1e6
#: contrast thresholds of the two local binary pattern histograms, as fractions of the grey range of an
#: image whose values spread evenly over it (a histogram-equalised one): the image's standard deviation
#: times sqrt(12) stands for that range, so that the features do not change with contrast or brightness
_LBP_THRESHOLDS = (0.0, 0.2)
_LBP_SIGMA = 16.0


def _standardised(X: np.ndarray) -> np.ndarray:
    """Each column centred and scaled to unit variance, in place (a constant column stays 0)."""
    X -= X.mean(axis=0, dtype=np.float64).astype(X.dtype)
    std = X.std(axis=0, dtype=np.float64)
    X /= np.where(std > 0, std, 1.0).astype(X.dtype)
    return X


def _lbp_histograms(img: np.ndarray) -> np.ndarray:
    """(H·W, 20) Gaussian-weighted local histograms of the rotation-invariant uniform LBP codes
    (:func:`segen.features.local_binary_pattern`) at the two thresholds (relative to the image's spread:
    ``sqrt(12) * std``, which is the range of evenly spread values)."""
    h, w = img.shape
    spread = float(np.sqrt(12.0) * img.std(dtype=np.float64))
    planes = np.empty((h, w, 10 * len(_LBP_THRESHOLDS)), np.float32)
    for i, t in enumerate(_LBP_THRESHOLDS):
        codes = local_binary_pattern(img, "uniform", threshold=t * spread)
        for b in range(10):
            planes[..., 10 * i + b] = codes == b
    return gaussian(planes, _LBP_SIGMA).reshape(h * w, -1)


def _majority(labels: np.ndarray, k: int, sigma: float) -> np.ndarray:
    """Gaussian-weighted majority vote: every pixel takes the label that weighs most around it."""
    best = np.zeros(labels.shape, np.float32)
    out = labels.copy()
    for c in range(k):
        vote = gaussian((labels == c).astype(np.float32), sigma)
        win = vote > best
        out[win] = c
        best[win] = vote[win]
    return out


def texture_segment(
    image,
    k: int,
    *,
    frequencies=TEXTURE_DEFAULTS["frequencies"],
    thetas=None,
    smoothing: float = TEXTURE_DEFAULTS["smoothing"],
    position_weight: float = TEXTURE_DEFAULTS["position_weight"],
    lbp_weight: float = TEXTURE_DEFAULTS["lbp_weight"],
    majority_sigma: float = TEXTURE_DEFAULTS["majority_sigma"],
    n_init: int = TEXTURE_DEFAULTS["n_init"],
    seed=0,
    channel_axis: int | None = -1,
) -> np.ndarray:
    """Recipe: unsupervised texture segmentation into `k` regions.

    Gabor energies (the magnitude of the complex response, :func:`segen.features.gabor_bank`) at each
    frequency and orientation, averaged by a Gaussian over `smoothing` wavelengths; local histograms
    (Gaussian window of sigma 16 pixels) of rotation-invariant uniform local binary patterns (8
    neighbours at radius 1) at two contrast thresholds, 0 and 0.2 of the image's spread (its standard
    deviation times sqrt(12), the range of evenly spread values), so that no feature depends on the
    image's contrast or brightness; each feature
    scaled to unit variance; the pixel's position added with a small weight; k-means (k-means++, `n_init`
    runs); and a Gaussian-weighted majority vote over the labels, which removes fragments and straightens
    borders.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Grey or RGB image (RGB is reduced to luminance; integer images are read in their dtype's range).
    k : int
        Number of textures (1 <= k <= H·W).
    frequencies : sequence of float, optional
        Gabor frequencies in cycles per pixel (default 0.05, 0.1, 0.2, 0.3: periods of 3 to 20 pixels).
    thetas : sequence of float, optional
        Gabor orientations in radians (default 4: 0, π/4, π/2, 3π/4; 0 responds to vertical edges).
    smoothing : float, optional
        The energies are averaged by a Gaussian of sigma ``smoothing / frequency`` pixels, i.e. over
        `smoothing` wavelengths (default 3, as Jain & Farrokhnia advise: see
        :func:`segen.features.gabor_bank`; > 0).
    position_weight : float, optional
        Standard deviation of each of the two position features (row, column) relative to a texture
        feature's, which is 1 (default 1.0; 0 disables). Some position keeps regions compact and splits
        one texture less often into two clusters.
    lbp_weight : float, optional
        Standard deviation of each local binary pattern feature relative to a Gabor feature's (default
        1.6; 0 disables). The patterns do not change with scale, so a texture shot in perspective (its
        elements shrinking toward the horizon) stays one cluster more often.
    majority_sigma : float, optional
        Sigma in pixels of the majority vote on the labels (default 16; 0 disables).
    n_init : int, optional
        k-means runs from different k-means++ starts; the best (lowest inertia) is kept (default 5).
    seed : None, int or numpy.random.Generator, optional
        Seed of k-means (default 0: the same image gives the same labels on any machine and thread count).
    channel_axis : int or None, optional
        Channel axis of a 3-D image (default -1).

    Returns
    -------
    labels : (H, W) int32 ndarray
        Regions 1..k, numbered in raster order of their first pixel (a cluster emptied by the majority
        vote takes the last numbers and no pixel).

    Raises
    ------
    ValueError
        If `image` is empty, has a wrong shape or NaN/inf values, `k` is out of range, or a parameter is
        negative or out of range (including a smoothing kernel too large for the core).

    See Also
    --------
    segen.features.gabor_bank, segen.cluster.kmeans, kmeans_segment

    Notes
    -----
    On histogram-equalised mosaics of real texture photographs (``benchmarks/texture_quality.py``) this
    reaches a higher pixel accuracy than the plain scikit-image recipe (Gabor magnitudes, Gaussian
    smoothing, k-means), in a small fraction of its time; the numbers are in
    ``benchmarks/results/texture_quality.md``. Before issue 12 this function was :func:`kmeans_segment`
    on log Gabor magnitudes smoothed over half a wavelength, with no vote, which is far less accurate.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((32, 64)); img[:, 32:] = np.sin(np.arange(32) * 2.0)[None, :]  # flat | stripes
    >>> lab = segen.segmentation.texture_segment(img, 2, position_weight=0.0)
    >>> bool((lab[:, 4:28] == lab[0, 4]).all() and (lab[:, 36:60] != lab[0, 4]).all())
    True
    """
    arr, _ = check_image(image, "image", channel_axis=channel_axis)
    if arr.ndim == 3 and arr.shape[2] != 3:
        raise InvalidArgumentError(
            f"`image` must be grey or have 3 (RGB) channels; got {arr.shape[2]} channels"
        )
    _check_finite_image(arr)
    h, w = arr.shape[:2]
    n = h * w
    k = check_int(k, "k")
    if not 1 <= k <= n:
        raise InvalidArgumentError(f"`k` must be in [1, {n}] (the number of pixels); got {k}")
    smoothing = check_positive(smoothing, "smoothing")
    pw = check_positive(position_weight, "position_weight", allow_zero=True, maximum=_MAX_WEIGHT)
    lw = check_positive(lbp_weight, "lbp_weight", allow_zero=True, maximum=_MAX_WEIGHT)
    ms = check_positive(majority_sigma, "majority_sigma", allow_zero=True)
    check_kernel_radius(ms, 4.0, "`majority_sigma`")  # else gaussian's error about `sigma`
    n_init = check_int(n_init, "n_init", minimum=1, maximum=1000)
    if thetas is None:
        thetas = tuple(np.arange(4) * np.pi / 4)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max)
    if arr.ndim == 3:  # grey once, for both feature kinds (the conversion gabor_bank would make itself)
        work = np.float64 if arr.dtype == np.float64 else np.float32
        arr = np.ascontiguousarray(arr.astype(work, copy=False) @ np.asarray(LUMINANCE, dtype=work))
    feats = gabor_bank(arr, frequencies, thetas, smoothing=smoothing).reshape(n, -1)
    groups = [_standardised(feats)]
    if lw > 0:
        groups.append(_standardised(_lbp_histograms(arr)) * np.float32(lw))
    if pw > 0:
        yy, xx = np.mgrid[0:h, 0:w]
        pos = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float32)
        groups.append(_standardised(pos) * np.float32(pw))
    X = np.ascontiguousarray(np.concatenate(groups, axis=1), dtype=np.float32)
    labels = kmeans(X, k, n_init=n_init, seed=seed).labels.reshape(h, w)
    if ms > 0 and k > 1:
        labels = _majority(labels, k, ms)
    return _raster_numbering(labels, k)
