import warnings

import numpy as np
import pytest
import segen
from helpers import num_threads
from scipy import ndimage as ndi
from skimage import data, feature, filters, morphology, segmentation

seg = segen.segmentation


@pytest.fixture(autouse=True, params=["auto", "queue", "sweep"])
def float_flood(request, monkeypatch):
    # A float relief is flooded by the radix queue or by the sorted sweep, chosen by how many values repeat;
    # SEGEN_WATERSHED_FLOOD forces one. Every test here runs with the choice and with each forced, so both give
    # the reference's labels on every relief (the sweep's replay of tied keys included).
    if request.param == "auto":
        monkeypatch.delenv("SEGEN_WATERSHED_FLOOD", raising=False)
    else:
        monkeypatch.setenv("SEGEN_WATERSHED_FLOOD", request.param)
    return request.param


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


def reference_watershed(img, markers, mask=None, connectivity=1, watershed_line=False):
    """segen's documented flooding order, written independently with heapq on small images: pixels leave by
    (cost, age); markers enter first, in raster order (ages 0..k-1); a pixel costs its value but never
    less than the pixel it was reached from. scikit-image's algorithm, except that its heap releases
    markers of equal value in heap order rather than raster order."""
    import heapq

    h, w = img.shape
    inside = np.ones(img.shape, bool) if mask is None else mask.astype(bool).copy()
    out = np.where(inside, markers, 0).astype(np.int64)
    steps = [(-1, 0), (0, -1), (0, 1), (1, 0)] + (
        [(-1, -1), (-1, 1), (1, -1), (1, 1)] if connectivity == 2 else []
    )

    def around(p):
        y, x = p
        for dy, dx in steps:
            if 0 <= y + dy < h and 0 <= x + dx < w:
                yield (y + dy, x + dx)

    heap, age = [], 0
    for p in zip(*np.nonzero(out)):
        heap.append((float(img[p]), age, p, p))
        age += 1
    heapq.heapify(heap)  # keys are distinct (ages), so the heap's layout cannot change the order
    while heap:
        v, _, p, src = heapq.heappop(heap)
        if watershed_line:
            if out[p] and p != src:
                continue
            lab = out[src]
            if not inside[p] or any(inside[n] and out[n] and out[n] != lab for n in around(p)):
                inside[p] = False  # on a line between two basins (found now or before): stays 0
            else:
                out[p] = lab
        for n in around(p):
            if not inside[n] or out[n]:
                continue
            if not watershed_line:
                out[n] = out[p]
            heapq.heappush(heap, (max(float(img[n]), v), age, n, src))
            age += 1
    return out


@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("line", [False, True])
@pytest.mark.parametrize("with_mask", [False, True])
def test_watershed_random_plateaus(rng, connectivity, line, with_mask):
    img = rng.integers(0, 6, size=(40, 50)).astype(np.uint8)  # many ties, single-pixel markers on them
    markers = np.zeros(img.shape, np.int32)
    idx = rng.choice(img.size, 25, replace=False)
    markers.flat[idx] = np.arange(1, 26)
    mask = rng.random(img.shape) > 0.15 if with_mask else None
    kw = dict(connectivity=connectivity, mask=mask, watershed_line=line)
    want = reference_watershed(img, markers, mask, connectivity, line)
    for dtype in (np.uint8, np.uint16, np.float32, np.float64):
        np.testing.assert_array_equal(
            seg.watershed(img.astype(dtype), markers, **kw), want, err_msg=str(dtype)
        )
    # scikit-image's heap releases these tied markers in another order: most pixels still agree
    assert agreement(want, segmentation.watershed(img, markers, **kw)) > 0.85


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_watershed_float_order_edge_cases(dtype):
    # -0.0 and +0.0 are one level; infinities are the lowest and highest levels; same as scikit-image
    img = np.array([[0.0, -0.0, 1.0, np.inf, -np.inf, 2.0, -0.0, 0.0]], dtype)
    markers = np.array([[1, 0, 0, 0, 0, 0, 0, 2]], np.int32)
    want = segmentation.watershed(img, markers)
    np.testing.assert_array_equal(seg.watershed(img, markers), want)
    np.testing.assert_array_equal(seg.watershed(img, markers), reference_watershed(img, markers))
    # an all-equal relief splits by distance (queue steps) from the markers
    flat = np.full((7, 9), 3.5, dtype)
    mk = np.zeros(flat.shape, np.int32)
    mk[0, 0], mk[6, 8] = 1, 2
    np.testing.assert_array_equal(seg.watershed(flat, mk), segmentation.watershed(flat, mk))
    # one pixel; markers outside the mask are ignored
    assert seg.watershed(np.ones((1, 1), dtype), np.ones((1, 1), np.int32)).tolist() == [[1]]
    mask = np.ones(flat.shape, bool)
    mask[0, 0] = False
    got = seg.watershed(flat, mk, mask=mask)
    assert got[0, 0] == 0 and (got[mask] == 2).all()
    with pytest.raises(ValueError, match="NaN"):
        seg.watershed(np.where(flat > 0, np.nan, flat), mk)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("with_mask", [False, True])
