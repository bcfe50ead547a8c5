import numpy as np
import pytest
import segen
from helpers import num_threads
from scipy import ndimage as ndi
from skimage import data, graph, measure, morphology, segmentation

seg = segen.segmentation


def blobs(rng, shape, sigma=2.0):
    smooth = ndi.gaussian_filter(rng.random(shape), sigma)
    return smooth > smooth.mean()


# ---- label ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("shape", [(1, 1), (1, 40), (40, 1), (67, 91), (200, 33)])
def test_label_identical_to_skimage(rng, shape, connectivity):
    for mask in (rng.random(shape) > 0.5, blobs(rng, shape)):
        got, n = seg.label(mask, connectivity=connectivity, return_num=True)
        want = measure.label(mask, connectivity=connectivity)
        assert got.dtype == np.int32
        assert n == want.max()
        np.testing.assert_array_equal(got, want)


def test_label_photo(camera):
    mask = camera > 120
    for c in (1, 2):
        np.testing.assert_array_equal(seg.label(mask, connectivity=c), measure.label(mask, connectivity=c))


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.uint16, np.int64, np.float32])
def test_label_mask_dtypes(rng, dtype):
    mask = rng.random((30, 30)) > 0.6
    np.testing.assert_array_equal(seg.label(mask.astype(dtype) * 7), measure.label(mask))


def test_label_empty_mask_and_views(rng):
    assert seg.label(np.zeros((5, 6), bool), return_num=True)[1] == 0
    base = rng.random((50, 60)) > 0.5
    np.testing.assert_array_equal(seg.label(base[::2, 1::3]), measure.label(base[::2, 1::3]))


def test_label_threads_equal(rng):
    mask = rng.random((300, 257)) > 0.45
    with num_threads(1):
        a = seg.label(mask, connectivity=1)
    with num_threads(2):
        b = seg.label(mask, connectivity=1)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "mask, kwargs, exc, match",
    [
        (np.zeros((0, 4)), {}, ValueError, "non-empty"),
        (np.zeros(5), {}, ValueError, "2-D"),
        (np.zeros((4, 4), complex), {}, TypeError, "mask"),
        (np.zeros((4, 4)), {"connectivity": 4}, ValueError, "hops"),
        (np.zeros((4, 4)), {"connectivity": 8}, ValueError, "connectivity=2"),
        (np.zeros((4, 4)), {"connectivity": 3}, ValueError, "connectivity"),
        (np.zeros((4, 4)), {"connectivity": 1.0}, TypeError, "connectivity"),
    ],
)
def test_label_bad_input(mask, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        seg.label(mask, **kwargs)


# ---- remove_small_objects / relabel_sequential ------------------------------------------------------
@pytest.mark.parametrize("max_size", [0, 3, 20])
@pytest.mark.parametrize("connectivity", [1, 2])
def test_remove_small_objects_bool(rng, max_size, connectivity):
    mask = rng.random((80, 90)) > 0.6
    want = morphology.remove_small_objects(mask, max_size=max_size, connectivity=connectivity)
    got = seg.remove_small_objects(mask, max_size, connectivity=connectivity)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, want)


def test_remove_small_objects_labels(rng):
    lab = measure.label(rng.random((80, 90)) > 0.5)
    want = morphology.remove_small_objects(lab, max_size=5)
    np.testing.assert_array_equal(seg.remove_small_objects(lab, 5), want)


def test_remove_small_objects_bad_input():
    with pytest.raises(ValueError, match="max_size"):
        seg.remove_small_objects(np.ones((3, 3), int), -1)
    with pytest.raises(TypeError, match="ar"):
        seg.remove_small_objects(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="negative"):
        seg.remove_small_objects(-np.ones((3, 3), int), 2)


@pytest.mark.parametrize("offset", [1, 5])
def test_relabel_sequential_matches_skimage(rng, offset):
    lab = rng.choice([0, 3, 7, 8, 40], size=(20, 30))
    got, fw, inv = seg.relabel_sequential(lab, offset=offset)
    want, wfw, winv = segmentation.relabel_sequential(lab, offset=offset)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(fw[lab], got)
    np.testing.assert_array_equal(inv[got], np.where(lab > 0, lab, 0))
    with pytest.raises(ValueError, match="offset"):
        seg.relabel_sequential(lab, offset=0)
    with pytest.raises(TypeError, match="label_field"):
        seg.relabel_sequential(lab.astype(float))


# ---- find_boundaries --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["thick", "inner", "outer"])
@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("background", [0, 2])
def test_find_boundaries_matches_skimage(rng, mode, connectivity, background):
    lab = np.kron(rng.integers(0, 4, size=(12, 15)), np.ones((3, 2), int)).astype(np.int32)
    lab[rng.random(lab.shape) > 0.9] = 0
    got = seg.find_boundaries(lab, connectivity=connectivity, mode=mode, background=background)
    want = segmentation.find_boundaries(lab, connectivity=connectivity, mode=mode, background=background)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, want)


def test_find_boundaries_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        seg.find_boundaries(np.ones((3, 3), int), mode="subpixel")


