"""Otsu thresholds, k-means segmentation and the documented recipes (the core pieces have their own
test files: test_watershed.py, test_label.py, test_distance.py)."""

import warnings

import numpy as np
import pytest
import segen
from helpers import num_threads
from scipy import ndimage as ndi
from skimage import data, feature, filters, morphology, segmentation

seg = segen.segmentation


# ---- Otsu -------------------------------------------------------------------------------------------
def test_otsu_equals_skimage_on_photos(camera, astronaut, coffee):
    for img in (camera, astronaut[..., 1], coffee[..., 0], camera[100:200, 50:400]):
        assert seg.threshold_otsu(img) == filters.threshold_otsu(img)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
@pytest.mark.parametrize("nbins", [16, 256])
def test_otsu_equals_skimage_random(rng, dtype, nbins):
    img = rng.normal(0, 1, (40, 50))
    img = np.where(rng.random(img.shape) > 0.6, img + 4, img)
    if np.dtype(dtype).kind in "iu":
        img = ((img - img.min()) * 300).astype(dtype)
    else:
        img = img.astype(dtype)
    assert seg.threshold_otsu(img, nbins=nbins) == filters.threshold_otsu(img, nbins=nbins)


def test_otsu_constant_image_returns_value():
    assert seg.threshold_otsu(np.full((3, 3), 7, np.uint8)) == 7


def test_multiotsu_equals_skimage(camera, coffee):
    for img in (camera, coffee[..., 2]):
        want = filters.threshold_multiotsu(img, classes=3)
        np.testing.assert_array_equal(seg.threshold_multiotsu(img), want)
    want = [filters.threshold_otsu(camera)]
    np.testing.assert_array_equal(seg.threshold_multiotsu(camera, classes=2), want)
    f = camera.astype(np.float64) / 255
    np.testing.assert_allclose(seg.threshold_multiotsu(f), filters.threshold_multiotsu(f), atol=1e-12)


def test_multiotsu_over_thousands_of_levels_equals_a_whole_table_search(rng):
    # 4096 grey levels: the search runs in 8 blocks of rows (it once built the whole 4096 x 4096 table);
    # the reference is the whole table, between-class variance sum(w_k * mu_k**2) at every pair (i < j)
    img = np.concatenate([rng.normal(m, 300, 4000) for m in (700, 2000, 3400)])
    img = np.clip(img, 0, 4095).astype(np.uint16)
    img[:2] = (0, 4095)
    p = np.bincount(img).astype(np.float64)
    p /= p.sum()
    v = np.arange(p.size, dtype=np.float64)
    P, S = np.cumsum(p), np.cumsum(p * v)
    i, j = np.triu_indices(p.size, k=1)
    w = np.stack([P[i], P[j] - P[i], 1 - P[j]])
    m = np.stack([S[i], S[j] - S[i], S[-1] - S[j]])
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where((w > 0).all(0), (m**2 / w).sum(0), -np.inf)
    k = int(np.argmax(between))
    np.testing.assert_array_equal(seg.threshold_multiotsu(img), [i[k], j[k]])


def test_wide_integer_ranges_use_nbins(rng):
    # uint32 values up to 4e9: a bin per level was a 32 GiB histogram; nbins bins as for floats instead
    img = np.concatenate([rng.integers(0, 10**6, 500), rng.integers(3 * 10**9, 4 * 10**9, 500)])
    img = img.astype(np.uint32)
    t = seg.threshold_otsu(img)
    assert 10**6 <= t < 3 * 10**9
    assert t == filters.threshold_otsu(img.astype(np.float64))  # the float path, 256 bins, agrees
    assert len(seg.threshold_multiotsu(img.astype(np.int64) * 2)) == 2
    with pytest.raises(ValueError, match="`nbins` must be <= 65536"):
        seg.threshold_multiotsu(img.astype(np.float32), nbins=10**9)


