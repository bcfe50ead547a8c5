"""Parity helpers that ported scikit-image recipes need (issue 12): peak_local_max with `labels` and
`footprint`, threshold_local, watershed's `offset` and footprint connectivity — each equal to
scikit-image's result (scipy.ndimage for the maximum filter)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import segen
from scipy import ndimage as ndi
from segen.errors import DTypeError, InvalidArgumentError
from segen.segmentation._watershed import _max_filter
from skimage import data, feature, filters, morphology, segmentation

seg = segen.segmentation


@pytest.fixture(scope="module")
def coins_distance():
    """scikit-image's watershed example on a real photograph: the distance map of the coins' foreground and
    its connected components."""
    coins = data.coins()[:180, :260]
    fg = coins > filters.threshold_otsu(coins)
    fg = ndi.binary_fill_holes(fg)
    return ndi.distance_transform_edt(fg), ndi.label(fg)[0]


def _skimage_peaks(image, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # min_distance < 1
        return feature.peak_local_max(image, **kw)


def _random_labels(rng, shape, n):
    """Voronoi regions of n random seeds, some of them set to background."""
    seeds = rng.integers(0, [shape[0], shape[1]], size=(n, 2))
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    d = (yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2
    lab = d.argmin(-1) + 1
    lab[np.isin(lab, rng.choice(n, n // 4) + 1)] = 0
    return lab.astype(np.int32)


FOOTPRINTS = {
    "disk3": morphology.disk(3).astype(bool),
    "rect3x7": np.ones((3, 7), bool),
    "even4x2": np.ones((4, 2), bool),
    "ring": morphology.disk(2).astype(bool) & ~np.pad(np.ones((1, 1), bool), 2),
    "asym": np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 1]], bool),
    "one": np.ones((1, 1), bool),
}


@pytest.mark.parametrize("name", sorted(FOOTPRINTS))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_max_filter_equals_scipys(rng, name, dtype):
    img = (rng.random((23, 31)) * 200).astype(dtype)
    fp = FOOTPRINTS[name]
    np.testing.assert_array_equal(_max_filter(img, fp), ndi.maximum_filter(img, footprint=fp, mode="nearest"))


@pytest.mark.parametrize("name", sorted(FOOTPRINTS))
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"min_distance": 3},
        {"min_distance": 7, "exclude_border": False},
        {"min_distance": 2, "num_peaks": 5, "exclude_border": 4},
        {"threshold_rel": 0.5, "min_distance": 0},
    ],
)
def test_peak_local_max_footprint_equals_skimage_on_coins(coins_distance, name, kw):
    dist, _ = coins_distance
    fp = FOOTPRINTS[name]
    np.testing.assert_array_equal(
        seg.peak_local_max(dist, footprint=fp, **kw), _skimage_peaks(dist, footprint=fp, **kw)
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"min_distance": 5},
        {"min_distance": 7, "exclude_border": False},
        {"min_distance": 3, "num_peaks": 6},
        {"num_peaks_per_label": 1},
        {"footprint": FOOTPRINTS["disk3"], "min_distance": 4},
        {"footprint": FOOTPRINTS["asym"], "exclude_border": 9},
        {"min_distance": 20, "num_peaks": 4, "num_peaks_per_label": 2},
    ],
)
def test_peak_local_max_labels_equals_skimage_on_coins(coins_distance, kw):
    dist, lab = coins_distance
    got = seg.peak_local_max(dist, labels=lab, **kw)
    np.testing.assert_array_equal(got, _skimage_peaks(dist, labels=lab, **kw))
    assert len(got) > 0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_peak_local_max_labels_and_footprint_on_random_images(seed, dtype):
    rng = np.random.default_rng(seed)
    shape = (40, 57)
    img = ndi.gaussian_filter(rng.random(shape), 1.5)
    img = (img / img.max() * (1.0 if dtype in (np.float32, np.float64) else 250)).astype(dtype)
    lab = _random_labels(rng, shape, 12)
    fp = rng.random((int(rng.integers(1, 6)), int(rng.integers(1, 6)))) < 0.7
    fp.flat[0] = True
    for kw in (
        {"labels": lab},
        {"labels": lab, "min_distance": 3, "exclude_border": False},
        {"labels": lab, "footprint": fp, "min_distance": 2},
        {"labels": lab, "num_peaks": 7, "min_distance": 2},
        {"footprint": fp, "exclude_border": 2},
        {"footprint": fp, "min_distance": 4, "threshold_abs": float(np.median(img))},
    ):
        np.testing.assert_array_equal(seg.peak_local_max(img, **kw), _skimage_peaks(img, **kw), str(kw))


def test_peak_local_max_flat_regions_and_isolated_pixels():
    # a flat labelled image: scikit-image keeps only the pixels of each region that no 3x3 cross fits in
    lab = np.zeros((12, 14), np.int32)
    lab[1:6, 1:7] = 1
    lab[8:11, 2:3] = 2  # a line: all of it is "isolated"
    lab[7:11, 8:13] = 3
    lab[4, 10] = 4
    img = np.ones(lab.shape)
    for kw in ({}, {"exclude_border": False}, {"min_distance": 2, "exclude_border": False}):
        np.testing.assert_array_equal(
            seg.peak_local_max(img, labels=lab, **kw), _skimage_peaks(img, labels=lab, **kw)
        )
    # the fast path and a square footprint agree with each other
    rng = np.random.default_rng(5)
    smooth = ndi.gaussian_filter(rng.random((50, 60)), 2)
    for md in (1, 3, 6):
        np.testing.assert_array_equal(
            seg.peak_local_max(smooth, min_distance=md, footprint=np.ones((2 * md + 1,) * 2)),
            seg.peak_local_max(smooth, min_distance=md),
        )


def test_skimage_watershed_example_written_with_segen(coins_distance):
    # scikit-image's "watershed segmentation" gallery example, with segen's pieces only
    dist, lab = coins_distance
    fg = lab > 0
    coords = seg.peak_local_max(dist, footprint=np.ones((3, 3)), labels=lab)
    markers = np.zeros(dist.shape, np.int32)
    markers[tuple(coords.T)] = np.arange(1, len(coords) + 1)
    got = seg.watershed(-dist, markers, mask=fg)
    ref_coords = feature.peak_local_max(dist, footprint=np.ones((3, 3)), labels=lab)
    np.testing.assert_array_equal(coords, ref_coords)
    ref = segmentation.watershed(-dist, markers, mask=fg)
    assert (got == ref).mean() > 0.999


def test_peak_local_max_new_parameters_bad_input():
    img = np.random.default_rng(0).random((8, 8))
    with pytest.raises(InvalidArgumentError, match="`footprint`"):
        seg.peak_local_max(img, footprint=np.zeros((3, 3), bool))
    with pytest.raises(InvalidArgumentError, match="`footprint`"):
        seg.peak_local_max(img, footprint=np.ones(3))
    with pytest.raises(InvalidArgumentError, match="`labels`"):
        seg.peak_local_max(img, labels=np.ones((8, 9), int))
    with pytest.raises(InvalidArgumentError, match="`labels`"):
        seg.peak_local_max(img, labels=-np.ones((8, 8), int))
    with pytest.raises(DTypeError, match="`labels`"):
        seg.peak_local_max(img, labels=np.ones((8, 8)))
    with pytest.raises(InvalidArgumentError, match="`num_peaks_per_label`"):
        seg.peak_local_max(img, labels=np.ones((8, 8), int), num_peaks_per_label=-1)


# ---- threshold_local ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos():
    """Real photographs with uneven lighting (scikit-image's page scan and camera) and a random image."""
    rng = np.random.default_rng(11)
    return {
        "page": data.page(),
        "camera_f32": (data.camera()[::3, ::3] / 255).astype(np.float32),
        "random_u16": rng.integers(0, 65536, size=(37, 53)).astype(np.uint16),
        "tiny": rng.random((2, 3)),
    }


def _median_by_pad(img, block, mode, cval):
    pad = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap"}.get(
        mode, "constant"
    )
    extra = {"constant_values": cval} if pad == "constant" else {}
    padded = np.pad(img, block // 2, mode=pad, **extra)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (block, block))
    return np.median(windows.reshape(*img.shape, -1), axis=-1)


@pytest.mark.parametrize("name", ["page", "camera_f32", "random_u16", "tiny"])
@pytest.mark.parametrize("method", ["gaussian", "mean", "median"])
@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant", "wrap"])
def test_threshold_local_equals_skimage(photos, name, method, mode):
    img = photos[name]
    for block, offset in ((35, 10.0 if img.dtype.kind in "iu" else 0.02), (3, 0.0), ((7, 15), -1.5)):
        if method == "median" and name == "page" and block == 35:
            block = 15  # the median is O(block²) per pixel in both libraries
        kw = dict(block_size=block, method=method, offset=offset, mode=mode, cval=0.25)
        got = seg.threshold_local(img, **kw)
        if method == "median" and name == "tiny" and block == 35:
            # scipy's 2-D median reads past its own border extension when the block is many times the
            # image (its generic_filter shows the same windows); numpy's np.pad extends by the rule
            want = _median_by_pad(img, 35, mode, 0.25) - offset
        else:
            want = filters.threshold_local(img, **kw)
        assert got.dtype == want.dtype and got.shape == img.shape
        scale = float(np.abs(img).max()) or 1.0
        tol = 1e-5 if got.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)
        if method == "median":
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "constant", "wrap"])
def test_threshold_local_generic_equals_skimage(photos, mode):
    # a statistic the other methods do not give (a Sauvola-like mean - k * std), and the window's layout:
    # a function of the values' order (first minus last: top-left minus bottom-right) must agree too
    funcs = (lambda v: v.mean() - 0.2 * v.std(), lambda v: v[0] - v[-1], np.max)
    for name, crop in (("page", (slice(40, 80), slice(100, 150))), ("camera_f32", np.s_[:30, :40])):
        img = photos[name][crop]
        for func in funcs:
            for block in (5, (3, 7)):
                kw = dict(block_size=block, method="generic", param=func, offset=1.5, mode=mode, cval=0.25)
                got, want = seg.threshold_local(img, **kw), filters.threshold_local(img, **kw)
                assert got.dtype == want.dtype and got.shape == img.shape
                np.testing.assert_allclose(got, want, rtol=1e-6 if got.dtype == np.float32 else 1e-12)


