import warnings

import numpy as np
import pytest
import segen
from helpers import num_threads
from scipy import ndimage as ndi
from skimage import data, feature, filters, segmentation

seg = segen.segmentation


@pytest.fixture(scope="module")
def coins():
    return data.coins()


@pytest.fixture(scope="module")
def coins_problem(coins):
    small = coins[:150, :200]
    edges = filters.sobel(small)
    markers = np.zeros(small.shape, np.int32)
    markers[small < 40] = 1
    markers[small > 160] = 2
    return edges, markers


def agreement(a, b):
    return float((a == b).mean())


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64"])
@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("compactness, line", [(0.0, False), (0.0, True), (0.01, False), (0.01, True)])
def test_watershed_matches_skimage_on_coins(coins_problem, dtype, connectivity, compactness, line):
    edges, markers = coins_problem
    if dtype == "uint8":
        img = (edges / edges.max() * 255).astype(np.uint8)
    elif dtype == "uint16":
        img = (edges / edges.max() * 65535).astype(np.uint16)
    else:
        img = edges.astype(dtype)
    kw = dict(connectivity=connectivity, compactness=compactness, watershed_line=line)
    got = seg.watershed(img, markers, **kw)
    want = segmentation.watershed(img, markers, **kw)
    assert got.dtype == np.int32
    assert agreement(got, want) >= 0.999
    if dtype.startswith("float"):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("connectivity", [1, 2])
def test_watershed_random_plateaus(rng, connectivity):
    img = rng.integers(0, 6, size=(60, 80)).astype(np.uint8)  # many ties, single-pixel markers on them
    markers = np.zeros(img.shape, np.int32)
    idx = rng.choice(img.size, 25, replace=False)
    markers.flat[idx] = np.arange(1, 26)
    # float images use the same binary heap as scikit-image: identical even where markers tie
    want = segmentation.watershed(img, markers, connectivity=connectivity)
    for dtype in (np.float64, np.float32):
        got = seg.watershed(img.astype(dtype), markers, connectivity=connectivity)
        np.testing.assert_array_equal(got, want)
    # integer images (bucket queue) release tied markers in raster order instead: still a valid flooding
    got = seg.watershed(img, markers, connectivity=connectivity)
    assert (got > 0).all()
    np.testing.assert_array_equal(got.flat[idx], np.arange(1, 26))
    for lab in range(1, 26):
        assert seg.label(got == lab, connectivity=connectivity, return_num=True)[1] == 1


def test_watershed_with_mask_and_int_markers(coins_problem):
    edges, markers = coins_problem
    mask = np.zeros(edges.shape, bool)
    mask[10:-10, 20:-5] = True
    np.testing.assert_array_equal(
        seg.watershed(edges, markers, mask=mask), segmentation.watershed(edges, markers, mask=mask)
    )
    for n in (1, 7, 40):
        np.testing.assert_array_equal(seg.watershed(edges, n), segmentation.watershed(edges, n))
        want = segmentation.watershed(edges, n, mask=mask)
        np.testing.assert_array_equal(seg.watershed(edges, n, mask=mask), want)


@pytest.mark.parametrize("connectivity", [1, 2])
def test_watershed_default_markers_are_local_minima(rng, coins, connectivity):
    img = filters.sobel(coins[:80, :100])
    np.testing.assert_array_equal(
        seg.watershed(img, connectivity=connectivity), segmentation.watershed(img, connectivity=connectivity)
    )
    q = (img * 20).astype(np.uint8)  # plateaus
    mask = rng.random(q.shape) > 0.1
    np.testing.assert_array_equal(
        seg.watershed(q.astype(np.float64), mask=mask, connectivity=connectivity),
        segmentation.watershed(q, mask=mask, connectivity=connectivity),
    )
    assert (seg.watershed(np.ones((5, 5))) == 0).all()  # a constant image has no minimum


