"""Bad inputs to the public array API (RELIABILITY.md section 3.1): a deterministic subset of the hostile-input
sweep (tests/fuzz/sweep_api.py) run in-process, and the catalogue rows P1-P17 that have a cheap test.

Every case below once gave a wrong exception type (a pybind11 signature dump, ZeroDivisionError,
OverflowError, IndexError, numpy's own message), an out-of-memory error, a hang or a silent wrong result; now
each raises a segen error — a ``ValueError``/``TypeError`` — naming the parameter. Only cases that cannot
crash or hang are here (huge views are refused before any copy under segen's memory budget); the whole
sweep runs out of process with ``python tests/fuzz/sweep_api.py``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import sys
import time

import numpy as np
import pytest
import segen
from segen.errors import DTypeError, InvalidArgumentError, ResourceLimitError, SegenError


def _sweep():
    path = pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "sweep_api.py"
    spec = importlib.util.spec_from_file_location("sweep_api", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SWEEP = _sweep()

# "module.func[baseline]:param=value" as the sweep prints them; the comment says what it did before.
CASES = [
    # C int parameters: were pybind11 "incompatible function arguments" signature dumps
    "filters.uniform[0]:size=2**31",
    "filters.uniform[0]:size=10**30",
    "cluster.kmeans[0]:n_init=2**31",
    "cluster.kmeans[0]:max_iter=10**30",
    "cluster.dbscan[0]:min_samples=2**63",
    "segmentation.find_boundaries[0]:background=2**63",
    "segmentation.find_boundaries[0]:background=-2**63",
    # OverflowError / ZeroDivisionError / IndexError
    "features.gabor_kernel[0]:bandwidth=1e-300",
    "features.gabor_kernel[0]:bandwidth=1e300",
    "features.gabor[0]:bandwidth=2**63",
    "segmentation.relabel_sequential[0]:offset=2**31",
    "segmentation.relabel_sequential[0]:offset=10**30",
    "viz.contact_sheet[0]:columns=0",
    "viz.contact_sheet[0]:columns=2**63",
    "viz.contact_sheet[0]:images=1d",
    "viz.boundaries[0]:labels=1d",
    "viz.overlay[0]:image=0d",
    # memory: std::bad_alloc, 128 GiB of weights, 720 GiB grids, 16-48 GiB copies of broadcast views
    "features.gabor_bank[0]:smoothing=2**31",
    "features.gabor_bank[0]:smoothing_truncate=2**31",
    "features.canny[0]:sigma=2**31",
    "viz.image_grid[0]:columns=2**31",
    "filters.gaussian[0]:image=huge_broadcast",
    "filters.correlate[0]:weights=huge_broadcast",
    "color.rgb2lab[0]:image=huge_broadcast",
    "transform.resize[0]:image=huge_broadcast",
    "cluster.kmeans[0]:X=huge_broadcast",
    "segmentation.label[0]:mask=huge_broadcast",
    "segmentation.relabel_sequential[0]:label_field=huge_broadcast",
    "segmentation.watershed[0]:image=huge_broadcast",
    "viz.to_uint8[0]:image=huge_broadcast",
    "viz.image_grid[0]:images=huge_broadcast",
    # the truth value of an array / numpy's and Python's own messages, naming no parameter
    "filters.sobel[0]:return_direction=array2x2",
    "features.color_histogram[0]:normalize=array2x2",
    "features.color_histogram[0]:mask=ragged",
    "features.canny[0]:use_quantiles=array2x2",
    "features.gabor_kernel[0]:dtype=string",
    "features.gabor_kernel[0]:dtype=0",
    "transform.flip[0]:axis=array2x2",
    "segmentation.label[0]:return_num=array2x2",
    "segmentation.distance_transform_edt[1]:sampling=complex",
    "segmentation.peak_local_max[0]:num_peaks=array2x2",
    "segmentation.watershed[0]:watershed_line=array2x2",
    "segmentation.find_boundaries[0]:mode=array2x2",
    "segmentation.remove_labels[0]:relabel=array2x2",
    "segmentation.remove_small_objects[1]:ar=1d",
    "segmentation.kmeans_segment[0]:features=0",
    "segmentation.kmeans_segment[0]:color_space=array2x2",
    "segmentation.kmeans_segment[0]:image=nan",
    "segmentation.foreground_kmeans[0]:image=1x1",
    "segmentation.texture_segment[0]:position_weight=string",
    "segmentation.texture_segment[0]:frequencies=1e-300",
    "segmentation.segment_touching_objects[0]:smooth=1e300",
    "segmentation.segment_touching_objects[0]:fill_holes=array2x2",
    "viz.to_uint8[0]:percentile=-1",
    "viz.to_uint8[0]:image=string",
    "viz.contact_sheet[0]:titles=True",
    "viz.contact_sheet[0]:tile=string",
    "viz.overlay[0]:alpha=None",
    "viz.overlay[0]:boundary_color=list",
    "viz.image_grid[0]:pad=-1",
    "viz.image_grid[0]:columns=2.5",
    "eval.metrics.segmentation_scores[0]:pred=str",
    "eval.metrics.segmentation_scores[0]:pred=float16",
    # silently accepted (a result came back): now refused
    "filters.gaussian[0]:channel_axis=string",
    "filters.gaussian[0]:cval=1e300",
    "filters.correlate[0]:weights=float_1e300",
    "filters.sobel[0]:return_direction=string",
    "features.gabor[0]:frequency=10**30",
    "features.gabor_bank[0]:smoothing=1e300",
    "features.gabor_bank[0]:image=float_1e300",
    "features.gabor_bank[0]:cval=1e300",
    "transform.flip[0]:axis=True",
    "transform.rotate[0]:cval=1e300",
    "cluster.kmeans[0]:seed=-1",
    "segmentation.distance_transform_edt[0]:sampling=1e-300",
    "segmentation.distance_transform_edt[0]:sampling=1e300",
    "segmentation.kmeans_segment[0]:position_weight=1e300",
    "segmentation.kmeans_segment[0]:seed=-2**63",
    "segmentation.foreground_otsu[0]:bright=string",
    "viz.to_uint8[0]:image=complex",
    "viz.contact_sheet[0]:titles=string",
    "viz.contact_sheet[0]:tile=-1",
    "viz.overlay[0]:alpha=2.5",
    "viz.overlay[0]:boundary_color=-1",
    "viz.boundaries[0]:labels=nan",
    "eval.metrics.segmentation_scores[0]:true=nan",
    "eval.metrics.segmentation_scores[0]:true=complex",
    # P1, P2, P4 through the sweep's battery
    "filters.gaussian[0]:image=empty",
    "features.gabor[0]:image=4d",
    "color.rgb2hsv[0]:image=object",
    "segmentation.watershed[0]:markers=shape_plus1",
]


def _case(text: str):
    m = re.fullmatch(r"(.+)\.(\w+)\[(\d+)\]:(\w+)=(.+)", text)
    return SWEEP.Case(m[1], m[2], int(m[3]), m[4], m[5])


@pytest.mark.parametrize("text", CASES)
def test_sweep_case_raises_a_segen_error_naming_the_parameter(text):
    case = _case(text)
    func, kwargs, _ = SWEEP.build_call(case)
    with pytest.raises((ValueError, TypeError)) as info:
        func(**kwargs)
    exc = info.value
    assert isinstance(exc, SegenError), f"{type(exc).__name__}: {exc}"
    assert "incompatible function arguments" not in str(exc)
    assert SWEEP.names_parameter(str(exc), case.param, kwargs), str(exc)


def test_the_sweep_classifies_in_process():
    # the same classification the out-of-process sweep gives, for one case of each kind
    for text, want in [
        ("filters.uniform[0]:size=2**31", "CLEAN"),
        ("filters.gaussian[0]:image=readonly", "OK"),
        ("filters.gaussian[0]:image=negstride", "OK"),
        ("segmentation.label[0]:mask=fortran", "OK"),
    ]:
        case = _case(text)
        func, kwargs, info = SWEEP.build_call(case)
        ref = func(**info["base"]) if info["layout"] else None
        assert SWEEP.classify(case, func, kwargs, info, ref)["outcome"] == want, text


# ---- results that were wrong ---------------------------------------------------------------------------


def test_sobel_magnitude_of_huge_values_is_finite():
    # the squares overflowed: a float32 step of 1e20 gave inf, float64 past 1e154 too
    for dtype, big in ((np.float32, 1e20), (np.float64, 1e300)):
        a = np.zeros((6, 6), dtype)
        a[:, 3:] = big
        mag, ang = segen.filters.sobel(a, return_direction=True)
        unit = segen.filters.sobel((a / dtype(big)).astype(dtype))
        assert np.isfinite(mag).all()
        np.testing.assert_allclose(mag / big, unit, rtol=1e-6)
        assert (ang == 0).all()
    # exact powers of two: unchanged results for values that did not overflow
    b = np.random.default_rng(0).random((9, 9))
    assert np.array_equal(segen.filters.scharr(b * 2.0**600) / 2.0**600, segen.filters.scharr(b))


def test_gabor_bank_of_huge_values_is_finite_and_scales_exactly():
    g = np.random.default_rng(1).random((12, 12), dtype=np.float32)
    small = segen.features.gabor_bank(g, 0.2, 0.0)
    big = segen.features.gabor_bank(g * np.float32(2.0**70), 0.2, 0.0)
    assert np.isfinite(big).all()
    assert np.array_equal(big / np.float32(2.0**70), small)


def test_remove_small_objects_max_size_past_the_image_removes_everything():
    lab = np.zeros((5, 5), np.int32)
    lab[1:3, 1:3] = 1
    for max_size in (25, 2**40, 2**63, 10**30):
        assert not segen.segmentation.remove_small_objects(lab, max_size).any()
        assert not segen.segmentation.remove_small_objects(lab > 0, max_size).any()


def test_relabel_sequential_of_a_bool_image():
    # a bool array indexed the forward map as a mask (IndexError)
    m = np.array([[True, False], [False, True]])
    relabelled, forward, inverse = segen.segmentation.relabel_sequential(m)
    assert relabelled.tolist() == [[1, 0], [0, 1]]
    assert forward.tolist() == [0, 1] and inverse.tolist() == [0, 1]


def test_kmeans_seeds_from_2_64_are_not_folded_onto_small_ones():
    X = np.random.default_rng(2).random((50, 2))
    a = segen.cluster.kmeans(X, 5, seed=0, init="random")
    b = segen.cluster.kmeans(X, 5, seed=2**64, init="random")
    c = segen.cluster.kmeans(X, 5, seed=2**64, init="random")
    assert not np.array_equal(a.centers, b.centers)  # 2**64 % 2**64 was seed 0
    assert np.array_equal(b.centers, c.centers)


def test_distance_transform_sampling_that_underflowed_is_refused():
    m = np.zeros((4, 6), bool)
    m[1:3, 1:5] = True
    assert segen.segmentation.distance_transform_edt(m, sampling=1e-100)[1, 1] == 1e-100
    with pytest.raises(InvalidArgumentError, match="`sampling`"):  # gave 0 everywhere
        segen.segmentation.distance_transform_edt(m, sampling=(1e-200, 1.0))


def test_viz_titles_must_match_the_images():
    imgs = [np.zeros((4, 4)), np.ones((4, 4))]
    with pytest.raises(InvalidArgumentError, match="`titles`"):  # zip() dropped the second image
        segen.viz.contact_sheet(imgs, ["only one"], tile=8)
    assert segen.viz.contact_sheet(imgs, ["a", "b"], tile=8).shape[2] == 3


def test_image_grid_of_many_tiny_images_is_vectorised():
    imgs = np.random.default_rng(3).random((20000, 1, 4))
    grid = segen.viz.image_grid(imgs, pad=0)  # 100,000 of them took 10 s one by one
    assert grid.shape == (141, 142 * 4)  # ceil(sqrt(n)) columns
    assert np.array_equal(grid[:1, :4], segen.viz.to_uint8(imgs[0]))


# ---- the catalogue (RELIABILITY.md 3.1) ----------------------------------------------------------------


def test_p1_empty_arrays_name_the_parameter_and_the_shape():
    for call in (
        lambda: segen.filters.gaussian(np.zeros((0, 512))),
        lambda: segen.segmentation.label(np.zeros((4, 0), bool)),
        lambda: segen.cluster.kmeans(np.zeros((0, 3)), 1),
        lambda: segen.segmentation.threshold_otsu(np.zeros((0,))),
    ):
        with pytest.raises(InvalidArgumentError, match=r"non-empty.*\(\d+, \d+\)|non-empty"):
            call()


def test_p5_float16_is_computed_in_float32():
    x = np.random.default_rng(4).random((10, 12)).astype(np.float16)
    before = x.copy()
    out = segen.filters.gaussian(x, 1.5)
    assert out.dtype == np.float32
    assert np.array_equal(out, segen.filters.gaussian(x.astype(np.float32), 1.5))
    assert np.array_equal(x, before)
    assert segen.color.rgb2gray(np.stack([x] * 3, -1)).dtype == np.float32


LAYOUT_CALLS = [
    ("gaussian", lambda a: segen.filters.gaussian(a, 1.0)),
    ("sobel", lambda a: segen.filters.sobel(a, return_direction=True)),
    ("resize", lambda a: segen.transform.resize(a, (7, 5))),
    ("threshold_otsu", lambda a: segen.segmentation.threshold_otsu(a)),
    ("label", lambda a: segen.segmentation.label(a > 0.5)),
    ("watershed", lambda a: segen.segmentation.watershed(a, 3)),
]


@pytest.mark.parametrize("name, call", LAYOUT_CALLS, ids=[n for n, _ in LAYOUT_CALLS])
def test_p7_views_read_only_and_memmaps_give_the_contiguous_result(name, call, tmp_path):
    base = np.random.default_rng(5).random((11, 13)).astype(np.float32)
    want = call(base.copy())
    wide = np.repeat(base, 2, axis=1)
    readonly = base.copy()
    readonly.setflags(write=False)
    mm = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.float32, shape=base.shape)
    mm[:] = base
    mm.flush()
    mapped = np.load(tmp_path / "m.npy", mmap_mode="r")
    for arr in (wide[:, ::2], base[::-1].copy()[::-1], np.asfortranarray(base), readonly, mapped):
        before = np.array(arr, copy=True)
        got = call(arr)
        for g, w in zip(SWEEP._flatten(got), SWEEP._flatten(want)):
            assert np.array_equal(g, w, equal_nan=True), name
        assert np.array_equal(arr, before)  # input untouched
    del mapped, mm


def test_p9_integer_images_accumulate_without_wrapping():
    img = np.full((5, 5), 255, np.uint8)
    out = segen.filters.convolve(img, np.ones((3, 3)))
    assert out.dtype == np.float32 and out[2, 2] == 9 * 255
    step = np.zeros((5, 6), np.uint8)
    step[:, 3:] = 255
    assert segen.filters.sobel_v(step).max() == 255.0  # [1, 0, -1] * [1, 2, 1] / 4 of a 0 -> 255 step
    assert segen.filters.laplace(step).min() == -255.0  # negative: no unsigned wrap-around


@pytest.mark.parametrize(
    "call",
    [
        lambda: segen.filters.gaussian(np.ones((4, 4)), -1),
        lambda: segen.filters.gaussian(np.ones((4, 4)), np.nan),
        lambda: segen.features.gabor_kernel(0.0),
        lambda: segen.features.gabor_kernel(0.6),
        lambda: segen.features.gabor_kernel(0.1, theta=np.inf),
        lambda: segen.cluster.kmeans(np.ones((3, 2)), 0),
        lambda: segen.cluster.kmeans(np.ones((3, 2)), 4),
        lambda: segen.filters.uniform(np.ones((4, 4)), 0),
        lambda: segen.features.canny(np.ones((8, 8)), low_threshold=0.5, high_threshold=0.2),
    ],
)
def test_p10_invalid_scalars_name_parameter_and_value(call):
    with pytest.raises(InvalidArgumentError, match=r"`\w+`"):
        call()


def test_p11_gigantic_kernels_are_refused_before_allocating():
    with pytest.raises(InvalidArgumentError, match="`frequency`"):
        segen.features.gabor_kernel(1e-6)
    with pytest.raises(InvalidArgumentError, match="`sigma`"):
        segen.filters.gaussian(np.ones((4, 4)), 1e12)
    with pytest.raises(InvalidArgumentError, match="`smoothing`"):
        segen.features.gabor_bank(np.ones((8, 8)), 0.1, 0.0, smoothing=1e6)


@pytest.mark.parametrize("c, hop", [(4, 1), (8, 2)])
def test_p12_opencv_connectivity_explains_the_hop_count(c, hop):
    mask = np.ones((4, 4), bool)
    for call in (
        lambda: segen.segmentation.label(mask, connectivity=c),
        lambda: segen.segmentation.watershed(np.zeros((4, 4)), 2, connectivity=c),
        lambda: segen.segmentation.find_boundaries(mask.astype(np.int32), connectivity=c),
    ):
        with pytest.raises(InvalidArgumentError, match=rf"OpenCV's {c}-connectivity pass connectivity={hop}"):
            call()
    with pytest.raises(InvalidArgumentError, match="`connectivity` must be 1"):
        segen.segmentation.label(mask, connectivity=3)


def test_p13_markers_and_masks_of_another_shape_or_dtype():
    img = np.zeros((6, 6))
    with pytest.raises(InvalidArgumentError, match=r"`markers`.*\(6, 6\).*\(6, 7\)"):
        segen.segmentation.watershed(img, np.zeros((6, 7), np.int32))
    with pytest.raises(DTypeError, match="`markers`"):
        segen.segmentation.watershed(img, np.zeros((6, 6)))
    with pytest.raises(InvalidArgumentError, match=r"`mask`.*\(6, 6\)"):
        segen.segmentation.watershed(img, 2, mask=np.ones((5, 6), bool))


def test_p16_labels_past_int32():
    big = np.zeros((4, 4), np.int64)
    big[1, 1] = 2**31
    big[2, 2] = 2**40
    with pytest.raises(InvalidArgumentError, match="`ar` values must fit in int32"):
        segen.segmentation.remove_small_objects(big, 0)
    with pytest.raises(InvalidArgumentError, match="`label_image`"):
        segen.segmentation.regionprops(big)
    with pytest.raises(ResourceLimitError, match="`label_field`"):
        segen.segmentation.relabel_sequential(big)
    # colours follow the values: correct without a table up to 2**40
    rgb = segen.viz.label2rgb(big)
    assert rgb.shape == (4, 4, 3) and (rgb[0, 0] == 0).all() and rgb[1, 1].any() and rgb[2, 2].any()
    scores = segen.eval.segmentation_scores(big > 0, big > 0, 2)
    assert scores["pixel_accuracy"] == 1.0


@pytest.mark.parametrize(
    "seed, exc, match",
    [
        (-1, InvalidArgumentError, "`seed` must be >= 0"),
        (1.5, DTypeError, "`seed`"),
        ("7", DTypeError, "`seed`"),
        (np.random.RandomState(0), DTypeError, "`seed`"),
    ],
)
def test_p17_bad_seeds(seed, exc, match):
    X = np.random.default_rng(6).random((20, 2))
    with pytest.raises(exc, match=match):
        segen.cluster.kmeans(X, 2, seed=seed)
    with pytest.raises(exc, match=match):
        segen.segmentation.kmeans_segment(np.ones((4, 4, 3)), 2, seed=seed)


def test_p17_good_seeds():
    X = np.random.default_rng(7).random((20, 2))
    a = segen.cluster.kmeans(X, 3, seed=3)
    b = segen.cluster.kmeans(X, 3, seed=np.int64(3))
    assert np.array_equal(a.labels, b.labels)
    segen.cluster.kmeans(X, 3, seed=np.random.default_rng(0))
    segen.cluster.kmeans(X, 3, seed=None)


def test_bool_parameters_take_bools_and_0_1_only():
    img = np.random.default_rng(8).random((8, 8))
    a = segen.filters.sobel(img, return_direction=1)
    assert isinstance(a, tuple)
    assert isinstance(segen.segmentation.label(img > 0.5, return_num=np.bool_(True)), tuple)
    for bad in ("yes", None, 2, [True]):
        with pytest.raises(DTypeError, match="`return_num` must be True or False"):
            segen.segmentation.label(img > 0.5, return_num=bad)


def test_channel_axis_is_checked_for_grey_images_too():
    img = np.ones((4, 4))
    segen.filters.gaussian(img, channel_axis=None)
    segen.filters.gaussian(img, channel_axis=0)  # a grey image ignores a valid axis
    for bad in ("-1", 1.0, 3, True):
        with pytest.raises(InvalidArgumentError, match="`channel_axis`"):
            segen.filters.gaussian(img, channel_axis=bad)


def test_multiotsu_of_a_sparse_uint16_histogram_is_fast():
    # one bin per level: 65,000 levels made an O(levels**2) search (35 s for a 16 x 16 image); the search
    # now runs over the occupied levels only, with the same thresholds
    img = np.array([[100, 200, 30000], [30100, 60000, 60100]] * 3, np.uint16)
    start = time.perf_counter()
    assert segen.segmentation.threshold_multiotsu(img).tolist() == [200, 30100]
    assert time.perf_counter() - start < 2.0