def test_threshold_local_generic_bad_param():
    img = np.random.default_rng(0).random((6, 6))
    for param in (None, 3.0):
        with pytest.raises(InvalidArgumentError, match="`param` must be a function"):
            seg.threshold_local(img, 3, "generic", param=param)
    with pytest.raises(InvalidArgumentError, match="`param` .* must return a real number"):
        seg.threshold_local(img, 3, "generic", param=lambda v: v)  # an array per block
    with pytest.raises(ZeroDivisionError):  # the function's own error reaches the caller
        seg.threshold_local(img, 3, "generic", param=lambda v: 1 / 0)


def test_threshold_local_param_is_the_gaussian_sigma(photos):
    img = photos["page"]
    for param in (2.0, (1.0, 4.0), 0.0):
        got = seg.threshold_local(img, 11, param=param)
        want = filters.threshold_local(img, 11, param=param)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_threshold_local_finds_the_text_otsu_loses(photos):
    # scikit-image's thresholding example: the page's uneven lighting defeats one global threshold
    img = photos["page"]
    local = img > seg.threshold_local(img, 35, offset=10)
    assert np.array_equal(local, img > filters.threshold_local(img, 35, offset=10))
    global_ = img > seg.threshold_otsu(img)
    # the darker bottom left of the page: Otsu calls most of it text (foreground False), the local one not
    corner = (slice(120, 190), slice(0, 120))
    assert local[corner].mean() > 0.85 > 0.5 > global_[corner].mean()


