import cv2
import numpy as np
import pytest
import segen
from helpers import DTYPES, num_threads, outputs_at_cpu_levels, random_image, value_range
from skimage import transform as sktf


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, None])
@pytest.mark.parametrize("shape", [(37, 53), (37, 53, 3), (1, 1), (5, 1, 4)])
def test_flip_matches_numpy(rng, dtype, axis, shape):
    img = random_image(rng, shape, dtype)
    want = np.flip(img, axis=(0, 1) if axis is None else axis)
    got = segen.transform.flip(img, axis=axis)
    assert got.dtype == img.dtype
    np.testing.assert_array_equal(got, want)


def test_flip_rgb_rows_of_every_width_match_numpy_at_every_cpu_level():
    # RGB uint8 / uint16 column flips go 12 bytes a step by byte shuffles on x86-64-v3 and up, with a
    # scalar tail; widths 1-40 cover rows too short for a step and every tail length, the strided view a
    # row that ends before its stride does.
    code = """
import sys, numpy as np, segen
rng = np.random.default_rng(3)
for dtype in (np.uint8, np.uint16):
    for w in range(1, 41):
        img = rng.integers(0, np.iinfo(dtype).max, (3, w, 3), dtype=dtype, endpoint=True)
        for axis in (1, None):
            want = np.flip(img, axis=(0, 1) if axis is None else axis)
            assert np.array_equal(segen.transform.flip(img, axis=axis), want), (dtype, w, axis)
    wide = rng.integers(0, 256, (7, 99, 3), dtype=np.uint8).astype(dtype)[:, 5:90]
    assert np.array_equal(segen.transform.flip(wide, axis=1), wide[:, ::-1]), dtype
print("ok")
"""
    got = outputs_at_cpu_levels(code)
    assert all(out.strip() == b"ok" for out in got.values()), got


def test_flip_channel_axis_first(rng):
    img = random_image(rng, (3, 20, 30), np.uint8)
    got = segen.transform.flip(img, axis=1, channel_axis=0)
    np.testing.assert_array_equal(got, img[:, :, ::-1])


def test_flip_non_contiguous_view(rng):
    img = random_image(rng, (40, 60), np.float32)[::2, ::3]
    np.testing.assert_array_equal(segen.transform.flip(img, axis=0), img[::-1])


@pytest.mark.parametrize(
    "image, kwargs, exc, match",
    [
        (np.zeros((0, 4)), {}, ValueError, "non-empty"),
        (np.zeros(5), {}, ValueError, "2-D"),
        (np.zeros((2, 2, 2, 2)), {}, ValueError, "2-D"),
        (np.zeros((4, 4), complex), {}, TypeError, "dtype"),
        (np.zeros((4, 4)), {"axis": 2}, ValueError, "`axis`"),
        (np.zeros((4, 4, 3)), {"channel_axis": None}, ValueError, "channel_axis"),
    ],
)
def test_flip_bad_input(image, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        segen.transform.flip(image, **kwargs)


# ---------------------------------------------------------------------------------------------------
# resize
# ---------------------------------------------------------------------------------------------------

RESIZE_SHAPES = [(64, 64), (100, 37), (45, 130), (300, 200), (128, 128)]


def _sk_resize(img, shape, **kwargs):
    return sktf.resize(img, shape, mode="edge", preserve_range=True, **kwargs)


@pytest.mark.parametrize("shape", RESIZE_SHAPES)
def test_resize_bilinear_matches_cv2_and_skimage_on_photo(camera, shape):
    img = (camera[::4, ::4] / 255.0).astype(np.float32)  # 128 x 128
    got = segen.transform.resize(img, shape, anti_aliasing=False)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, cv2.resize(img, shape[::-1], interpolation=cv2.INTER_LINEAR), atol=1e-4)
    np.testing.assert_allclose(got, _sk_resize(img, shape, order=1, anti_aliasing=False), atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(20, 33), (61, 70), (90, 23)])
