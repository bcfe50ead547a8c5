import numpy as np
import pytest
import segen
from helpers import num_threads
from sklearn.cluster import DBSCAN, KMeans
from threadpoolctl import threadpool_limits

kmeans = segen.cluster.kmeans
dbscan = segen.cluster.dbscan


@pytest.fixture(autouse=True)
def _serial_sklearn():
    # scikit-learn's OpenMP pool only adds start-up time on these small problems
    with threadpool_limits(1):
        yield


def blobs(rng, n, centers, spread=0.3):
    centers = np.asarray(centers, float)
    idx = rng.integers(0, len(centers), n)
    return centers[idx] + spread * rng.standard_normal((n, centers.shape[1]))


# ---- kmeans -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, d, k", [(500, 2, 3), (2000, 3, 8), (800, 7, 5)])
def test_kmeans_matches_sklearn_from_same_centres(rng, dtype, n, d, k):
    X = rng.random((n, d)).astype(dtype)
    init = X[rng.choice(n, k, replace=False)].copy()
    ours = kmeans(X, k, init=init, tol=1e-4)
    ref = KMeans(k, init=init, n_init=1, tol=1e-4, algorithm="lloyd").fit(X)
    assert ours.labels.dtype == np.int32 and ours.centers.dtype == dtype
    assert abs(ours.inertia - ref.inertia_) <= 0.01 * ref.inertia_
    if dtype == np.float64:  # float32: scikit-learn computes distances in float32, near-ties may differ
        np.testing.assert_array_equal(ours.labels, ref.labels_)
        np.testing.assert_allclose(ours.centers, ref.cluster_centers_, atol=1e-9)
        assert ours.n_iter == ref.n_iter_
    else:
        assert (ours.labels == ref.labels_).mean() > 0.995