def test_watershed_distance_transform_split():
    yy, xx = np.mgrid[0:60, 0:90]
    img = ((yy - 30) ** 2 + (xx - 30) ** 2 < 400) | ((yy - 30) ** 2 + (xx - 58) ** 2 < 400)
    dist = ndi.distance_transform_edt(img)
    peaks = feature.peak_local_max(dist, min_distance=10, labels=img)
    markers = np.zeros(img.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    got = seg.watershed(-dist, markers, mask=img)
    np.testing.assert_array_equal(got, segmentation.watershed(-dist, markers, mask=img))
    assert got.max() == 2


def test_watershed_inputs_untouched_and_views(coins_problem):
    edges, markers = coins_problem
    e, m = edges.copy(), markers.copy()
    got = seg.watershed(edges[::2, ::2], markers[::2, ::2].astype(np.int64))
    np.testing.assert_array_equal(got, segmentation.watershed(edges[::2, ::2], markers[::2, ::2]))
    np.testing.assert_array_equal(edges, e)
    np.testing.assert_array_equal(markers, m)


def test_watershed_no_marker_gives_zeros():
    assert (seg.watershed(np.zeros((4, 4)), np.zeros((4, 4), int)) == 0).all()


def test_watershed_threads_equal(coins_problem):
    edges, markers = coins_problem
    with num_threads(1):
        a = seg.watershed(edges, markers, compactness=0.001)
    with num_threads(2):
        b = seg.watershed(edges, markers, compactness=0.001)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "image, markers, kwargs, exc, match",
    [
        (np.zeros((4, 4)), np.zeros((4, 5), int), {}, ValueError, "markers"),
        (np.zeros((4, 4)), np.zeros((4, 4)), {}, TypeError, "markers"),
        (np.zeros((4, 4)), np.zeros((4, 4), complex), {}, TypeError, "markers"),
        (np.zeros((4, 4)), 0, {}, ValueError, "markers"),
        (np.zeros((4, 4)), np.ones((4, 4), int), {"mask": np.zeros((4, 4), bool)}, ValueError, "mask"),
        (np.zeros((4, 4)), np.ones((4, 4), int), {"mask": np.ones((3, 4), bool)}, ValueError, "mask"),
        (np.full((4, 4), np.nan), np.ones((4, 4), int), {}, ValueError, "NaN"),
        (np.zeros((4, 4)), np.ones((4, 4), int), {"compactness": -1.0}, ValueError, "compactness"),
        (np.zeros((4, 4)), np.ones((4, 4), int), {"connectivity": 8}, ValueError, "hops"),
        (np.zeros((0, 4)), np.ones((0, 4), int), {}, ValueError, "non-empty"),
        (np.zeros((4, 4, 3)), np.ones((4, 4), int), {}, ValueError, "2-D"),
        (np.zeros((4, 4), complex), np.ones((4, 4), int), {}, TypeError, "image"),
    ],
)
def test_watershed_bad_input(image, markers, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        seg.watershed(image, markers, **kwargs)


# ---- peak_local_max ---------------------------------------------------------------------------------
@pytest.mark.parametrize("min_distance", [0, 1, 2, 5, 12])
@pytest.mark.parametrize("exclude_border", [True, False, 3])
def test_peak_local_max_matches_skimage(coins, min_distance, exclude_border):
    dist = ndi.distance_transform_edt(coins[:200, :200] > 100)
    kw = dict(min_distance=min_distance, exclude_border=exclude_border)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scikit-image warns about min_distance < 1
        want = feature.peak_local_max(dist, **kw)
    np.testing.assert_array_equal(seg.peak_local_max(dist, **kw), want)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_peak_local_max_thresholds_and_counts(rng, dtype):
    img = (ndi.gaussian_filter(rng.random((90, 110)), 3) * 1000).astype(dtype)
    for kw in (
        dict(threshold_rel=0.5),
        dict(threshold_abs=float(np.median(img))),
        dict(num_peaks=3),
        dict(min_distance=4, num_peaks=5),
    ):
        np.testing.assert_array_equal(seg.peak_local_max(img, **kw), feature.peak_local_max(img, **kw))


def test_peak_local_max_flat_image_has_no_peak():
    assert seg.peak_local_max(np.ones((10, 10)), min_distance=2).shape == (0, 2)


def test_peak_local_max_bad_input():
    with pytest.raises(ValueError, match="min_distance"):
        seg.peak_local_max(np.ones((5, 5)), min_distance=-1)
    with pytest.raises(ValueError, match="exclude_border"):
        seg.peak_local_max(np.ones((5, 5)), exclude_border=-2)
    with pytest.raises(ValueError, match="NaN"):
        seg.peak_local_max(np.full((5, 5), np.nan))


def test_peak_local_max_huge_distance_is_clamped():
    # min_distance beyond the image once gave a pybind11 signature dump (10**12) or ran for minutes (10**7)
    rng = np.random.default_rng(3)
    img = ndi.gaussian_filter(rng.random((120, 90)), 3)
    want = feature.peak_local_max(img, min_distance=120, exclude_border=False)
    for md in (120, 10**7, 10**12):
        got = segen.segmentation.peak_local_max(img, min_distance=md, exclude_border=False)
        np.testing.assert_array_equal(got, want)
    assert segen.segmentation.peak_local_max(img, min_distance=10**12).shape == (0, 2)
    assert segen.segmentation.peak_local_max(img, exclude_border=10**15).shape == (0, 2)
    assert len(segen.segmentation.peak_local_max(img, num_peaks=10**30)) > 0