def test_resize_bilinear_random_multichannel(rng, dtype, shape):
    img = random_image(rng, (41, 47, 3), dtype)
    got = segen.transform.resize(img, shape, anti_aliasing=False)
    assert got.dtype == dtype and got.shape == shape + (3,)
    np.testing.assert_allclose(got, _sk_resize(img, shape, order=1, anti_aliasing=False), atol=1e-5)
    if dtype == np.float32:
        want = cv2.resize(img, shape[::-1], interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(20, 33), (61, 70), (17, 90), (41, 47)])
def test_resize_anti_aliasing_matches_skimage(rng, dtype, shape):
    img = random_image(rng, (41, 47), dtype)
    got = segen.transform.resize(img, shape, anti_aliasing=True)
    np.testing.assert_allclose(got, _sk_resize(img, shape, order=1, anti_aliasing=True), atol=1e-5)


def test_resize_anti_aliasing_default(astronaut):
    img = (astronaut[::4, ::4] / 255.0).astype(np.float32)
    down = segen.transform.resize(img, (50, 60))
    np.testing.assert_array_equal(down, segen.transform.resize(img, (50, 60), anti_aliasing=True))
    np.testing.assert_allclose(down, _sk_resize(img, (50, 60), order=1), atol=1e-4)  # skimage's default too
    assert np.abs(down - segen.transform.resize(img, (50, 60), anti_aliasing=False)).max() > 1e-2
    up = segen.transform.resize(img, (200, 300))
    np.testing.assert_array_equal(up, segen.transform.resize(img, (200, 300), anti_aliasing=False))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", RESIZE_SHAPES + [(7, 5), (384, 11)])
def test_resize_nearest_matches_skimage_exactly(rng, dtype, shape):
    img = random_image(rng, (128, 96, 2), dtype)
    got = segen.transform.resize(img, shape, method="nearest")
    want = sktf.resize(img, shape, order=0, mode="edge", anti_aliasing=False, preserve_range=True)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want.astype(dtype))


@pytest.mark.parametrize("shape", [(384, 288), (256, 96), (128, 32)])
def test_resize_nearest_matches_cv2_nearest_exact_off_borders(rng, shape):
    # Integer factors that never put a sample point on a pixel border (there cv2 picks the lower pixel).
    img = random_image(rng, (128, 96), np.uint8)
    want = cv2.resize(img, shape[::-1], interpolation=cv2.INTER_NEAREST_EXACT)
    np.testing.assert_array_equal(segen.transform.resize(img, shape, method="nearest"), want)


@pytest.mark.parametrize(
    "in_shape, shape",
    [
        ((128, 128), (64, 64)),
        ((128, 128), (32, 32)),
        ((99, 120), (33, 40)),  # integer factors
        ((128, 128), (75, 50)),
        ((97, 131), (40, 77)),
        ((128, 128), (127, 3)),  # general factors
        ((40, 30), (97, 81)),
        ((40, 30), (40, 61)),
    ],  # both axes grow (or stay)
)
def test_resize_area_matches_cv2(rng, in_shape, shape):
    img = random_image(rng, in_shape, np.float32)
    got = segen.transform.resize(img, shape, method="area")
    np.testing.assert_allclose(got, cv2.resize(img, shape[::-1], interpolation=cv2.INTER_AREA), atol=1e-5)


def test_resize_area_on_photo_and_uint8(astronaut):
    img = astronaut[::2, ::2]
    got = segen.transform.resize(img, (91, 77), method="area")
    want = cv2.resize(img, (77, 91), interpolation=cv2.INTER_AREA)
    assert got.dtype == np.uint8
    assert np.abs(got.astype(int) - want).max() <= 1  # OpenCV rounds in fixed point
    exact = cv2.resize(img.astype(np.float32), (77, 91), interpolation=cv2.INTER_AREA)
    assert np.abs(got - exact).max() <= 0.5 + 1e-3


