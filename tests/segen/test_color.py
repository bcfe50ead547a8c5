import os
import subprocess
import sys

import numpy as np
import pytest
import segen
from helpers import DTYPES, num_threads, outputs_at_cpu_levels, random_image
from skimage import color as skcolor

FUNCS = ("rgb2gray", "rgb2hsv", "rgb2lab")
# Lab spans L in [0, 100] (a, b about +-100): the tolerance is 1e-5 of that range. Measured: ~4e-6 absolute
# for integer input (scikit-image in float64, segen rounding once to float32), ~1e-4 for float32 input,
# where scikit-image itself computes in float32 and a = 500 (fx - fy) amplifies its rounding.
TOL = {"rgb2gray": 1e-5, "rgb2hsv": 1e-5, "hsv2rgb": 1e-5, "rgb2lab": 1e-5 * 100}


def _want_dtype(dtype):
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _reference(name, img, **kwargs):
    return getattr(skcolor, name)(img, **kwargs)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_photos_match_skimage(request, name, photo):
    img = request.getfixturevalue(photo)[::3, ::3]
    got = getattr(segen.color, name)(img)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _reference(name, img), rtol=0, atol=TOL[name])


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_match_skimage(rng, name, dtype):
    img = random_image(rng, (31, 47, 3), dtype)
    got = getattr(segen.color, name)(img)
    assert got.dtype == _want_dtype(dtype)
    assert got.shape == ((31, 47) if name == "rgb2gray" else (31, 47, 3))
    np.testing.assert_allclose(got, _reference(name, img), rtol=0, atol=TOL[name])


@pytest.mark.parametrize("dtype", DTYPES)
def test_hsv2rgb_matches_skimage(rng, dtype):
    img = random_image(rng, (29, 41, 3), dtype)
    got = segen.color.hsv2rgb(img)
    assert got.dtype == _want_dtype(dtype)
    np.testing.assert_allclose(got, skcolor.hsv2rgb(img), rtol=0, atol=TOL["hsv2rgb"])


def test_hsv2rgb_on_photo_hsv(astronaut):
    hsv = skcolor.rgb2hsv(astronaut[::3, ::3])  # float64, includes the exact sector boundaries
    got = segen.color.hsv2rgb(hsv)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, skcolor.hsv2rgb(hsv), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got, astronaut[::3, ::3] / 255.0, rtol=0, atol=1e-12)


def test_rgb2hsv_ties_and_greys_follow_skimage(rng):
    # Few levels: many pixels where two or three channels tie for the maximum.
    img = rng.integers(0, 3, size=(40, 40, 3)).astype(np.uint8)
    np.testing.assert_allclose(segen.color.rgb2hsv(img), skcolor.rgb2hsv(img), rtol=0, atol=1e-6)
    grey = np.full((2, 2, 3), 0.4)
    np.testing.assert_array_equal(segen.color.rgb2hsv(grey)[..., :2], 0.0)


@pytest.mark.parametrize("name", FUNCS)
def test_out_of_range_floats_follow_skimage(rng, name):
    img = (rng.random((23, 19, 3)) * 2 - 0.5).astype(np.float64)
    np.testing.assert_allclose(getattr(segen.color, name)(img), _reference(name, img), rtol=1e-9, atol=1e-9)


def test_hsv2rgb_hue_is_periodic(rng):
    hsv = rng.random((16, 16, 3))
    shifted = hsv.copy()
    shifted[..., 0] += 1.0
    np.testing.assert_allclose(segen.color.hsv2rgb(shifted), segen.color.hsv2rgb(hsv), atol=1e-12)
    shifted[..., 0] -= 3.0
    np.testing.assert_allclose(segen.color.hsv2rgb(shifted), segen.color.hsv2rgb(hsv), atol=1e-12)