@pytest.mark.parametrize(
    "image, kwargs, exc, match",
    [
        (np.zeros((0, 3)), {}, ValueError, "non-empty"),
        (np.array([[0.0, np.nan]]), {}, ValueError, "finite"),
        (np.zeros((3, 3), complex), {}, TypeError, "image"),
        (np.arange(9).reshape(3, 3), {"nbins": 1}, ValueError, "nbins"),
    ],
)
def test_otsu_bad_input(image, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        seg.threshold_otsu(image, **kwargs)


def test_multiotsu_bad_input():
    with pytest.raises(ValueError, match="classes"):
        seg.threshold_multiotsu(np.arange(9).reshape(3, 3), classes=4)
    with pytest.raises(ValueError, match="distinct"):
        seg.threshold_multiotsu(np.array([[0, 1, 0]]), classes=3)


# ---- instance segmentation recipe -----------------------------------------------------------------
def skimage_recipe(image, min_distance, max_size):
    """The same recipe written with scipy/scikit-image."""
    fg = ndi.binary_fill_holes(image > filters.threshold_otsu(image))
    dist = ndi.distance_transform_edt(fg)
    peaks = feature.peak_local_max(dist, min_distance=min_distance, threshold_abs=0.0, exclude_border=False)
    markers = np.zeros(image.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    lab = segmentation.watershed(-dist, markers, mask=fg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "only one label" when a single object is found
        lab = morphology.remove_small_objects(lab, max_size=max_size)
    return segmentation.relabel_sequential(lab)[0]


def matched_iou(ours, ref):
    """Mean IoU of each reference object with its best-overlapping object of ours."""
    ious = []
    for lab in range(1, int(ref.max()) + 1):
        r = ref == lab
        cand = np.bincount(ours[r], minlength=int(ours.max()) + 1)
        cand[0] = 0
        o = ours == int(np.argmax(cand))
        ious.append((r & o).sum() / (r | o).sum())
    return float(np.mean(ious))


@pytest.mark.parametrize("min_distance", [10, 20])
def test_touching_objects_recipe_on_coins_matches_skimage(min_distance):
    coins = data.coins()
    ours = seg.segment_touching_objects(coins, min_distance=min_distance, max_size=100)
    ref = skimage_recipe(coins, min_distance, 100)
    assert ours.dtype == np.int32
    assert ours.max() == ref.max()
    assert matched_iou(ours, ref) >= 0.99


def test_touching_objects_recipe_on_cell_and_synthetic():
    cell = data.cell()
    ours = seg.segment_touching_objects(cell, min_distance=20, max_size=100)
    assert ours.max() == skimage_recipe(cell, 20, 100).max()
    yy, xx = np.mgrid[0:80, 0:160]
    img = np.zeros((80, 160), np.uint8)
    for cx in (30, 62, 94, 126):  # a chain of four touching discs
        img[(yy - 40) ** 2 + (xx - cx) ** 2 < 17**2] = 200
    lab = seg.segment_touching_objects(img, min_distance=8, max_size=50)
    assert lab.max() == 4
    areas = np.bincount(lab.ravel())[1:]
    assert areas.min() > 0.7 * areas.max()


def test_recipe_rgb_and_dark_objects(coffee):
    img = coffee[::4, ::4]
    lab = seg.segment_touching_objects(img, min_distance=5, bright=False)
    assert lab.dtype == np.int32 and lab.shape == img.shape[:2]
    blank = seg.segment_touching_objects(np.zeros((10, 10), np.uint8))
    assert (blank == 0).all()


# ---- k-means segmentation and foreground recipes ---------------------------------------------------
def test_kmeans_segment_colour(astronaut):
    img = astronaut[::4, ::4]
    for space in ("lab", "rgb"):
        lab = seg.kmeans_segment(img, 4, color_space=space, seed=0)
        assert lab.dtype == np.int32 and lab.shape == img.shape[:2]
        assert set(np.unique(lab)) == {1, 2, 3, 4}
        assert lab.flat[0] == 1  # numbered in raster order of first pixel
    with_pos = seg.kmeans_segment(img, 4, features=("color", "position"), position_weight=2.0, seed=0)
    without = seg.kmeans_segment(img, 4, seed=0)
    assert not np.array_equal(with_pos, without)
    g = img[..., 0]
    grey = seg.kmeans_segment(g, 2, seed=0)  # 2-means on grey levels is a threshold
    lo, hi = sorted([g[grey == 1], g[grey == 2]], key=lambda v: v.mean())
    assert lo.max() <= hi.min()


def test_kmeans_segment_two_colours_exact():
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, 15:] = (255, 0, 0)
    img[5:8, 2:5] = (0, 0, 250)  # a third colour
    lab = seg.kmeans_segment(img, 3, seed=1)
    assert np.unique(lab[:, 15:]).size == 1 and np.unique(lab[5:8, 2:5]).size == 1
    assert np.unique(lab).size == 3


def test_texture_segment_brick_and_grass():
    brick = data.brick()[:96, :96].astype(np.float32) / 255
    grass = data.grass()[:96, :96].astype(np.float32) / 255
    img = np.concatenate([brick, grass], axis=1)
    lab = seg.texture_segment(img, 2, seed=0)
    truth = np.zeros(img.shape, bool)
    truth[:, 96:] = True
    acc = max(((lab == 2) == truth).mean(), ((lab == 1) == truth).mean())
    assert acc > 0.9


def test_foreground_recipes_on_coins():
    coins = data.coins()
    otsu = seg.foreground_otsu(coins)
    np.testing.assert_array_equal(otsu, coins > filters.threshold_otsu(coins))
    np.testing.assert_array_equal(seg.foreground_otsu(coins, bright=False), ~otsu)
    km = seg.foreground_kmeans(coins[::2, ::2])
    assert km.dtype == bool
    agree = (km == otsu[::2, ::2]).mean()
    assert agree > 0.9


def test_kmeans_segment_threads_equal(coffee):
    img = coffee[::3, ::3]
    with num_threads(1):
        a = seg.kmeans_segment(img, 5, seed=3)
    with num_threads(2):
        b = seg.kmeans_segment(img, 5, seed=3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"features": ()}, ValueError, "features"),
        ({"features": ("colour",)}, ValueError, "features"),
        ({"color_space": "hsv"}, ValueError, "color_space"),
        ({"position_weight": -1.0}, ValueError, "position_weight"),
        ({"k": 0}, ValueError, "`k`"),
        ({"k": 10**9}, ValueError, "`k`"),
    ],
)
def test_kmeans_segment_bad_input(kwargs, exc, match):
    img = np.zeros((4, 5, 3), np.uint8)
    kw = {"k": 2, **kwargs}
    k = kw.pop("k")
    with pytest.raises(exc, match=match):
        seg.kmeans_segment(img, k, **kw)


def test_kmeans_segment_bad_image():
    with pytest.raises(ValueError, match="channels"):
        seg.kmeans_segment(np.zeros((4, 5, 4)), 2)
    with pytest.raises(ValueError, match="non-empty"):
        seg.kmeans_segment(np.zeros((0, 5)), 2)
