"""segen.filters against scipy.ndimage, scikit-image and OpenCV, on photographs and random arrays."""

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
import segen
import skimage.filters as skf
from helpers import DTYPES, MODES, num_threads, outputs_at_cpu_levels, random_image, value_range

F = segen.filters
CVAL = 0.3  # a non-zero cval, so that constant mode is really exercised


def assert_close(got, want, dtype, rel=1e-5):
    """Compare a segen result with a float64 reference, within `rel` of the input's value range."""
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    assert got.dtype == (np.float64 if np.dtype(dtype) == np.float64 else np.float32)
    tol = (1e-10 if np.dtype(dtype) == np.float64 else rel) * value_range(dtype)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def as_ref(img):
    return img.astype(np.float64)


def photo_as(photo, dtype):
    """The uint8 photograph in `dtype`'s value range."""
    dtype = np.dtype(dtype)
    if dtype == np.uint16:
        return photo.astype(np.uint16) * 257
    if dtype.kind == "f":
        return (photo / 255).astype(dtype)
    return photo.astype(dtype)


@pytest.fixture
def photo(camera):
    """A 61x83 grey crop of the camera photograph (odd sizes on purpose)."""
    return camera[150:211, 200:283]


# ---- Gaussian --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_gaussian_matches_scipy(rng, photo, dtype, mode):
    cval = CVAL * value_range(dtype)
    for img in (random_image(rng, (23, 31), dtype), photo_as(photo, dtype)):
        for sigma in (0.8, 2.0, (1.5, 3.0), (0, 1.2)):
            want = ndi.gaussian_filter(as_ref(img), sigma, mode=mode, cval=cval)
            assert_close(F.gaussian(img, sigma, mode=mode, cval=cval), want, dtype)


@pytest.mark.parametrize("truncate", [0.5, 2.0, 4.0, 7.3])
def test_gaussian_truncate_radius_rule(rng, truncate):
    img = random_image(rng, (40, 40), np.float64)
    want = ndi.gaussian_filter(img, 1.7, truncate=truncate)
    assert_close(F.gaussian(img, 1.7, truncate=truncate), want, np.float64)


def test_gaussian_sigma_zero_is_identity(rng):
    img = random_image(rng, (9, 11), np.uint16)
    out = F.gaussian(img, 0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, img.astype(np.float32))


@pytest.mark.parametrize(
    "mode, border",
    [("reflect", cv2.BORDER_REFLECT), ("mirror", cv2.BORDER_REFLECT_101), ("nearest", cv2.BORDER_REPLICATE)],
)
def test_gaussian_matches_opencv(photo, mode, border):
    img = photo.astype(np.float32) / 255
    want = cv2.GaussianBlur(img, (17, 17), 2.0, borderType=border)  # radius int(4 * 2 + 0.5) = 8
    np.testing.assert_allclose(F.gaussian(img, 2.0, mode=mode), want, atol=1e-5)


def test_gaussian_multichannel_photo(astronaut):
    img = astronaut[100:160, 180:250]
    want = np.stack([ndi.gaussian_filter(as_ref(img[..., c]), 1.5) for c in range(3)], axis=-1)
    assert_close(F.gaussian(img, 1.5), want, np.uint8)


def test_gaussian_channel_axis_first(rng):
    img = random_image(rng, (3, 20, 25), np.float32)
    want = ndi.gaussian_filter(as_ref(img), (0, 1.3, 1.3), mode="wrap")
    got = F.gaussian(img, 1.3, mode="wrap", channel_axis=0)
    assert got.shape == img.shape
    assert_close(got, want, np.float32)


def test_gaussian_kernel_larger_than_image(rng):
    for shape in [(1, 1), (2, 3), (5, 1)]:
        img = random_image(rng, shape, np.float64)
        for mode in MODES:
            want = ndi.gaussian_filter(img, 4.0, mode=mode, cval=CVAL)
            assert_close(F.gaussian(img, 4.0, mode=mode, cval=CVAL), want, np.float64)


# ---- correlate / convolve / separable --------------------------------------------------------------------