@pytest.mark.parametrize("dtype, limit", [(np.float32, 2.0**60), (np.float64, 2.0**500)])
def test_hsv2rgb_of_huge_finite_samples_is_finite(rng, dtype, limit):
    # V * S overflowed and inf - inf gave NaN from finite input (found by tests/fuzz/sweep_api.py); samples
    # beyond the limit are clamped to it, those within give the usual result, and NaN pixels stay NaN
    huge = float(np.finfo(dtype).max) / 4
    hsv = np.array(
        [[[0.25, huge, huge], [huge, 0.5, 0.5], [-huge, -huge, 0.5], [0.3, 0.5, np.nan], [0.3, 0.5, 0.5]]],
        dtype,
    )
    for _ in range(2):  # a row of 5 and, tiled, rows long enough for the vector paths
        rgb = segen.color.hsv2rgb(hsv)
        finite = ~np.isnan(hsv).any(axis=-1)
        assert np.isfinite(rgb[finite]).all() and np.isnan(rgb[~finite]).all()
        clamped = np.clip(hsv, -limit, limit)
        np.testing.assert_array_equal(rgb[finite], segen.color.hsv2rgb(clamped)[finite])
        hsv = np.tile(hsv, (3, 7, 1))
    in_range = rng.random((9, 40, 3)).astype(dtype)
    np.testing.assert_allclose(segen.color.hsv2rgb(in_range), skcolor.hsv2rgb(in_range), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("illuminant", ["A", "B", "C", "D50", "D55", "D65", "d75", "E"])
@pytest.mark.parametrize("observer", ["2", "10"])
def test_rgb2lab_illuminants(rng, illuminant, observer):
    img = rng.random((9, 11, 3))
    got = segen.color.rgb2lab(img, illuminant, observer)
    want = skcolor.rgb2lab(img, illuminant, observer)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_rgb2lab_known_values():
    img = np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    lab = segen.color.rgb2lab(img)
    np.testing.assert_allclose(lab[0, 0], [100.0, 0.0, 0.0], atol=1e-2)  # the matrix's white is not exact
    np.testing.assert_allclose(lab[0, 1], [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(lab[0, 2], [53.2408, 80.0925, 67.2032], atol=1e-3)


@pytest.mark.parametrize("name", FUNCS + ("hsv2rgb",))
def test_channel_axis_first(rng, name):
    img = random_image(rng, (3, 12, 17), np.float64)
    got = getattr(segen.color, name)(img, channel_axis=0)
    want = getattr(segen.color, name)(np.moveaxis(img, 0, -1))
    if name != "rgb2gray":
        want = np.moveaxis(want, -1, 0)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", FUNCS + ("hsv2rgb",))
def test_non_contiguous_and_input_untouched(rng, name):
    base = random_image(rng, (40, 50, 3), np.float32)
    keep = base.copy()
    view = base[::2, ::3]
    got = getattr(segen.color, name)(view)
    np.testing.assert_array_equal(got, getattr(segen.color, name)(np.ascontiguousarray(view)))
    np.testing.assert_array_equal(base, keep)


def test_bool_input_counts_as_zero_one():
    img = np.array([[[True, False, True]]])
    np.testing.assert_allclose(segen.color.rgb2gray(img), [[0.2125 + 0.0721]], atol=1e-7)


def test_nan_handling():
    img = np.array([[[np.nan, 0.5, 0.2], [0.3, 0.6, 0.1]]])
    gray = segen.color.rgb2gray(img)
    assert np.isnan(gray[0, 0]) and np.isfinite(gray[0, 1])
    hsv = segen.color.rgb2hsv(img)
    np.testing.assert_array_equal(hsv[0, 0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(hsv[0, 1], skcolor.rgb2hsv(img[:, 1:])[0, 0])
    rgb = segen.color.hsv2rgb(np.array([[[0.2, np.nan, 0.5], [0.2, 0.5, 0.5]]]))
    assert np.isnan(rgb[0, 0]).all() and np.isfinite(rgb[0, 1]).all()
    lab = segen.color.rgb2lab(np.array([[[0.1, np.nan, 0.5], [np.inf, 0.2, 0.3], [0.1, 0.2, 0.3]]]))
    assert np.isnan(lab[0, :2]).all() and np.isfinite(lab[0, 2]).all()


def test_infinite_saturation_is_zeroed_like_skimage():
    img = np.array([[[np.inf, 0.5, 0.2]]])
    np.testing.assert_array_equal(segen.color.rgb2hsv(img), skcolor.rgb2hsv(img))


def _hsv_edge_cases(dtype):
    """RGB pixels that take every branch of rgb2hsv: ties, greys, zeros of both signs, negatives, huge
    values, infinities and NaN (float only), in every channel position; an odd pixel count (padded end)."""
    rng = np.random.default_rng(5)
    if np.dtype(dtype).kind == "f":
        values = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 0.25, 3.0, 1e30, -1e30, 1e-40, np.inf, -np.inf, np.nan])
        pool = np.concatenate([values, rng.uniform(-2, 2, 20), rng.random(20)]).astype(dtype)
    else:
        hi = np.iinfo(dtype).max
        pool = np.concatenate([[0, 1, hi - 1, hi], rng.integers(0, hi, 20, endpoint=True)]).astype(dtype)
    img = rng.choice(pool, size=(37, 29, 3))
    img[::3, :, 1] = img[::3, :, 0]  # ties and greys
    img[::6, :, 2] = img[::6, :, 0]
    return img


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_rgb2hsv_vector_kernels_give_the_portable_bits(dtype):
    # The AVX2 and AVX-512 kernels are written apart from the shared formula (color_hsv.hpp) that the
    # baseline copy runs: all must agree bit for bit, edge cases included ("" is the CPU's own level, v4 on
    # an AVX-512 machine; v3 forces the AVX2 copy there).
    img = _hsv_edge_cases(dtype)
    code = (
        "import sys, numpy as np, segen\n"
        f"img = np.frombuffer(sys.stdin.buffer.read(), np.{np.dtype(dtype).name}).reshape({img.shape})\n"
        "sys.stdout.buffer.write(segen.color.rgb2hsv(img).tobytes())\n"
    )
    got = {k: np.frombuffer(v, np.float32) for k, v in outputs_at_cpu_levels(code, img.tobytes()).items()}
    np.testing.assert_array_equal(got["baseline"].view(np.uint32), got[""].view(np.uint32))
    np.testing.assert_array_equal(got["v3"].view(np.uint32), got[""].view(np.uint32))
    np.testing.assert_array_equal(got[""].reshape(img.shape), segen.color.rgb2hsv(img))


@pytest.mark.parametrize("level", ["v3", ""])
def test_large_outputs_streamed_give_the_same_bits(level):
    # Float outputs of 16 MiB or more whose memory is already in place (an `out=` written before; a fresh
    # array's pages are not: color.cpp's kStreamBytes and pages_resident) are written with non-temporal
    # stores after a head of pixels up to an aligned address: the values must be those of small, cached
    # calls, whatever the alignment of `out` (offset by 0..3 floats inside a bigger buffer, filled first
    # so that its pages are in place) and at either vector level.
    code = (
        "import numpy as np, segen\n"
        "rng = np.random.default_rng(3)\n"
        "img = rng.uniform(-0.2, 1.2, (1201, 1203, 3)).astype(np.float32)\n"
        "img[::7, :, 1] = img[::7, :, 0]; img[5, 7] = np.nan\n"
        "for name in ('rgb2hsv', 'hsv2rgb'):\n"
        "    f = getattr(segen.color, name)\n"
        "    ref = np.concatenate([f(img[r:r + 100]) for r in range(0, img.shape[0], 100)])\n"
        "    assert np.array_equal(f(img).view(np.uint32), ref.view(np.uint32)), name\n"
        "    for shift in range(4):\n"
        "        buf = np.full(img.size + 4, 7.0, np.float32)\n"
        "        out = buf[shift:shift + img.size].reshape(img.shape)\n"
        "        f(img, out=out)\n"
        "        assert np.array_equal(out.view(np.uint32), ref.view(np.uint32)), (name, shift)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "SEGEN_CPU_LEVEL": level}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.parametrize("name", FUNCS + ("hsv2rgb",))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_thread_count_does_not_change_results(rng, name, dtype):
    img = random_image(rng, (301, 257, 3), dtype)  # several pixel chunks
    with num_threads(1):
        one = getattr(segen.color, name)(img)
    with num_threads(2):
        two = getattr(segen.color, name)(img)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("name", FUNCS + ("hsv2rgb",))
@pytest.mark.parametrize(
    "image, kwargs, exc, match",
    [
        (np.zeros((0, 4, 3)), {}, ValueError, "non-empty"),
        (np.zeros((4, 4)), {}, ValueError, "3 channels"),
        (np.zeros((4, 4, 4)), {}, ValueError, "3 channels"),
        (np.zeros((4, 4, 2)), {}, ValueError, "3 channels"),
        (np.zeros(3), {}, ValueError, "2-D"),
        (np.zeros((2, 4, 4, 3)), {}, ValueError, "2-D"),
        (np.zeros((4, 4, 3), complex), {}, TypeError, "dtype"),
        (np.zeros((4, 4, 3), np.int16), {}, TypeError, "int16"),
        (np.zeros((4, 4, 3)), {"channel_axis": None}, ValueError, "channel_axis"),
        (np.zeros((4, 4, 3)), {"channel_axis": 3}, ValueError, "channel_axis"),
    ],
)
def test_bad_input(name, image, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        getattr(segen.color, name)(image, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"illuminant": "D66"}, "illuminant"),
        ({"illuminant": 65}, "illuminant"),
        ({"observer": "5"}, "observer"),
        ({"observer": "R"}, "observer"),
    ],
)
def test_rgb2lab_bad_white(kwargs, match):
    with pytest.raises(ValueError, match=match):
        segen.color.rgb2lab(np.zeros((2, 2, 3)), **kwargs)


def test_rgb2lab_observer_as_int():
    img = np.full((1, 1, 3), 0.5)
    want = segen.color.rgb2lab(img, observer="10")
    np.testing.assert_array_equal(segen.color.rgb2lab(img, observer=10), want)


def test_core_refuses_what_python_would_convert():
    from segen import _core

    with pytest.raises(ValueError, match="C-contiguous"):
        _core.rgb2hsv(np.zeros((4, 6, 3))[:, ::2])
    with pytest.raises(ValueError, match="illuminant"):
        _core.rgb2lab(np.zeros((2, 2, 3)), "X", "2")
    with pytest.raises(TypeError, match="dtype"):
        _core.rgb2gray(np.zeros((2, 2, 3), np.int32))


@pytest.mark.parametrize("func, channels", [("rgb2gray", 0), ("rgb2hsv", 3), ("hsv2rgb", 3), ("rgb2lab", 3)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_out_is_filled_in_place(rng, func, channels, dtype):
    img = random_image(rng, (23, 31, 3), dtype)
    fn = getattr(segen.color, func)
    want = fn(img)
    out = np.full(want.shape, np.nan, want.dtype)
    got = fn(img, out=out)
    assert got is out
    np.testing.assert_array_equal(out, want)
    fn(255 - img if dtype == np.uint8 else 1 - img, out=out)  # reused: every element overwritten
    np.testing.assert_array_equal(out, fn(255 - img if dtype == np.uint8 else 1 - img))


@pytest.mark.parametrize(
    "out, kwargs, exc, match",
    [
        (np.zeros((23, 31, 3), np.float64), {}, TypeError, "`out` must have dtype float32"),
        (np.zeros((23, 30, 3), np.float32), {}, ValueError, r"`out` must have shape \(23, 31, 3\)"),
        (np.zeros((23, 31, 3), np.float32)[:, ::-1], {}, ValueError, "`out` must be C-contiguous"),
        ([[0.0]], {}, TypeError, "`out` must be a numpy array"),
        (np.zeros((3, 23, 31), np.float32), {"channel_axis": 0}, ValueError, "channel_axis=-1"),
    ],
)
def test_out_errors(rng, out, kwargs, exc, match):
    img = random_image(rng, (23, 31, 3), np.uint8)
    if kwargs.get("channel_axis") == 0:
        img = np.moveaxis(img, -1, 0)
    with pytest.raises(exc, match=match):
        segen.color.rgb2hsv(img, out=out, **kwargs)


def test_out_must_not_overlap_image(rng):
    img = random_image(rng, (8, 9, 3), np.float32)
    with pytest.raises(ValueError, match="overlap"):
        segen.color.rgb2hsv(img, out=img)
    ro = np.zeros((8, 9, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        segen.color.hsv2rgb(img, out=ro)