def test_resize_area_mixed_axes_box_averages_the_shrinking_axis(rng):
    img = random_image(rng, (60, 20), np.float64)
    got = segen.transform.resize(img, (20, 50), method="area")
    rows = img.reshape(20, 3, 20).mean(axis=1)  # exact 3-row boxes
    np.testing.assert_allclose(got, segen.transform.resize(rows, (20, 50), method="area"), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("method", ["bilinear", "area"])
def test_resize_integers_round_the_float_result(rng, dtype, method):
    img = random_image(rng, (50, 61, 3), dtype)
    got = segen.transform.resize(img, (23, 90), method=method)
    ref = segen.transform.resize(img.astype(np.float64), (23, 90), method=method)
    assert got.dtype == dtype
    # rounding, plus float32 arithmetic on values up to 65535
    assert np.abs(got - ref).max() <= 0.5 + 1e-6 * value_range(dtype)
    if dtype == np.uint8 and method == "bilinear":
        want = cv2.resize(img, (90, 23), interpolation=cv2.INTER_LINEAR)
        got_noaa = segen.transform.resize(img, (23, 90), anti_aliasing=False)
        assert np.abs(got_noaa.astype(int) - want).max() <= 1  # OpenCV rounds in fixed point


# Output widths for the two-tap rows: 1, one vector block of 8 / 16 samples and one more, several blocks, a
# shrink by 1.37 (with one channel, blocks of 16 outputs span up to 23 inputs), a shrink by 2.3 (blocks too
# wide for the permute window, computed one by one), growth by 1.37 and 2.6.
TWO_TAP_WIDTHS = [(301, w) for w in (1, 8, 16, 17, 33, 220, 131, 412, 783)] + [(17, 16), (33, 47), (40, 3000)]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.uint16])
@pytest.mark.parametrize("in_w, out_w", TWO_TAP_WIDTHS)
def test_resize_two_tap_rows_match_skimage(rng, dtype, channels, in_w, out_w):
    # Two horizontal taps (bilinear without anti-aliasing, area when growing) are taken from a window of
    # input samples by lane permutes (transform.cpp's PairTaps; a row of C channels as one row of samples),
    # except blocks that span too many samples and the last samples of a row.
    img = random_image(rng, (29, in_w, channels), dtype)[..., 0 if channels == 1 else slice(None)]
    for out_h in (13, 61):  # rows first, then columns first
        got = segen.transform.resize(img, (out_h, out_w), anti_aliasing=False)
        want = _sk_resize(img.astype(np.float64), (out_h, out_w), order=1, anti_aliasing=False)
        # float32 arithmetic, and rounding to the nearest integer for integer images
        tol = (0.5 if np.dtype(dtype).kind == "u" else 0.0) + 2e-6 * value_range(dtype)
        assert np.abs(got - want).max() <= tol
        if dtype == np.float32 and out_w > in_w and out_h > 29:  # OpenCV's area method when both axes grow
            area = segen.transform.resize(img, (out_h, out_w), method="area")
            want = cv2.resize(img, (out_w, out_h), interpolation=cv2.INTER_AREA)
            np.testing.assert_allclose(area, want, rtol=0, atol=1e-5)