KERNEL_SHAPES = [(1, 1), (2, 3), (4, 4), (3, 5), (7, 7), (1, 6)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_correlate_and_convolve_match_scipy(rng, dtype, mode):
    img = random_image(rng, (19, 26), dtype)
    cval = CVAL * value_range(dtype)
    for shape in KERNEL_SHAPES:
        k = rng.standard_normal(shape)
        kw = dict(mode=mode, cval=cval)
        assert_close(F.correlate(img, k, **kw), ndi.correlate(as_ref(img), k, **kw), dtype)
        assert_close(F.convolve(img, k, **kw), ndi.convolve(as_ref(img), k, **kw), dtype)


def test_correlate_symmetric_and_sparse_kernels(photo):
    img = photo.astype(np.float64)
    sym = np.array([[1, 2, 3], [4, 5, 4], [3, 2, 1]], float)  # point-symmetric: folded pairs
    anti = np.array([[1, 0, -2], [0, 0, 0], [2, 0, -1]], float)  # point-antisymmetric, with zeros
    for k in (sym, anti):
        assert_close(F.correlate(img, k), ndi.correlate(img, k), np.float64)


def test_correlate_matches_opencv_filter2d(photo, rng):
    img = photo.astype(np.float32)
    for shape in [(7, 7), (4, 6)]:
        k = rng.random(shape).astype(np.float32)
        want = cv2.filter2D(img, -1, k, borderType=cv2.BORDER_REFLECT)
        np.testing.assert_allclose(F.correlate(img, k), want, atol=1e-5 * 255 * k.sum())


def test_kernel_larger_than_image(rng):
    for shape in [(1, 1), (3, 4), (2, 9)]:
        img = random_image(rng, shape, np.float64)
        k = rng.standard_normal((9, 8))
        for mode in MODES:
            kw = dict(mode=mode, cval=CVAL)
            assert_close(F.correlate(img, k, **kw), ndi.correlate(img, k, **kw), np.float64)
            assert_close(F.convolve(img, k, **kw), ndi.convolve(img, k, **kw), np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_separable_equals_2d_correlation(rng, dtype, mode):
    img = random_image(rng, (21, 17), dtype)
    cval = CVAL * value_range(dtype)
    for nr, nc in [(1, 1), (3, 5), (4, 2), (9, 6)]:
        r, c = rng.standard_normal(nr), rng.standard_normal(nc)
        want = ndi.correlate(as_ref(img), np.outer(c, r), mode=mode, cval=cval)
        assert_close(F.separable(img, r, c, mode=mode, cval=cval), want, dtype)


def test_separable_matches_two_correlate1d_passes(photo):
    img = photo.astype(np.float64)
    r, c = np.array([1.0, 2, 0.5, -1]), np.array([0.25, 0.5, 0.25])
    want = ndi.correlate1d(ndi.correlate1d(img, c, axis=0, mode="mirror"), r, axis=1, mode="mirror")
    assert_close(F.separable(img, r, c, mode="mirror"), want, np.float64)


# ---- uniform, laplace, gaussian_laplace ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_uniform_matches_scipy(rng, dtype, mode):
    img = random_image(rng, (18, 23), dtype)
    cval = CVAL * value_range(dtype)
    for size in (1, 2, 3, 6, (2, 5), (7, 1)):
        want = ndi.uniform_filter(as_ref(img), size, mode=mode, cval=cval)
        assert_close(F.uniform(img, size, mode=mode, cval=cval), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_laplace_matches_scipy(rng, photo, dtype, mode):
    cval = CVAL * value_range(dtype)
    for img in (random_image(rng, (15, 22), dtype), photo_as(photo, dtype), random_image(rng, (1, 1), dtype)):
        want = ndi.laplace(as_ref(img), mode=mode, cval=cval)
        assert_close(F.laplace(img, mode=mode, cval=cval), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_gaussian_laplace_matches_scipy(rng, photo, dtype, mode):
    cval = CVAL * value_range(dtype)
    for img in (random_image(rng, (24, 19), dtype), photo_as(photo, dtype)):
        for sigma in (1.0, 2.5, (0.7, 1.9)):
            want = ndi.gaussian_laplace(as_ref(img), sigma, mode=mode, cval=cval)
            assert_close(F.gaussian_laplace(img, sigma, mode=mode, cval=cval), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 30), (30, 1), (3, 5), (6, 40, 3), (37, 45)])
@pytest.mark.parametrize("mode", MODES)
def test_gaussian_laplace_small_images_and_zero_cval(rng, dtype, shape, mode):
    # Every mode but constant with a non-zero cval filters horizontally first (filters.cpp, run_log): images
    # shorter and narrower than the kernel, channels, constant mode with cval 0, kernels of 1, 3 and 25 taps.
    img = random_image(rng, shape, dtype)
    sigmas = [2.0, (0.4, 3.0), 0.3]
    if np.dtype(dtype) == np.float64:
        sigmas.append(0.1)  # results near -2 / sigma^2 = -200 times the values: float32 rounding exceeds 1e-5
    for sigma in sigmas:
        ref = as_ref(img)
        if ref.ndim == 2:
            want = ndi.gaussian_laplace(ref, sigma, mode=mode)
        else:
            want = np.stack([ndi.gaussian_laplace(ref[..., c], sigma, mode=mode) for c in range(3)], axis=-1)
        assert_close(F.gaussian_laplace(img, sigma, mode=mode), want, dtype)


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "wrap", "constant"])
def test_gaussian_laplace_infinity_spreads_as_scipy(mode):
    # All taps are used, zeros included (sigma 2 has zero d2 taps at +-2): 0 * inf is NaN, as in scipy.
    img = np.zeros((21, 23))
    img[10, 11] = np.inf
    img[3, 2] = -np.inf
    with np.errstate(invalid="ignore"):  # scipy adds inf and -inf
        want = ndi.gaussian_laplace(img, 2.0, mode=mode)
    got = F.gaussian_laplace(img, 2.0, mode=mode)
    for test in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(test(got), test(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], atol=1e-12)