def test_threshold_local_bad_input():
    img = np.random.default_rng(0).random((10, 10))
    for block in (4, (3, 6)):
        with pytest.raises(InvalidArgumentError, match="`block_size` must be odd"):
            seg.threshold_local(img, block)
    for block in (1, -3, 0):
        with pytest.raises(InvalidArgumentError, match="`block_size` must be >= 3"):
            seg.threshold_local(img, block)
    with pytest.raises(InvalidArgumentError, match="`block_size`"):
        seg.threshold_local(img, (3, 3, 3))
    with pytest.raises(DTypeError, match="`block_size`"):
        seg.threshold_local(img, 3.5)
    with pytest.raises(InvalidArgumentError, match="`method`"):
        seg.threshold_local(img, 3, "otsu")
    with pytest.raises(InvalidArgumentError, match="`param`"):
        seg.threshold_local(img, 3, "mean", param=2)
    with pytest.raises(InvalidArgumentError, match="`param`"):
        seg.threshold_local(img, 3, param=-1.0)
    with pytest.raises(InvalidArgumentError, match="`mode`"):
        seg.threshold_local(img, 3, mode="edge")
    with pytest.raises(InvalidArgumentError, match="`offset`"):
        seg.threshold_local(img, 3, offset=float("nan"))
    with pytest.raises(InvalidArgumentError, match="`image`"):
        seg.threshold_local(np.full((4, 4), np.nan), 3)
    with pytest.raises(InvalidArgumentError, match="`image`"):
        seg.threshold_local(np.zeros((4, 4, 3)), 3)