def test_resize_rows_too_wide_for_a_permute_table_match_opencv(rng):
    # The permute table costs 10 bytes an output sample: rows of more than 2**20 samples gather instead.
    img = random_image(rng, (3, 700), np.float32)
    got = segen.transform.resize(img, (5, (1 << 20) + 37), anti_aliasing=False)
    want = cv2.resize(img, ((1 << 20) + 37, 5), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_resize_gives_the_same_bits_at_every_cpu_level():
    # The two-tap rows run in blocks of 8 (x86-64-v3) or 16 samples (x86-64-v4, "" is the CPU's own level), and
    # every multiply-add of the resize loops is written out as a fused one: the two levels must agree bit
    # for bit. Baseline x86-64 has no fused multiply-add and is only close.
    code = (
        "import sys, numpy as np, segen\n"
        "rng = np.random.default_rng(5)\n"
        "out = []\n"
        "for w in (1, 7, 17, 33, 100, 301):\n"
        "    for dt, c in (('float32', 1), ('uint8', 1), ('uint16', 1), ('float32', 3), ('uint8', 3), ('float64', 1)):\n"
        "        img = (rng.random((23, w, c)) * 255).astype(dt)[..., 0 if c == 1 else slice(None)]\n"
        "        for ow in (1, 9, 16, 33, w // 2 + 1, int(w / 1.7) + 1, w + 3, int(w * 1.37) + 1, 3 * w + 5):\n"
        "            out += [segen.transform.resize(img, (h, ow), anti_aliasing=False) for h in (11, 47)]\n"
        "            out += [segen.transform.resize(img, (h, ow), method='area') for h in (7, 47)]\n"
        "            out += [segen.transform.resize(img, (9, ow))]\n"
        "        if w > 1:  # an exact halving\n"
        "            half = img[:22, : w - w % 2]\n"
        "            out += [segen.transform.resize(half, (11, w // 2), method=m) for m in ('bilinear', 'area')]\n"
        "sys.stdout.buffer.write(b''.join(o.astype(np.float64).tobytes() for o in out))\n"
    )
    got = {k: np.frombuffer(v, np.float64) for k, v in outputs_at_cpu_levels(code).items()}
    assert got[""].size > 100_000
    np.testing.assert_array_equal(got["v3"], got[""])
    # samples up to 255; integer results may round the other way at a half
    np.testing.assert_allclose(got["baseline"], got[""], rtol=1e-5, atol=1.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
def test_resize_integer_halving_is_the_rounded_mean_of_each_2x2_block(rng, dtype, channels):
    # An exact halving of an integer image is computed in integers (transform.cpp's HalveJob): it must be
    # what the float taps give, (a + b + c + d + 2) // 4, for both methods; OpenCV's INTER_LINEAR and
    # INTER_AREA compute the same on uint8 at scale 2.
    img = random_image(rng, (46, 62, channels), dtype)
    img[:2, :2] = np.iinfo(dtype).max  # the largest sum
    blocks = img.astype(np.int64).reshape(23, 2, 31, 2, channels).sum(axis=(1, 3))
    want = ((blocks + 2) // 4).astype(dtype)
    for kwargs in ({"anti_aliasing": False}, {"method": "area"}):
        got = segen.transform.resize(img, (23, 31), **kwargs)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        floats = segen.transform.resize(img.astype(np.float64), (23, 31), **kwargs)
        np.testing.assert_array_equal(got, np.floor(floats + 0.5).astype(dtype))
    if dtype == np.uint8 and channels in (1, 3, 4):
        for interp in (cv2.INTER_LINEAR, cv2.INTER_AREA):
            np.testing.assert_array_equal(
                want, cv2.resize(img, (31, 23), interpolation=interp).reshape(want.shape)
            )
    # a view with a row stride: the same result
    wide = random_image(rng, (46, 70, channels), dtype)
    wide[:, :62] = img
    np.testing.assert_array_equal(segen.transform.resize(wide[:, :62], (23, 31), method="area"), want)


@pytest.mark.parametrize("method", ["nearest", "bilinear", "area"])
def test_resize_identity_and_channels(rng, method):
    img = random_image(rng, (31, 29, 4), np.float32)
    np.testing.assert_array_equal(segen.transform.resize(img, (31, 29), method=method), img)
    got = segen.transform.resize(img, (17, 40), method=method)
    for c in range(4):
        want = segen.transform.resize(img[..., c], (17, 40), method=method)
        np.testing.assert_allclose(got[..., c], want, rtol=0, atol=1e-6)  # same taps, FMA order may differ


def test_resize_channel_axis_and_three_entry_shape(rng):
    img = random_image(rng, (3, 30, 40), np.float32)
    got = segen.transform.resize(img, (3, 15, 20), method="area", channel_axis=0)
    assert got.shape == (3, 15, 20)
    want = np.moveaxis(segen.transform.resize(np.moveaxis(img, 0, -1), (15, 20), method="area"), -1, 0)
    np.testing.assert_array_equal(got, want)
    assert segen.transform.resize(np.moveaxis(img, 0, -1), (15, 20, 3)).shape == (15, 20, 3)


def test_resize_non_contiguous_input_untouched(rng):
    base = random_image(rng, (60, 80), np.float32)
    keep = base.copy()
    view = base[::2, ::-1]
    got = segen.transform.resize(view, (50, 21))
    np.testing.assert_array_equal(got, segen.transform.resize(np.ascontiguousarray(view), (50, 21)))
    np.testing.assert_array_equal(base, keep)


@pytest.mark.parametrize(
    "method, shape, kwargs",
    [
        ("nearest", (100, 23), {}),
        ("bilinear", (301, 90), {}),
        ("bilinear", (40, 33), {}),
        ("area", (45, 31), {}),
        ("area", (300, 250), {}),
    ],
)
def test_resize_thread_count_does_not_change_results(rng, method, shape, kwargs):
    img = random_image(rng, (150, 120, 3), np.uint8)
    with num_threads(1):
        one = segen.transform.resize(img, shape, method=method, **kwargs)
    with num_threads(2):
        two = segen.transform.resize(img, shape, method=method, **kwargs)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize(
    "shape, kwargs, exc, match",
    [
        ((0, 5), {}, ValueError, "output_shape"),
        ((5, -2), {}, ValueError, "output_shape"),
        ((5.0, 4), {}, ValueError, "output_shape"),
        ((True, 4), {}, ValueError, "output_shape"),
        ((5,), {}, ValueError, "output_shape"),
        ((5, 4, 3, 2), {}, ValueError, "output_shape"),
        (5, {}, ValueError, "output_shape"),
        ((2**16, 2**15), {}, ValueError, "2\\*\\*30"),
        ((4, 4), {"method": "cubic"}, ValueError, "method"),
        ((4, 4), {"method": "nearest", "anti_aliasing": True}, ValueError, "anti_aliasing"),
        ((4, 4), {"method": "area", "anti_aliasing": False}, ValueError, "anti_aliasing"),
        ((4, 4), {"anti_aliasing": "yes"}, ValueError, "anti_aliasing"),
    ],
)
def test_resize_bad_arguments(shape, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        segen.transform.resize(np.zeros((8, 8), np.float32), shape, **kwargs)


@pytest.mark.parametrize(
    "image, shape, kwargs, exc, match",
    [
        (np.zeros((0, 4)), (2, 2), {}, ValueError, "non-empty"),
        (np.zeros(5), (2, 2), {}, ValueError, "2-D"),
        (np.zeros((2, 2, 2, 2)), (2, 2), {}, ValueError, "2-D"),
        (np.zeros((4, 4), complex), (2, 2), {}, TypeError, "dtype"),
        (np.zeros((4, 4, 3)), (2, 2, 4), {}, ValueError, "output_shape"),
        (np.zeros((4, 4, 3)), (2, 2), {"channel_axis": None}, ValueError, "channel_axis"),
    ],
)
def test_resize_bad_image(image, shape, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        segen.transform.resize(image, shape, **kwargs)


def test_resize_core_refuses_huge_output():
    from segen import _core

    with pytest.raises(ValueError, match="output_shape"):
        _core.resize(np.zeros((4, 4), np.float32), 2**20, 2**20, "bilinear", False)


# ---------------------------------------------------------------------------------------------------
# rotate
# ---------------------------------------------------------------------------------------------------


def _sk_rotate(img, angle, order=1, center=None, **kwargs):
    if center is not None:
        center = (center[1], center[0])  # skimage takes (col, row)
    return sktf.rotate(img, angle, order=order, mode="constant", preserve_range=True, center=center, **kwargs)


@pytest.mark.parametrize("angle", [30, -45.5, 137, 0.001, 271])
@pytest.mark.parametrize("resize", [False, True])
def test_rotate_bilinear_matches_skimage_on_photo(camera, angle, resize):
    img = (camera[::4, ::3] / 255.0).astype(np.float32)  # 128 x 171
    got = segen.transform.rotate(img, angle, resize=resize)
    want = _sk_rotate(img, angle, resize=resize)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("angle", [33, -100])
@pytest.mark.parametrize("resize", [False, True])
@pytest.mark.parametrize("cval", [0.0, 0.7])
def test_rotate_float64_multichannel_center_cval(rng, angle, resize, cval):
    img = random_image(rng, (40, 55, 3), np.float64)
    center = (10.0, 30.5)  # (row, col)
    got = segen.transform.rotate(img, angle, resize=resize, center=center, cval=cval)
    want = _sk_rotate(img, angle, resize=resize, center=center, cval=cval)
    np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("angle", [181, 30, 90.5])
def test_rotate_cval_outside_the_range_is_not_clipped(rng, dtype, angle):
    # Documented difference: scikit-image's default clip=True pulls edge pixels blended with a cval above
    # the image's range back to the range's end; segen keeps the bilinear blend, i.e. clip=False.
    img = rng.integers(50, 100, (31, 17)).astype(dtype)
    got = segen.transform.rotate(img, angle, cval=200).astype(np.float64)
    want = _sk_rotate(img, angle, cval=200, clip=False)
    if dtype == np.uint8:
        want = np.round(want)  # segen rounds integer results
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-9)
    if angle == 181:  # here edge pixels blend with cval by more than a grey level: the two differ there
        assert np.abs(got - _sk_rotate(img, angle, cval=200)).max() > 1


def test_rotate_nan_cval_marks_outside(rng):
    img = random_image(rng, (30, 30), np.float64)
    got = segen.transform.rotate(img, 45, cval=np.nan)
    want = _sk_rotate(img, 45, cval=np.nan, clip=False)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[0, 0]) and np.isfinite(got[15, 15])


@pytest.mark.parametrize("angle", [30, -61, 200])
@pytest.mark.parametrize("resize", [False, True])
def test_rotate_nearest_matches_skimage(rng, angle, resize):
    img = random_image(rng, (47, 60), np.float64)
    got = segen.transform.rotate(img, angle, resize=resize, method="nearest")
    np.testing.assert_array_equal(got, _sk_rotate(img, angle, order=0, resize=resize))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(128, 171), (37, 53), (13, 11)])
def test_rotate_one_channel_integers_on_photo(camera, dtype, shape):
    # one-channel integer spans read their samples by 32-bit gathers on x86-64-v3, except next to the end
    # of the image (odd shapes put the last pixels in every position of an 8-pixel group)
    img = camera[: shape[0] * 4 : 4, : shape[1] * 3 : 3].astype(dtype) * (257 if dtype == np.uint16 else 1)
    for angle in (30, -45.5, 137, 200):
        for resize in (False, True):
            got = segen.transform.rotate(img, angle, resize=resize, cval=7)
            want = _sk_rotate(img.astype(np.float64), angle, resize=resize, cval=7)
            assert got.dtype == dtype and got.shape == want.shape
            assert np.abs(got - want).max() <= 0.5 + 1e-6 * value_range(dtype)


def test_rotate_one_channel_spans_agree_at_every_cpu_level():
    # x86-64-v3 reads each sample with its right neighbour in one gathered element (a 64-bit pair for
    # float32, a 32-bit word for integers) and keeps the neighbour only where the position is off the
    # column; the portable loop reads the samples one by one. uint8 gives the same bits; float32 and uint16
    # may differ in the last place (the positions round differently with fused multiply-adds), never by a
    # wrong neighbour. Odd shapes put the image's last pixel in every place of an 8-pixel group.
    code = """
import sys, numpy as np, segen
rng = np.random.default_rng(5)
out = []
for dtype in (np.uint8, np.uint16, np.float32):
    for shape in ((61, 83), (13, 11), (40, 64)):
        if dtype == np.float32:
            img = rng.random(shape, dtype=np.float32)
        else:
            img = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
        for angle in (30, -45.5, 90.0000001, 137, 200):
            for resize in (False, True):
                out.append(segen.transform.rotate(img, angle, resize=resize, cval=3).astype(np.float64).ravel())
np.save(sys.stdout.buffer, np.concatenate(out))
"""
    import io

    got = {k: np.load(io.BytesIO(v)) for k, v in outputs_at_cpu_levels(code).items()}
    n = got["baseline"].size // 3  # the same shapes and angles for each dtype: uint8, uint16, float32
    for level in ("v3", ""):
        np.testing.assert_array_equal(got[level][:n], got["baseline"][:n])
        assert np.abs(got[level][n : 2 * n] - got["baseline"][n : 2 * n]).max() <= 1
        assert np.abs(got[level][2 * n :] - got["baseline"][2 * n :]).max() <= 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rotate_position_on_a_pixel_ignores_its_right_and_lower_neighbours(rng, dtype):
    # With odd sides the centre of the output falls exactly on the centre pixel of the input: its right and
    # lower neighbours have weight 0 and are not used, so NaN there does not spread (NaN reaches only the
    # pixels that depend on it; scikit-image multiplies it by the zero weight and gets NaN). float32 takes
    # the x86-64-v3 path that gathers each sample with its right neighbour.
    img = rng.random((61, 83)).astype(dtype)
    img[30, 42] = img[31, 41] = img[31, 42] = np.nan
    for angle in (30, -45.5, 137):
        got = segen.transform.rotate(img, angle)
        assert got[30, 41] == img[30, 41], angle
        assert np.isnan(got).sum() <= 3 * 4, angle


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_rotate_integers_round(rng, dtype):
    img = random_image(rng, (37, 52, 3), dtype)
    got = segen.transform.rotate(img, 21, resize=True, cval=3)
    want = _sk_rotate(img.astype(np.float64), 21, resize=True, cval=3)
    assert got.dtype == dtype
    assert np.abs(got - want).max() <= 0.5 + 1e-6 * value_range(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("angle", [0, 90, -90, 180, 270, -270, 450, 360, -720])
def test_rotate_multiples_of_90_are_exact(rng, dtype, angle):
    sq = random_image(rng, (20, 20, 2), dtype)
    np.testing.assert_array_equal(segen.transform.rotate(sq, angle), np.rot90(sq, angle // 90))
    rect = random_image(rng, (14, 23), dtype)
    got = segen.transform.rotate(rect, angle, resize=True)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.rot90(rect, angle // 90))


@pytest.mark.parametrize("angle", [0.0, -0.0, 360.0, -720.0])
@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_rotate_by_whole_turns_is_an_exact_copy(rng, angle, method):
    # a bilinear blend sampling pixel centres (weights 1 and 0) turned an infinite sample into NaN, as
    # 0 * inf enters it (found by cpp/fuzz/fuzz_transform); whole turns are now the identity, infinities and
    # NaN included, about any centre and with or without resize
    img = rng.random((7, 10, 3)).astype(np.float32)
    img[2, 3, 1], img[4, 4, 0], img[0, 0, 2] = np.inf, -np.inf, np.nan
    for kw in ({}, {"resize": True}, {"center": (1.5, 8.0)}):
        out = segen.transform.rotate(img, angle, method=method, **kw)
        np.testing.assert_array_equal(out, img)
        assert out is not img


@pytest.mark.parametrize("angle", [90, -90, 180])
@pytest.mark.parametrize("shape", [(14, 22), (15, 22)])
def test_rotate_non_square_without_resize_follows_skimage(rng, angle, shape):
    img = random_image(rng, shape, np.float64)
    got = segen.transform.rotate(img, angle)
    assert got.shape == shape
    np.testing.assert_allclose(got, _sk_rotate(img, angle), atol=1e-12)
    if (shape[0] - shape[1]) % 2 == 0:  # pixel centres land on pixel centres: exact copies, cval around
        turned = np.rot90(img, angle // 90)
        dr, dc = (shape[0] - turned.shape[0]) // 2, (shape[1] - turned.shape[1]) // 2
        inner = got[max(dr, 0) : shape[0] - max(dr, 0), max(dc, 0) : shape[1] - max(dc, 0)]
        want = turned[
            max(-dr, 0) : turned.shape[0] - max(-dr, 0), max(-dc, 0) : turned.shape[1] - max(-dc, 0)
        ]
        np.testing.assert_array_equal(inner, want)


def test_rotate_shape_with_resize_like_skimage():
    for shape, angle in [((512, 512), 2), ((100, 37), 30), ((10, 300), -77.7), ((1, 1), 45)]:
        img = np.zeros(shape)
        want = _sk_rotate(img, angle, resize=True).shape
        assert segen.transform.rotate(img, angle, resize=True).shape == want


def test_rotate_channel_axis(rng):
    img = random_image(rng, (3, 20, 30), np.float32)
    got = segen.transform.rotate(img, 25, resize=True, channel_axis=0)
    want = np.moveaxis(segen.transform.rotate(np.moveaxis(img, 0, -1), 25, resize=True), -1, 0)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_rotate_thread_count_does_not_change_results(rng, method):
    img = random_image(rng, (150, 121, 3), np.float32)
    with num_threads(1):
        one = segen.transform.rotate(img, 17, resize=True, method=method)
    with num_threads(2):
        two = segen.transform.rotate(img, 17, resize=True, method=method)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize(
    "image, kwargs, exc, match",
    [
        (np.zeros((4, 4)), {"angle": np.nan}, ValueError, "angle"),
        (np.zeros((4, 4)), {"angle": np.inf}, ValueError, "angle"),
        (np.zeros((4, 4)), {"angle": "90"}, TypeError, "angle"),
        (np.zeros((4, 4)), {"angle": 10, "center": (1.0,)}, ValueError, "center"),
        (np.zeros((4, 4)), {"angle": 10, "center": (1.0, np.nan)}, ValueError, "center"),
        (np.zeros((4, 4)), {"angle": 10, "center": 3}, ValueError, "center"),
        (np.zeros((4, 4), np.uint8), {"angle": 10, "cval": np.nan}, ValueError, "cval"),
        (np.zeros((4, 4)), {"angle": 10, "cval": "x"}, TypeError, "cval"),
        (np.zeros((4, 4)), {"angle": 10, "method": "area"}, ValueError, "method"),
        (np.zeros((4, 4)), {"angle": 10, "resize": 1}, ValueError, "resize"),
        (np.zeros((0, 4)), {"angle": 10}, ValueError, "non-empty"),
        (np.zeros((4, 4), complex), {"angle": 10}, TypeError, "dtype"),
    ],
)
def test_rotate_bad_input(image, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        segen.transform.rotate(image, **kwargs)


@pytest.mark.parametrize(
    "method, shape, n_nan",
    [
        ("bilinear", (8, 8), 1),
        ("bilinear", (4, 4), 1),
        ("bilinear", (16, 16), 16),
        ("area", (4, 4), 1),
        ("area", (16, 16), 4),
        ("nearest", (16, 16), 4),
        ("nearest", (4, 4), 1),
    ],
)
def test_resize_nan_reaches_only_dependent_pixels(method, shape, n_nan):
    img = np.arange(64, dtype=np.float64).reshape(8, 8)
    img[3, 3] = np.nan
    aa = False if method == "bilinear" else None
    got = segen.transform.resize(img, shape, method=method, anti_aliasing=aa)
    assert np.isnan(got).sum() == n_nan


def test_rotate_nan_reaches_only_dependent_pixels():
    img = np.arange(64, dtype=np.float64).reshape(8, 8)
    img[3, 3] = np.nan
    assert np.isnan(segen.transform.rotate(img, 90)).sum() == 1
    assert 1 <= np.isnan(segen.transform.rotate(img, 30)).sum() <= 4


def test_rotate_integer_cval_saturates():
    img = np.full((10, 10), 100, np.uint8)
    hi = segen.transform.rotate(img, 45, cval=300)
    lo = segen.transform.rotate(img, 45, cval=-5)
    assert hi[0, 0] == 255 and lo[0, 0] == 0
    assert hi[5, 5] == 100 and lo[5, 5] == 100