def test_watershed_float_mostly_distinct_with_ties(rng, dtype, connectivity, with_mask):
    # a relief of mostly distinct values (a refill per pop in the flood's queue) with a few ties in it: small
    # plateaus, a plateau holding two markers, values one ulp apart, infinities; the same labels as the
    # reference at 1 and 2 threads
    relief = ndi.gaussian_filter(rng.random((64, 72)), 2).astype(dtype)
    relief[10:14, 10:14] = relief[12, 12]
    relief[40:43, 50:56] = relief[41, 52]
    relief[30, 5:9] = relief[30, 5]
    relief[5, 60] = np.nextafter(relief[5, 61], dtype(np.inf))
    relief[50, 20], relief[0, 0], relief[63, 71] = np.inf, -np.inf, np.inf
    markers = np.zeros(relief.shape, np.int32)
    idx = rng.choice(relief.size, 20, replace=False)
    markers.flat[idx] = np.arange(1, 21)
    markers[40, 50], markers[42, 55] = 21, 22
    mask = ndi.gaussian_filter(rng.random(relief.shape), 3) > 0.4 if with_mask else None
    kw = dict(connectivity=connectivity, mask=mask)
    want = reference_watershed(relief, markers, mask, connectivity)
    np.testing.assert_array_equal(segmentation.watershed(relief, markers, **kw), want)
    for threads in (1, 2):
        with num_threads(threads):
            np.testing.assert_array_equal(seg.watershed(relief, markers, **kw), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("big", [0, 1, 2])
def test_watershed_float_labels_of_any_size(rng, dtype, big):
    # the sweep packs a pixel's label and pop number in 32 bits where they fit: on 64 x 72 pixels, labels
    # below 2^19; a larger label (or a negative one) sends it to 64-bit cells. Labels on either side of that
    # limit, the largest int32 and negative ones flood as in the reference.
    relief = ndi.gaussian_filter(rng.random((64, 72)), 2).astype(dtype)
    labels = [
        np.arange(1, 31),
        np.array([3, 2**19 - 1, 17, 2**19 - 2] * 7 + [5, 6]),
        np.array([2**19, 2**31 - 1, -7, -(2**31), 9, 1] * 5),
    ][big]
    markers = np.zeros(relief.shape, np.int32)
    idx = rng.choice(relief.size, labels.size, replace=False)
    markers.flat[idx] = labels
    for connectivity in (1, 2):
        want = segmentation.watershed(relief, markers, connectivity=connectivity)
        got = seg.watershed(relief, markers, connectivity=connectivity)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("connectivity", [1, 2])
def test_watershed_float_relief_across_zero(rng, dtype, connectivity):
    # a relief of negative and positive values (a negated distance map is all negative): the order of values
    # that the floods' integer keys must keep, through zero, -0.0 and the subnormals on both sides, and values
    # one ulp apart either side of zero
    relief = (ndi.gaussian_filter(rng.random((97, 113)), 2) - 0.5).astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    relief[10, 10:16] = np.array([-0.0, 0.0, tiny, -tiny, 2 * tiny, -2 * tiny], dtype)
    relief[60:63, 40:43] = -0.0  # a plateau of -0.0 and +0.0
    relief[61, 41] = 0.0
    relief[80, 5:8] = (
        np.nextafter(dtype(-0.25), dtype(0)),
        dtype(-0.25),
        np.nextafter(dtype(-0.25), dtype(-1)),
    )
    relief[30, 90:93] = np.nextafter(dtype(0.25), dtype(0)), dtype(0.25), np.nextafter(dtype(0.25), dtype(1))
    markers = np.zeros(relief.shape, np.int32)
    idx = rng.choice(relief.size, 40, replace=False)
    markers.flat[idx] = np.arange(1, 41)
    markers[61, 42] = 41
    want = reference_watershed(relief, markers, connectivity=connectivity)
    np.testing.assert_array_equal(segmentation.watershed(relief, markers, connectivity=connectivity), want)
    np.testing.assert_array_equal(seg.watershed(relief, markers, connectivity=connectivity), want)
    # -0.0 and +0.0 are one level: a plateau of both splits between two markers by distance (were -0.0 lower,
    # the right marker would take all of it first, and half the rest)
    row = np.array([[-1.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, -0.0, -0.0, -1.0]], dtype)
    mk = np.array([[1, 0, 0, 0, 0, 0, 0, 0, 0, 2]], np.int32)
    want = [[1, 1, 1, 1, 1, 2, 2, 2, 2, 2]]
    np.testing.assert_array_equal(segmentation.watershed(row, mk), want)
    np.testing.assert_array_equal(seg.watershed(row, mk), want)
    np.testing.assert_array_equal(
        seg.watershed(np.repeat(row, 3, axis=0), np.repeat(mk, 3, axis=0)), want * 3
    )
    # the same relief shifted to all-negative values (as -distance)
    shifted = relief - dtype(2)
    want = segmentation.watershed(shifted, markers, connectivity=connectivity)
    np.testing.assert_array_equal(seg.watershed(shifted, markers, connectivity=connectivity), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("connectivity", [1, 2])
def test_watershed_float_values_beyond_the_sampled_range(rng, dtype, connectivity):
    # the sweep takes its key range from a grid of about 64 x 64 pixels: values off that grid, below and above
    # everything on it (tied among themselves, distinct, infinite, next to markers), still flood in order
    relief = ndi.gaussian_filter(rng.random((331, 347)), 3).astype(dtype)
    lo, hi = relief.min(), relief.max()
    relief[101:104, 7] = lo - 1  # a tied pit below the range
    relief[200, 201] = lo - 0.5
    relief[17, 300:303] = hi + 1  # a tied ridge above it
    relief[250, 250] = np.inf
    relief[3, 3] = -np.inf
    relief[150:152, 150:152] = lo - 2
    markers = np.zeros(relief.shape, np.int32)
    idx = rng.choice(relief.size, 60, replace=False)
    markers.flat[idx] = np.arange(1, 61)
    markers[150, 150], markers[200, 201] = 61, 62
    kw = dict(connectivity=connectivity)
    want = segmentation.watershed(relief, markers, **kw)
    np.testing.assert_array_equal(seg.watershed(relief, markers, **kw), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("with_mask", [False, True])
def test_watershed_float_smooth_relief_with_lakes(coins, dtype, connectivity, with_mask):
    # the benchmark's hard case at the photo's own size: the Sobel magnitude of the smoothed coins (distinct
    # values almost everywhere) flooded from spaced minima only, so that most local minima hold no marker and
    # fill as lakes when the flood reaches their rim; identical to scikit-image
    smooth = filters.gaussian(coins, 2)
    relief = filters.sobel(smooth).astype(dtype)
    peaks = feature.peak_local_max(-relief, min_distance=10)
    markers = np.zeros(relief.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    assert len(peaks) > 100
    assert morphology.local_minima(relief).sum() > 2 * len(peaks)  # lakes
    mask = ndi.binary_dilation(smooth > filters.threshold_otsu(smooth), iterations=8) if with_mask else None
    kw = dict(connectivity=connectivity, mask=mask)
    want = segmentation.watershed(relief, markers, **kw)
    for threads in (1, 2):
        with num_threads(threads):
            np.testing.assert_array_equal(seg.watershed(relief, markers, **kw), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("connectivity", [1, 2])
def test_watershed_float_mask_shapes(rng, dtype, connectivity):
    # the float flood keys only the pixels inside the mask: masks touching every border, with holes,
    # markers inside and outside it, none inside, NaN outside it
    relief = ndi.gaussian_filter(rng.random((60, 70)), 2).astype(dtype)
    markers = np.zeros(relief.shape, np.int32)
    idx = rng.choice(relief.size, 30, replace=False)
    markers.flat[idx] = np.arange(1, 31)
    mask = ndi.gaussian_filter(rng.random(relief.shape), 3) > 0.5
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = True
    mask[20:30, 25:40] = False  # a hole
    assert mask.any() and not mask.all()
    kw = dict(connectivity=connectivity, mask=mask)
    got = seg.watershed(relief, markers, **kw)
    np.testing.assert_array_equal(got, segmentation.watershed(relief, markers, **kw))
    np.testing.assert_array_equal(got, reference_watershed(relief, markers, mask, connectivity))
    assert (got[~mask] == 0).all()
    outside = np.where(mask, 0, markers)
    assert (seg.watershed(relief, outside, **kw) == 0).all()
    with pytest.raises(ValueError, match="NaN"):
        seg.watershed(np.where(mask, relief, np.nan).astype(dtype), markers, **kw)


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
    got = seg.watershed(img, connectivity=connectivity)
    markers = seg.label(
        morphology.local_minima(img, connectivity=connectivity, allow_borders=True), connectivity=connectivity
    )
    np.testing.assert_array_equal(got, reference_watershed(img, markers, None, connectivity))
    # hundreds of minima, some of equal value: scikit-image's heap releases those in another order (1 and
    # 8 pixels of 8000 differ here, with 4- and 8-connectivity)
    assert agreement(got, segmentation.watershed(img, connectivity=connectivity)) >= 0.998
    q = (img * 20).astype(np.uint8)  # plateaus: many minima of equal value, so tied markers
    mask = rng.random(q.shape) > 0.1
    got = seg.watershed(q.astype(np.float64), mask=mask, connectivity=connectivity)
    np.testing.assert_array_equal(got, seg.watershed(q, mask=mask, connectivity=connectivity))
    minima = morphology.local_minima(q, connectivity=connectivity, allow_borders=True) & mask
    markers = seg.label(minima, connectivity=connectivity)
    np.testing.assert_array_equal(got, reference_watershed(q, markers, mask, connectivity))
    assert agreement(got, segmentation.watershed(q, mask=mask, connectivity=connectivity)) > 0.97
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


@pytest.mark.parametrize("compactness", [0.0, 0.001])
def test_watershed_threads_equal(coins_problem, compactness):
    edges, markers = coins_problem
    with num_threads(1):
        a = seg.watershed(edges, markers, compactness=compactness)
    with num_threads(2):
        b = seg.watershed(edges, markers, compactness=compactness)
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