# ---- watershed: footprint connectivity and offset ------------------------------------------------------

CROSS = ndi.generate_binary_structure(2, 1)
SQUARE = ndi.generate_binary_structure(2, 2)


@pytest.fixture(scope="module")
def coins_relief():
    coins = data.coins()[:150, :200]
    edges = filters.sobel(coins)
    markers = np.zeros(coins.shape, np.int32)
    markers[coins < 40] = 1
    markers[coins > 160] = 2
    return edges, markers


@pytest.mark.parametrize(
    "connectivity, offset, hops",
    [
        (CROSS, None, 1),
        (SQUARE, None, 2),
        (CROSS.astype(np.uint8), (1, 1), 1),
        (SQUARE.tolist(), (1, 1), 2),
        (1, (1, 1), 1),
        (2, (1, 1), 2),
        (np.pad(CROSS, 1), None, 1),  # a 5 x 5 footprint holding the cross: still the 4-neighbourhood
        (np.pad(SQUARE, ((0, 1), (2, 0))), (1, 3), 2),  # the square off the middle, found by its offset
    ],
)
@pytest.mark.parametrize("kw", [{}, {"compactness": 0.01}, {"watershed_line": True}])
def test_watershed_footprint_connectivity_and_offset_equal_skimage(
    coins_relief, connectivity, offset, hops, kw
):
    edges, markers = coins_relief
    got = seg.watershed(edges, markers, connectivity=connectivity, offset=offset, **kw)
    sk_conn = connectivity if isinstance(connectivity, int) else np.asarray(connectivity)
    want = segmentation.watershed(edges, markers, connectivity=sk_conn, offset=offset, **kw)
    np.testing.assert_array_equal(got, want)
    # the same as the hop count it stands for
    np.testing.assert_array_equal(got, seg.watershed(edges, markers, connectivity=hops, **kw))


def test_watershed_default_markers_with_a_footprint(coins_relief):
    edges, _ = coins_relief
    small = edges[:60, :80]
    got = seg.watershed(small, connectivity=SQUARE)
    np.testing.assert_array_equal(got, seg.watershed(small, connectivity=2))
    # scikit-image's own default markers need an int connectivity (local_minima fails on an array); with
    # hundreds of minima its heap breaks ties between equal markers its own way (see test_watershed.py)
    assert (got == segmentation.watershed(small, connectivity=2)).mean() > 0.998


def test_watershed_connectivity_and_offset_bad_input(coins_relief):
    edges, markers = coins_relief
    edges, markers = edges[:20, :20], markers[:20, :20]
    cases = [
        (dict(connectivity=np.ones((5, 5))), "4-neighbourhood"),  # 24 neighbours
        (dict(connectivity=np.ones((2, 3))), "no centre"),
        (dict(connectivity=CROSS, offset=(0, 1)), "4-neighbourhood"),  # lopsided
        (dict(connectivity=1, offset=(0, 0)), "centre"),
        (dict(connectivity=SQUARE, offset=(3, 1)), "`offset`"),
        (dict(connectivity=SQUARE, offset=(1,)), "`offset`"),
        (dict(connectivity=SQUARE, offset="11"), "`offset`"),
        (dict(connectivity=np.ones(3)), "`connectivity`"),
        (dict(connectivity=4), "OpenCV"),
    ]
    for kw, match in cases:
        with pytest.raises(InvalidArgumentError, match=match):
            seg.watershed(edges, markers, **kw)
    with pytest.raises(DTypeError, match="`offset`"):
        seg.watershed(edges, markers, offset=(1.5, 1))