def test_gaussian_laplace_matches_opencv_composition(photo):
    # OpenCV's LoG recipe: GaussianBlur then Laplacian (ksize=1: the 5-point cross), both reflecting.
    img = photo.astype(np.float32) / 255
    blurred = cv2.GaussianBlur(img, (17, 17), 2.0, borderType=cv2.BORDER_REFLECT)
    cv_log = cv2.Laplacian(blurred, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT)
    # The two differ by the discrete second difference vs the sampled second derivative: compare the
    # laplace of our blur with OpenCV's exactly, and our LoG with it loosely.
    np.testing.assert_allclose(F.laplace(F.gaussian(img, 2.0)), cv_log, atol=1e-5)
    np.testing.assert_allclose(F.gaussian_laplace(img, 2.0), cv_log, atol=0.01)


# ---- Sobel / Scharr --------------------------------------------------------------------------------------

EDGE = ["sobel", "scharr"]


@pytest.mark.parametrize("op", EDGE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_edges_match_skimage_on_floats(rng, photo, op, dtype, mode):
    for img in (random_image(rng, (17, 29), dtype), (photo / 255).astype(dtype)):
        sk, kw = getattr(skf, op), dict(mode=mode, cval=CVAL)
        assert_close(getattr(F, op)(img, **kw), sk(img, **kw), dtype)
        assert_close(getattr(F, op + "_h")(img, **kw), sk(img, axis=0, **kw), dtype)
        assert_close(getattr(F, op + "_v")(img, **kw), sk(img, axis=1, **kw), dtype)
        assert_close(getattr(F, op)(img, axis=0, **kw), sk(img, axis=0, **kw), dtype)


@pytest.mark.parametrize("op", EDGE)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_edges_on_integers_are_not_rescaled(photo, op, dtype):
    img = photo_as(photo, dtype)
    got = getattr(F, op)(img)
    assert got.dtype == np.float32
    # scikit-image rescales integers to [0, 1] first; segen keeps the range (documented difference)
    np.testing.assert_allclose(got / value_range(dtype), getattr(skf, op)(img), atol=1e-6)


def test_sobel_matches_opencv_magnitude(photo):
    img = photo.astype(np.float32) / 255
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    # OpenCV's kernels are 4x scikit-image's, and its magnitude is not divided by sqrt(2)
    np.testing.assert_allclose(F.sobel(img), cv2.magnitude(gx, gy) / 4 / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(F.sobel_v(img), gx / 4, atol=1e-6)
    np.testing.assert_allclose(F.sobel_h(img), gy / 4, atol=1e-6)


@pytest.mark.parametrize("op", EDGE)
def test_edge_direction(photo, op):
    img = photo / 255.0
    mag, ang = getattr(F, op)(img, return_direction=True)
    g_row = getattr(skf, op)(img, axis=0)
    g_col = getattr(skf, op)(img, axis=1)
    assert_close(mag, getattr(skf, op)(img), np.float64)
    # Where the gradient vanishes the angle is rounding noise (and +-pi are the same direction): compare
    # the wrapped difference where the gradient is clearly non-zero.
    strong = mag > 1e-9
    assert strong.mean() > 0.9
    diff = np.angle(np.exp(1j * (ang - np.arctan2(g_row, g_col))))
    np.testing.assert_allclose(diff[strong], 0, atol=1e-9)
    assert ang.min() >= -np.pi and ang.max() <= np.pi
    assert ang.dtype == mag.dtype == np.float64


def test_float32_direction_accuracy(rng, photo):
    # float32 directions come from a polynomial arctangent: within 4e-7 rad of the exact angle of the same
    # float32 components; 0 where the gradient is zero; NaN where it is NaN.
    for img in ((photo / 255).astype(np.float32), rng.standard_normal((64, 64)).astype(np.float32)):
        img[10:14, 10:14] = 0
        img[30, 30] = np.nan
        _, ang = F.scharr(img, return_direction=True)
        g_row = F.scharr_h(img).astype(np.float64)
        g_col = F.scharr_v(img).astype(np.float64)
        nan = np.isnan(g_row) | np.isnan(g_col)
        np.testing.assert_array_equal(np.isnan(ang), nan)
        zero = (g_row == 0) & (g_col == 0)
        assert zero.sum() >= 4 and (ang[zero] == 0).all()
        diff = np.angle(np.exp(1j * (ang - np.arctan2(g_row, g_col))))
        assert np.abs(diff[~nan]).max() < 4e-7


def test_direction_convention():
    ramp = np.tile(np.arange(6, dtype=np.float32), (6, 1))  # brighter to the right
    _, ang = F.sobel(ramp, mode="nearest", return_direction=True)
    np.testing.assert_allclose(ang, 0, atol=1e-6)
    _, ang = F.sobel(ramp.T.copy(), mode="nearest", return_direction=True)  # brighter downwards
    np.testing.assert_allclose(ang, np.pi / 2, atol=1e-6)
    _, ang = F.sobel(-ramp, mode="nearest", return_direction=True)  # brighter to the left
    np.testing.assert_allclose(np.abs(ang), np.pi, atol=1e-6)


@pytest.mark.parametrize("op", ["sobel", "sobel_h", "sobel_v", "scharr", "scharr_h", "scharr_v"])
def test_edge_mask_matches_skimage(rng, op):
    img = random_image(rng, (20, 24), np.float64)
    mask = np.zeros(img.shape, bool)
    mask[3:15, 2:20] = True
    mask[7, 9] = False
    want = getattr(skf, op)(img, mask=mask)
    got = getattr(F, op)(img, mask=mask)
    assert_close(got, want, np.float64)
    assert (got[~mask] == 0).all() and np.count_nonzero(got) > 0


def test_edge_mask_per_channel_and_direction(rng):
    img = random_image(rng, (12, 14, 3), np.float32)
    mask = np.ones((12, 14), bool)
    mag, ang = F.sobel(img, mask=mask, return_direction=True)
    for c in range(3):
        assert_close(mag[..., c], skf.sobel(img[..., c], mask=mask), np.float32)
    assert (mag[0] == 0).all() and (ang[:, -1] == 0).all()  # eroded border


def test_edges_multichannel_channel_axis(astronaut):
    img = np.moveaxis(astronaut[200:240, 100:150], -1, 0)  # (3, H, W)
    got = F.scharr(img, channel_axis=0)
    assert got.shape == img.shape
    for c in range(3):
        np.testing.assert_allclose(got[c] / 255, skf.scharr(img[c]), atol=1e-6)


@pytest.mark.parametrize("axis, want", [((0, 1), "magnitude"), ((1, 0), "magnitude"), (-2, 0), (-1, 1)])
def test_edge_axis_spellings(rng, axis, want):
    img = random_image(rng, (9, 12), np.float64)
    ref = skf.sobel(img) if want == "magnitude" else skf.sobel(img, axis=want)
    assert_close(F.sobel(img, axis=axis), ref, np.float64)


# ---- tiny and odd shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2), (3, 4, 1), (4, 3, 5)])
@pytest.mark.parametrize("mode", MODES)
def test_tiny_and_odd_shapes(rng, shape, mode):
    img = random_image(rng, shape, np.float64)
    kw = dict(mode=mode, cval=CVAL)

    def per_channel(fn):
        if img.ndim == 2:
            return fn(img)
        return np.stack([fn(img[..., c]) for c in range(img.shape[2])], axis=-1)

    k = rng.standard_normal((3, 2))
    checks = [
        (F.gaussian(img, 1.5, **kw), per_channel(lambda im: ndi.gaussian_filter(im, 1.5, **kw))),
        (F.uniform(img, 3, **kw), per_channel(lambda im: ndi.uniform_filter(im, 3, **kw))),
        (F.laplace(img, **kw), per_channel(lambda im: ndi.laplace(im, **kw))),
        (F.gaussian_laplace(img, 1.0, **kw), per_channel(lambda im: ndi.gaussian_laplace(im, 1.0, **kw))),
        (F.correlate(img, k, **kw), per_channel(lambda im: ndi.correlate(im, k, **kw))),
        (F.sobel(img, **kw), per_channel(lambda im: skf.sobel(im, **kw))),
        (F.scharr_v(img, **kw), per_channel(lambda im: skf.scharr(im, axis=1, **kw))),
    ]
    for got, want in checks:
        assert got.shape == img.shape
        assert_close(got, want, np.float64)


# ---- NaN handling ----------------------------------------------------------------------------------------


def test_nan_spreads_over_the_kernel_support_as_scipy():
    img = np.zeros((9, 10))
    img[4, 5] = np.nan
    np.testing.assert_array_equal(np.isnan(F.gaussian(img, 1)), np.isnan(ndi.gaussian_filter(img, 1)))
    np.testing.assert_array_equal(np.isnan(F.laplace(img)), np.isnan(ndi.laplace(img)))
    k = np.array([[0, 1, 0], [0, 0, 0], [2, 0, 0]], float)  # zero taps are skipped, as scipy does
    np.testing.assert_array_equal(np.isnan(F.correlate(img, k)), np.isnan(ndi.correlate(img, k)))
    np.testing.assert_array_equal(np.isnan(F.sobel_h(img)), np.isnan(skf.sobel_h(img)))
    np.testing.assert_array_equal(np.isnan(F.sobel(img)), np.isnan(skf.sobel(img)))
    assert np.isnan(F.sobel(img)).sum() == 8  # the 3x3 support minus the centre, where both are skipped


# ---- dtypes, layout, threads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, out_dtype",
    # float64 from float64 and from the integers the core widens to float64; float32 from the others
    [(t, np.float32) for t in (np.uint8, np.uint16, np.float32, np.bool_, np.int16, np.float16)]
    + [(t, np.float64) for t in (np.float64, np.int32)],
)
def test_output_dtypes(dtype, out_dtype):
    img = (np.arange(30).reshape(5, 6) % 2).astype(dtype)
    for out in (
        F.gaussian(img),
        F.uniform(img),
        F.laplace(img),
        F.sobel(img),
        F.gaussian_laplace(img, 1),
        F.correlate(img, np.ones((2, 2))),
        F.separable(img, [1, 1], [1]),
    ):
        assert out.dtype == out_dtype
    want = ndi.uniform_filter(img.astype(np.float64), 3)
    np.testing.assert_allclose(F.uniform(img), want, atol=1e-6)


def test_non_contiguous_views(rng):
    base = random_image(rng, (40, 60, 3), np.float32)
    view = base[::2, 1::3, 1]  # strided grey view
    assert_close(F.gaussian(view, 1.2), ndi.gaussian_filter(as_ref(view), 1.2), np.float32)
    assert_close(F.sobel(view), skf.sobel(as_ref(view)), np.float32)
    k = rng.standard_normal((3, 4))[:, ::-1]  # non-contiguous kernel too
    assert_close(F.convolve(view, k), ndi.convolve(as_ref(view), k), np.float32)


def test_inputs_are_not_modified(rng):
    img = random_image(rng, (16, 16), np.float32)
    k = rng.standard_normal((3, 3))
    img0, k0 = img.copy(), k.copy()
    F.correlate(img, k)
    F.gaussian(img, 1)
    F.sobel(img, return_direction=True, mask=np.ones((16, 16), bool))
    np.testing.assert_array_equal(img, img0)
    np.testing.assert_array_equal(k, k0)


@pytest.mark.parametrize(
    "call",
    [
        lambda im: F.gaussian(im, 2.0),
        lambda im: F.gaussian(im, (0, 1.5), mode="constant", cval=0.5),
        lambda im: F.correlate(im, np.arange(35.0).reshape(5, 7) - 17),
        lambda im: F.correlate(im, [[0, 1, 0], [1, -4, 1], [0, 1, 0]], mode="wrap"),
        lambda im: F.separable(im, [1, 2, 3], [0.5, 0.5]),
        lambda im: F.uniform(im, 4),
        lambda im: F.laplace(im),
        lambda im: F.gaussian_laplace(im, 1.5),
        lambda im: F.gaussian_laplace(im, (1.0, 2.5), mode="constant"),
        lambda im: F.sobel(im, return_direction=True)[1],
        lambda im: F.scharr_h(im),
    ],
)
def test_one_and_two_threads_agree(rng, call):
    img = random_image(rng, (203, 157, 2), np.uint8)
    with num_threads(1):
        one = call(img)
    with num_threads(2):
        two = call(img)
    np.testing.assert_array_equal(one, two)


def test_concurrent_calls_from_python_threads(rng):
    # The GIL is released around the core; concurrent calls (which share the thread pool) give the same
    # results as serial ones.
    from concurrent.futures import ThreadPoolExecutor

    imgs = [random_image(rng, (150, 170), np.float32) for _ in range(6)]
    serial = [F.gaussian_laplace(im, 1.5) for im in imgs]
    with ThreadPoolExecutor(3) as ex:
        parallel = list(ex.map(lambda im: F.gaussian_laplace(im, 1.5), imgs))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


# ---- invalid input ---------------------------------------------------------------------------------------

IMG = np.zeros((6, 7), np.float32)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: F.gaussian(np.zeros((0, 4))), ValueError, "non-empty"),
        (lambda: F.gaussian(np.zeros(5)), ValueError, "2-D"),
        (lambda: F.gaussian(np.zeros((2, 2, 2, 2))), ValueError, "2-D"),
        (lambda: F.gaussian(np.zeros((4, 4), complex)), TypeError, "dtype"),
        (lambda: F.gaussian(np.zeros((4, 4, 3)), channel_axis=None), ValueError, "channel_axis"),
        (lambda: F.gaussian(IMG, -1), ValueError, "sigma"),
        (lambda: F.gaussian(IMG, np.nan), ValueError, "sigma"),
        (lambda: F.gaussian(IMG, np.inf), ValueError, "sigma"),
        (lambda: F.gaussian(IMG, (1, 2, 3)), ValueError, "sigma"),
        (lambda: F.gaussian(IMG, "1"), ValueError, "sigma"),
        (lambda: F.gaussian(IMG, 1, truncate=0), ValueError, "truncate"),
        (lambda: F.gaussian(IMG, 1, truncate=-2), ValueError, "truncate"),
        (lambda: F.gaussian(IMG, 1e9), ValueError, "sigma"),
        (lambda: F.gaussian(IMG, 1, mode="reflect101"), ValueError, "mode"),
        (lambda: F.gaussian(IMG, 1, mode="constant", cval=np.nan), ValueError, "cval"),
        (lambda: F.gaussian_laplace(IMG, 0), ValueError, "sigma"),
        (lambda: F.gaussian_laplace(IMG, (1, -1)), ValueError, "sigma"),
        (lambda: F.gaussian_laplace(IMG, 1, truncate=0), ValueError, "truncate"),
        (lambda: F.correlate(IMG, [[1, np.nan]]), ValueError, "weights"),
        (lambda: F.correlate(IMG, [[1, np.inf]]), ValueError, "weights"),
        (lambda: F.correlate(IMG, [1, 2, 3]), ValueError, "weights"),
        (lambda: F.convolve(IMG, np.zeros((0, 3))), ValueError, "weights"),
        (lambda: F.convolve(IMG, np.ones((2, 2), complex)), TypeError, "weights"),
        (lambda: F.convolve(np.zeros((3, 0)), np.ones((2, 2))), ValueError, "non-empty"),
        (lambda: F.separable(IMG, [], [1]), ValueError, "row_kernel"),
        (lambda: F.separable(IMG, [1], [[1]]), ValueError, "col_kernel"),
        (lambda: F.separable(IMG, [1], [np.nan]), ValueError, "col_kernel"),
        (lambda: F.uniform(IMG, 0), ValueError, "size"),
        (lambda: F.uniform(IMG, (3, -1)), ValueError, "size"),
        (lambda: F.uniform(IMG, 2.5), TypeError, "size"),
        (lambda: F.uniform(IMG, 10**9), ValueError, "size"),
        (lambda: F.laplace(IMG, mode="edge"), ValueError, "mode"),
        (lambda: F.sobel(IMG, axis=2), ValueError, "axis"),
        (lambda: F.sobel(IMG, axis=(0, "x")), ValueError, "axis"),
        (lambda: F.scharr(IMG, axis=(0, 0)), ValueError, "axis"),
        (lambda: F.sobel(IMG, axis=0, return_direction=True), ValueError, "return_direction"),
        (lambda: F.sobel(IMG, mask=np.ones((6, 6), bool)), ValueError, "mask"),
        (lambda: F.scharr_v(IMG, mask=np.ones((6, 7), complex)), TypeError, "mask"),
        (lambda: F.sobel_h(np.zeros((4, 4, 3)), channel_axis=None), ValueError, "channel_axis"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_core_rejects_bad_arguments_itself():
    # The compiled core validates too (it is used directly from C++); its messages name the parameter.
    from segen import _core

    with pytest.raises(ValueError, match="sigma_row"):
        _core.gaussian(IMG, -1.0, 1.0, "reflect", 0.0, 4.0)
    with pytest.raises(ValueError, match="truncate"):
        _core.gaussian_laplace(IMG, 1.0, 1.0, "reflect", 0.0, 0.0)
    with pytest.raises(ValueError, match="weights"):
        _core.correlate(IMG, np.array([[np.nan]]), "reflect", 0.0, False)
    with pytest.raises(ValueError, match="size_col"):
        _core.uniform(IMG, 3, 0, "reflect", 0.0)
    with pytest.raises(ValueError, match="mode"):
        _core.laplace(IMG, "bogus", 0.0)
    with pytest.raises(ValueError, match="image"):
        _core.laplace(np.zeros((4, 4), np.float32)[:, ::2], "reflect", 0.0)
    with pytest.raises(TypeError, match="image"):
        _core.laplace(np.zeros((4, 4), np.int64), "reflect", 0.0)


@pytest.mark.parametrize("sigma", [1e-300, 5e-324, 1e-170])
def test_gaussian_tiny_sigma_is_the_identity(sigma):
    # sigma**2 underflows to 0 below ~1e-162: the kernel was NaN (-0.5 / 0 * 0)
    img = random_image(np.random.default_rng(0), (9, 8), np.float64)
    np.testing.assert_array_equal(segen.filters.gaussian(img, sigma=sigma), img)
    with pytest.raises(ValueError, match=r"`sigma` .* too small for a derivative of order 2"):
        segen.filters.gaussian_laplace(img, sigma=1e-300)


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_tap_loops_give_the_same_bits_at_every_cpu_level(dtype):
    # The tap loops (apply_taps, rows_taps, sym2_taps) run on 32-byte vectors at x86-64-v3 and 64-byte ones
    # at x86-64-v4 ("" is the CPU's own level): each lane rounds as the scalar remainder loop does, fused
    # multiply-adds at both levels, so the two must give the same bits. (Baseline x86-64 has no fused
    # multiply-add: its results differ in the last bits, and are checked against scipy like the others.)
    # Widths from 1 to past 8 vectors of 16 lanes, so that each block size and remainder is taken.
    code = (
        "import sys, numpy as np, segen\n"
        "rng = np.random.default_rng(5)\n"
        "k = rng.standard_normal((7, 7))\n"
        "out = []\n"
        "for w in (1, 3, 15, 17, 33, 63, 129, 131, 301):\n"
        f"    img = (rng.random((40, w)) * 255).astype(np.{dtype})\n"
        "    out += [segen.filters.gaussian(img, 2.0), segen.filters.gaussian(img, (0.7, 3.0), mode='wrap'),\n"
        "            segen.filters.gaussian_laplace(img, 2.0), segen.filters.gaussian_laplace(img, 1.5, mode='constant', cval=3.0),\n"
        "            segen.filters.convolve(img, k), segen.filters.sobel(img), segen.filters.uniform(img, 5)]\n"
        "sys.stdout.buffer.write(b''.join(np.ascontiguousarray(o).tobytes() for o in out))\n"
    )
    got = outputs_at_cpu_levels(code)
    assert len(got[""]) > 0
    assert got["v3"] == got[""]
    out = np.float64 if dtype == "float64" else np.float32
    base, own = np.frombuffer(got["baseline"], out), np.frombuffer(got[""], out)
    np.testing.assert_allclose(
        base, own, rtol=1e-5 if out == np.float32 else 1e-12, atol=1e-3 if out == np.float32 else 1e-9
    )
