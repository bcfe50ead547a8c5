"""Clustering of (N, D) data: k-means and DBSCAN (C++ core: ``segen/cluster.hpp``)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from . import _core
from ._shared.validation import C_INT_MAX, as_array, check_int, check_positive
from .errors import DTypeError, InvalidArgumentError

__all__ = ["KMeansResult", "DBSCANResult", "kmeans", "dbscan"]


@dataclass(frozen=True)
class KMeansResult:
    """Result of :func:`kmeans`.

    Attributes
    ----------
    labels : (N,) int32 ndarray
        Cluster of each sample, in ``0 .. k-1``.
    centers : (k, D) ndarray
        Cluster centres, with the dtype of the data (float32 or float64).
    inertia : float
        Sum of the squared distances of the samples to their centre.
    n_iter : int
        Lloyd iterations run (of the best of the `n_init` runs).
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    n_iter: int


@dataclass(frozen=True)
class DBSCANResult:
    """Result of :func:`dbscan`.

    Attributes
    ----------
    labels : (N,) int32 ndarray
        Cluster of each sample, ``0 .. n_clusters-1``, or -1 for noise.
    core_sample_mask : (N,) bool ndarray
        True for core samples.
    n_clusters : int
        Number of clusters found.
    """

    labels: np.ndarray
    core_sample_mask: np.ndarray
    n_clusters: int


def _check_data(X, name: str = "X") -> np.ndarray:
    arr = as_array(X, name)
    if arr.ndim != 2:
        raise InvalidArgumentError(f"`{name}` must be 2-D (N, D); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidArgumentError(f"`{name}` must be non-empty; got shape {arr.shape}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    arr = np.ascontiguousarray(arr)
    if not np.isfinite(arr).all():
        raise InvalidArgumentError(f"`{name}` must contain only finite values (no NaN or inf)")
    return arr


def _seed_to_int(seed) -> int:
    """Map `seed` (None, int or numpy Generator) to the 64-bit seed of segen's own generator."""
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**63))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise DTypeError(
            f"`seed` must be None, an int >= 0 or a numpy.random.Generator; got {type(seed).__name__}"
        )
    if seed < 0:  # was taken modulo 2**64: -1 silently meant 2**64 - 1
        raise InvalidArgumentError(f"`seed` must be >= 0; got {seed}")
    if seed >= 2**64:  # was taken modulo 2**64 (2**64 gave seed 0's result); hashed as numpy does instead
        return int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0])
    return int(seed)