def test_kmeans_on_photo_pixels_matches_sklearn(astronaut):
    X = astronaut[::4, ::4].reshape(-1, 3).astype(np.float64) / 255
    init = X[:: len(X) // 6][:6].copy()
    ours = kmeans(X, 6, init=init, max_iter=50)
    ref = KMeans(6, init=init, n_init=1, max_iter=50, algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.inertia == pytest.approx(ref.inertia_, rel=1e-9)


def test_kmeans_plusplus_quality(rng):
    X = blobs(rng, 3000, [[0, 0], [5, 0], [0, 5], [5, 5], [2.5, 2.5]])
    ours = kmeans(X, 5, n_init=3, seed=1)
    ref = KMeans(5, n_init=3, random_state=1).fit(X)
    assert ours.inertia <= 1.01 * ref.inertia_
    assert sorted(np.bincount(ours.labels).tolist()) == sorted(np.bincount(ref.labels_).tolist())


def test_kmeans_random_init_and_seeds(rng):
    X = blobs(rng, 1000, [[0, 0, 0], [4, 4, 4]])
    a = kmeans(X, 2, init="random", seed=3)
    assert sorted(np.bincount(a.labels).tolist()) == sorted(
        np.bincount(KMeans(2, n_init=1, random_state=0).fit(X).labels_).tolist()
    )
    b = kmeans(X, 2, init="random", seed=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    g1 = kmeans(X, 2, seed=np.random.default_rng(5))
    g2 = kmeans(X, 2, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(g1.centers, g2.centers)
    kmeans(X, 2, seed=None)  # a fresh seed works


def test_kmeans_threads_equal(rng):
    X = rng.random((20000, 3)).astype(np.float32)
    with num_threads(1):
        a = kmeans(X, 8, n_init=2, seed=7)
    with num_threads(2):
        b = kmeans(X, 8, n_init=2, seed=7)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centers, b.centers)
    assert a.inertia == b.inertia and a.n_iter == b.n_iter


def test_kmeans_empty_cluster_relocated_like_sklearn(rng):
    X = rng.random((300, 2))
    init = np.array([[0.5, 0.5], [0.5, 0.5], [10.0, 10.0]])  # two clusters start empty
    ours = kmeans(X, 3, init=init)
    ref = KMeans(3, init=init, n_init=1, algorithm="lloyd").fit(X)
    assert len(np.unique(ours.labels)) == 3
    assert ours.inertia == pytest.approx(ref.inertia_, rel=0.01)


def test_kmeans_constant_data_documented_result():
    X = np.ones((50, 3))
    r = kmeans(X, 4, seed=0)
    assert r.inertia == 0.0
    assert (r.labels == 0).all()
    np.testing.assert_array_equal(r.centers, np.ones((4, 3)))


def test_kmeans_k_equals_n_and_int_input():
    X = np.array([[0, 0], [1, 1], [5, 5]])
    r = kmeans(X, 3, seed=0)
    assert r.inertia == 0 and sorted(r.labels.tolist()) == [0, 1, 2]
    assert r.centers.dtype == np.float64


@pytest.mark.parametrize(
    "X, k, kwargs, exc, match",
    [
        (np.zeros((5, 2)), 6, {}, ValueError, "`k`"),
        (np.zeros((5, 2)), 0, {}, ValueError, "`k`"),
        (np.zeros((5, 2)), -2, {}, ValueError, "`k`"),
        (np.zeros((0, 2)), 1, {}, ValueError, "non-empty"),
        (np.zeros((5, 0)), 1, {}, ValueError, "non-empty"),
        (np.zeros(5), 1, {}, ValueError, "2-D"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), 1, {}, ValueError, "finite"),
        (np.array([[0.0, np.inf], [1.0, 1.0]]), 1, {}, ValueError, "finite"),
        (np.zeros((5, 2), complex), 1, {}, TypeError, "X"),
        (np.zeros((5, 2)), 2, {"init": "kmeans"}, ValueError, "init"),
        (np.zeros((5, 2)), 2, {"init": np.zeros((3, 2))}, ValueError, "init"),
        (np.zeros((5, 2)), 2, {"n_init": 0}, ValueError, "n_init"),
        (np.zeros((5, 2)), 2, {"max_iter": 0}, ValueError, "max_iter"),
        (np.zeros((5, 2)), 2, {"tol": -1.0}, ValueError, "tol"),
        (np.zeros((5, 2)), 2, {"seed": 1.5}, TypeError, "seed"),
        (np.zeros((5, 2)), 2.0, {}, TypeError, "k"),
    ],
)
def test_kmeans_bad_input(X, k, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kmeans(X, k, **kwargs)


def test_kmeans_result_is_frozen(rng):
    r = kmeans(rng.random((10, 2)), 2, seed=0)
    with pytest.raises(Exception):
        r.inertia = 0.0


# ---- dbscan -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("eps, min_samples", [(0.05, 4), (0.12, 10), (0.3, 1)])
def test_dbscan_matches_sklearn(rng, d, eps, min_samples):
    X = np.concatenate([blobs(rng, 1500, rng.random((4, d)) * 3, spread=0.08 * d), rng.random((300, d)) * 3])
    ours = dbscan(X, eps * d, min_samples)
    ref = DBSCAN(eps=eps * d, min_samples=min_samples).fit(X)
    core = np.zeros(len(X), bool)
    core[ref.core_sample_indices_] = True
    np.testing.assert_array_equal(ours.core_sample_mask, core)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.n_clusters == ref.labels_.max() + 1


def test_dbscan_float32_and_negative_coordinates(rng):
    X = (blobs(rng, 2000, [[-5, -5], [3, -1]], spread=0.5)).astype(np.float32)
    ours = dbscan(X, 0.2, 5)
    ref = DBSCAN(eps=0.2, min_samples=5).fit(X.astype(np.float64))
    core = np.zeros(len(X), bool)
    core[ref.core_sample_indices_] = True
    assert (ours.core_sample_mask == core).mean() > 0.999  # float32 inputs: distances at eps may round
    assert (ours.labels == -1).sum() == pytest.approx((ref.labels_ == -1).sum(), abs=3)


def test_dbscan_all_noise_and_threads(rng):
    X = rng.random((500, 2)) * 100
    r = dbscan(X, 1e-3, 2)
    assert r.n_clusters == 0 and (r.labels == -1).all()
    Y = blobs(rng, 5000, [[0, 0], [2, 2]], spread=0.4)
    with num_threads(1):
        a = dbscan(Y, 0.1, 5)
    with num_threads(2):
        b = dbscan(Y, 0.1, 5)
    np.testing.assert_array_equal(a.labels, b.labels)


@pytest.mark.parametrize(
    "X, kwargs, exc, match",
    [
        (np.zeros((5, 2)), {"eps": 0.0}, ValueError, "eps"),
        (np.zeros((5, 2)), {"eps": -1.0}, ValueError, "eps"),
        (np.zeros((5, 2)), {"min_samples": 0}, ValueError, "min_samples"),
        (np.zeros((0, 2)), {}, ValueError, "non-empty"),
        (np.array([[np.nan, 0.0]]), {}, ValueError, "finite"),
        (np.zeros((5, 2), complex), {}, TypeError, "X"),
    ],
)
def test_dbscan_bad_input(X, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dbscan(X, **kwargs)


def test_kmeans_refuses_values_whose_squares_overflow():
    # values near 1e300 once gave inertia inf and every sample in cluster 0
    X = np.random.default_rng(0).random((100, 2))
    with pytest.raises(ValueError, match=r"`X` has values up to .*overflow float64.*rescale `X`"):
        kmeans(X * 1e300, 3, seed=0)
    with pytest.raises(ValueError, match="overflow float32"):
        kmeans((X * 1e30).astype(np.float32), 3, seed=0)
    big = kmeans(X * 1e140, 3, seed=0)  # still representable: same clustering as the unscaled data
    np.testing.assert_array_equal(big.labels, kmeans(X, 3, seed=0).labels)
    assert np.isfinite(big.inertia)