# ---- regionprops ------------------------------------------------------------------------------------
def test_regionprops_matches_skimage(coffee):
    img = coffee[:120, :160]
    lab = segmentation.slic(img, n_segments=40, start_label=1)
    lab[:10] = 0
    grey = img[..., 0]
    ours = seg.regionprops(lab, img)
    theirs = measure.regionprops(lab, intensity_image=img)
    assert [r.label for r in ours] == [r.label for r in theirs]
    for a, b in zip(ours, theirs):
        assert a.area == b.area
        np.testing.assert_allclose(a.centroid, b.centroid, atol=1e-9)
        assert a.bbox == b.bbox
        np.testing.assert_allclose(a.mean_intensity, b.intensity_mean, atol=1e-9)
    grey_props = seg.regionprops(lab, grey)
    want = [r.intensity_mean for r in measure.regionprops(lab, intensity_image=grey)]
    np.testing.assert_allclose([r.mean_intensity for r in grey_props], want, atol=1e-9)
    assert seg.regionprops(lab)[0].mean_intensity is None


def test_regionprops_bad_input():
    with pytest.raises(ValueError, match="intensity_image"):
        seg.regionprops(np.ones((3, 3), int), np.ones((4, 3)))
    with pytest.raises(TypeError, match="label_image"):
        seg.regionprops(np.ones((3, 3)))
    with pytest.raises(ValueError, match="negative"):
        seg.regionprops(-np.ones((3, 3), int))


# ---- merge_regions / remove_labels -----------------------------------------------------------------
def _same_partition(a, b):
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


@pytest.mark.parametrize("threshold", [5.0, 20.0, 40.0])
def test_merge_regions_matches_skimage_cut_threshold(astronaut, threshold):
    img = astronaut[:128, :128]
    lab = segmentation.slic(img, n_segments=80, start_label=1)
    want = graph.cut_threshold(lab, graph.rag_mean_color(img, lab), threshold)
    got = seg.merge_regions(lab, img, threshold)
    assert got.dtype == np.int32 and got.min() == 1
    assert _same_partition(got, want)
    assert got.max() == len(np.unique(want))


def test_merge_regions_keeps_background_and_bad_input():
    lab = np.array([[0, 1, 2], [0, 1, 2]])
    img = np.zeros((2, 3))
    np.testing.assert_array_equal(seg.merge_regions(lab, img, 1.0), [[0, 1, 1], [0, 1, 1]])
    with pytest.raises(ValueError, match="threshold"):
        seg.merge_regions(lab, img, -1.0)
    with pytest.raises(ValueError, match="image"):
        seg.merge_regions(lab, np.zeros((3, 3)), 1.0)


def test_remove_labels_by_predicate(coins):
    mask = coins > 110
    lab = seg.label(mask)
    small = seg.remove_labels(lab, lambda r: r.area < 50)
    np.testing.assert_array_equal(small, morphology.remove_small_objects(lab, max_size=49))
    dark = seg.remove_labels(lab, lambda r: r.mean_intensity < 150, intensity_image=coins, relabel=True)
    keep = [r.label for r in measure.regionprops(lab, intensity_image=coins) if r.intensity_mean >= 150]
    assert dark.max() == len(keep)
    np.testing.assert_array_equal(dark > 0, np.isin(lab, keep))
    with pytest.raises(TypeError, match="predicate"):
        seg.remove_labels(lab, 3)


@pytest.fixture(scope="module")
def coins():
    return data.coins()


# ---- sparse, huge label values (once 8-16 GiB of per-label tables from a 2-pixel image) ----------------


def test_huge_label_values_equal_small_ones():
    big = np.array([[0, 2**31 - 1, 2**31 - 1], [7, 7, 2**31 - 1]], np.int32)
    small = np.array([[0, 2, 2], [1, 1, 2]], np.int32)
    img = np.array([[0.0, 0.5, 0.5], [0.1, 0.1, 0.55]])
    back = {0: 0, 1: 7, 2: 2**31 - 1}
    for got, want in zip(seg.regionprops(big, img), seg.regionprops(small, img), strict=True):
        assert got.label == back[want.label]
        assert (got.area, got.centroid, got.bbox, got.mean_intensity) == (
            want.area,
            want.centroid,
            want.bbox,
            want.mean_intensity,
        )
    np.testing.assert_array_equal(
        seg.remove_small_objects(big, max_size=2),
        np.vectorize(back.get)(seg.remove_small_objects(small, max_size=2)),
    )
    np.testing.assert_array_equal(
        seg.remove_labels(big, lambda r: r.area == 2), np.where(big == 7, 0, big).astype(np.int32)
    )
    merged = seg.merge_regions(big, img, 0.1)
    np.testing.assert_array_equal(merged, seg.merge_regions(small, img, 0.1))
    r, fw, inv = seg.relabel_sequential(np.array([[0, 5_000_000]]))  # 25 MB of map: under the budget
    assert r.tolist() == [[0, 1]] and inv.tolist() == [0, 5_000_000] and fw.size == 5_000_001