def kmeans(
    X, k: int, *, init="k-means++", n_init: int = 1, max_iter: int = 300, tol: float = 1e-4, seed=None
) -> KMeansResult:
    """Cluster samples with k-means (Lloyd's algorithm, accelerated exactly with Hamerly's bounds).

    Parameters
    ----------
    X : (N, D) array_like
        Samples. float32 and float64 are used as they are; other real dtypes are converted to float64.
    k : int
        Number of clusters, ``1 <= k <= N``.
    init : {'k-means++', 'random'} or (k, D) array_like, optional
        Greedy k-means++ (default, as scikit-learn: ``2 + ln k`` candidates per centre, the best kept),
        ``k`` distinct samples drawn at random, or the starting centres themselves (then one run).
    n_init : int, optional
        Number of runs with different seeds; the run with the lowest inertia is returned (default 1).
    max_iter : int, optional
        Maximum Lloyd iterations per run (default 300).
    tol : float, optional
        Convergence threshold on the total squared centre shift, relative to the mean variance of the
        features (scikit-learn's convention; default 1e-4). A run also stops when no label changes.
    seed : None, int or numpy.random.Generator, optional
        Seed of segen's own generator (SplitMix64): the same seed gives the same result on any platform
        and at any thread count. An int must be >= 0 (seeds from 2**64 up are hashed to 64 bits with
        ``numpy.random.SeedSequence``). None draws a fresh seed.

    Returns
    -------
    result : KMeansResult
        ``labels`` (N,) int32, ``centers`` (k, D) of X's float dtype, ``inertia`` and ``n_iter``.

    Raises
    ------
    ValueError
        If `X` is empty, not 2-D or contains NaN/inf; if `k` < 1 or `k` > N; if `init` is unknown or has
        the wrong shape; if `n_init` or `max_iter` is not in [1, 2**31 - 1], `tol` < 0 or `seed` < 0.
    TypeError
        If `X` is complex or not numeric, or `seed` has an unsupported type.

    See Also
    --------
    dbscan, segen.segmentation.kmeans_segment, sklearn.cluster.KMeans

    Notes
    -----
    From the same starting centres the iterations are those of scikit-learn's ``KMeans(algorithm="lloyd")``:
    labels, centres and inertia agree up to floating-point rounding (ties go to the lowest centre index).
    An empty cluster is moved onto the sample farthest from its centre, as scikit-learn does. Sums are
    accumulated in float64 over fixed chunks of samples and reduced in order, hence the thread-count
    independence. Constant data (or fewer than `k` distinct samples) is not an error: some centres then
    coincide, the samples go to the lowest-numbered of the coinciding centres and the inertia is 0 for
    constant data. The random streams differ from scikit-learn's, so k-means++ picks other seeds.

    Examples
    --------
    >>> import numpy as np, segen
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> r = segen.cluster.kmeans(X, 2, seed=0)
    >>> sorted(np.bincount(r.labels).tolist())
    [2, 2]
    >>> round(r.inertia, 3)
    0.01
    """
    arr = _check_data(X)
    k = check_int(k, "k")
    if k < 1:
        raise InvalidArgumentError(f"`k` must be >= 1; got {k}")
    if k > arr.shape[0]:
        raise InvalidArgumentError(f"`k` must be <= the number of samples ({arr.shape[0]}); got {k}")
    n_init = check_int(n_init, "n_init", minimum=1, maximum=C_INT_MAX)
    max_iter = check_int(max_iter, "max_iter", minimum=1, maximum=C_INT_MAX)
    tol = check_positive(tol, "tol", allow_zero=True)
    seed_int = _seed_to_int(seed)
    centers = None
    if isinstance(init, str):
        if init not in ("k-means++", "random"):
            raise InvalidArgumentError(
                f"`init` must be 'k-means++', 'random' or a (k, D) array; got {init!r}"
            )
        mode = init
    else:
        centers = np.ascontiguousarray(as_array(init, "init"), dtype=arr.dtype)
        if centers.shape != (k, arr.shape[1]):
            raise InvalidArgumentError(f"`init` must have shape ({k}, {arr.shape[1]}); got {centers.shape}")
        if not np.isfinite(centers).all():
            raise InvalidArgumentError("`init` must contain only finite values")
        mode = "given"
    # squared distances summed over all samples must stay finite (1e300 gave inertia inf and every label 0)
    big = math.sqrt(np.finfo(arr.dtype).max / (4.0 * arr.shape[0] * arr.shape[1]))
    top = float(np.abs(arr).max())
    if top > big:
        raise InvalidArgumentError(
            f"`X` has values up to {top:.3g} in magnitude; its squared distances would overflow {arr.dtype} "
            f"(at most {big:.3g} for {arr.shape[0]} samples of {arr.shape[1]} features): rescale `X`"
        )
    labels, cen, inertia, n_iter = _core.kmeans(arr, k, mode, centers, n_init, max_iter, tol, seed_int)
    return KMeansResult(labels=labels, centers=cen, inertia=float(inertia), n_iter=int(n_iter))


def dbscan(X, eps: float = 0.5, min_samples: int = 5) -> DBSCANResult:
    """Density-based clustering (DBSCAN) with Euclidean distances.

    Parameters
    ----------
    X : (N, D) array_like
        Samples; float32/float64 used as they are, other real dtypes converted to float64.
    eps : float, optional
        Neighbourhood radius (> 0): samples at distance ``<= eps`` are neighbours (default 0.5).
    min_samples : int, optional
        A sample with at least this many neighbours, itself included, is a core sample (default 5).

    Returns
    -------
    result : DBSCANResult
        ``labels`` (N,) int32 with -1 for noise, ``core_sample_mask`` (N,) bool and ``n_clusters``.

    Raises
    ------
    ValueError
        If `X` is empty, not 2-D or not finite, `eps` <= 0, or `min_samples` < 1.
    TypeError
        If `X` is complex or not numeric.

    See Also
    --------
    kmeans, sklearn.cluster.DBSCAN

    Notes
    -----
    Core samples, noise and the cluster numbering are those of scikit-learn's ``DBSCAN`` (clusters in
    order of their lowest sample index; a border sample reachable from several clusters joins the
    lowest-numbered one, which is where scikit-learn's expansion puts it). Neighbours are found with a
    uniform grid of cell `eps` over the first min(D, 3) features, so low-dimensional data is fast; in high
    dimensions with a large `eps` the grid degrades towards comparing all pairs.

    Examples
    --------
    >>> import numpy as np, segen
    >>> X = np.array([[0.0, 0.0], [0.0, 0.1], [0.1, 0.0], [3.0, 3.0]])
    >>> r = segen.cluster.dbscan(X, eps=0.2, min_samples=3)
    >>> r.labels.tolist(), r.n_clusters
    ([0, 0, 0, -1], 1)
    """
    arr = _check_data(X)
    eps = check_positive(eps, "eps")
    min_samples = check_int(min_samples, "min_samples", minimum=1, maximum=C_INT_MAX)
    labels, core, n = _core.dbscan(arr, eps, min_samples)
    return DBSCANResult(labels=labels, core_sample_mask=core, n_clusters=int(n))
