"""segen.features against scikit-image / scipy / numpy references."""

import pickle

import numpy as np
import pytest
import scipy.ndimage as ndi
import segen
from helpers import DTYPES, MODES, num_threads, outputs_at_cpu_levels, random_image, value_range
from skimage import color, data, feature, filters

# ---- gabor_kernel -----------------------------------------------------------------------------------

KERNEL_PARAMS = [
    dict(frequency=0.1),
    dict(frequency=0.25, theta=np.pi / 3, bandwidth=1.5, offset=0.7),
    dict(frequency=0.15, theta=1.1, sigma_x=3, sigma_y=6),
    dict(frequency=0.3, theta=-2.0, sigma_x=2.5, n_stds=2),
    dict(frequency=0.4, theta=np.pi / 2, n_stds=0),  # smallest kernel: 3x3
    dict(frequency=0.05, theta=np.pi / 4, bandwidth=0.5),
]


@pytest.mark.parametrize("params", KERNEL_PARAMS)
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_gabor_kernel_matches_skimage(params, dtype):
    want = filters.gabor_kernel(**params, dtype=dtype)
    got = segen.features.gabor_kernel(**params, dtype=dtype)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 * np.abs(want).max())


def test_gabor_kernel_orientation():
    # theta=0: the harmonic varies along x (columns) only -> responds to vertical edges.
    k = segen.features.gabor_kernel(0.2, sigma_x=1e3, sigma_y=1e3, n_stds=0.003)
    assert k.shape == (7, 7)
    np.testing.assert_allclose(k.real[0], k.real[3], rtol=1e-5)  # constant along y
    assert np.ptp(k.real[3]) > 0.5 * np.abs(k.real).max()  # varies along x


# ---- gabor ------------------------------------------------------------------------------------------


def _gabor_ref(img, **kw):
    """skimage's gabor in float64 (it would truncate integer results to the input's dtype)."""
    return filters.gabor(img.astype(np.float64), **kw)


@pytest.fixture(scope="module")
def camera_crop():
    return data.camera()[180:260, 200:296]  # 80 x 96, with edges and texture


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_gabor_photo_all_modes_dtypes(camera_crop, dtype, mode):
    img = camera_crop.astype(dtype)
    if dtype == np.uint16:
        img = img * np.uint16(257)
    elif np.dtype(dtype).kind == "f":
        img = img / dtype(255)
    kw = dict(frequency=0.12, theta=0.6, offset=0.3, mode=mode, cval=0.25 * value_range(dtype))
    real, imag = segen.features.gabor(img, **kw)
    want_r, want_i = _gabor_ref(img, **kw)
    assert real.dtype == (np.float64 if dtype == np.float64 else np.float32)
    tol = 1e-5 * value_range(dtype)
    np.testing.assert_allclose(real, want_r, rtol=0, atol=tol)
    np.testing.assert_allclose(imag, want_i, rtol=0, atol=tol)


@pytest.mark.parametrize("params", KERNEL_PARAMS[:5])
def test_gabor_random_separable_and_anisotropic(rng, params):
    img = random_image(rng, (41, 57), np.float32)
    real, imag = segen.features.gabor(img, **params, mode="wrap")
    want_r, want_i = filters.gabor(img, **params, mode="wrap")  # float32 in, float32 out in skimage
    np.testing.assert_allclose(real, want_r, rtol=0, atol=1e-5)
    np.testing.assert_allclose(imag, want_i, rtol=0, atol=1e-5)


NP_PAD = {
    "reflect": "symmetric",
    "mirror": "reflect",
    "nearest": "edge",
    "wrap": "wrap",
    "constant": "constant",
}


@pytest.mark.parametrize("mode", MODES)
def test_gabor_kernel_larger_than_image(rng, mode):
    # scipy.ndimage misbehaves (reads garbage) when a kernel is many times larger than the image, so the
    # reference pads with np.pad (repeated reflections) and convolves the padded image.
    img = random_image(rng, (5, 7), np.float64)
    kern = filters.gabor_kernel(0.1, 0.3)  # 35 x 35 on a 5 x 7 image
    r = kern.shape[0] // 2
    extra = dict(constant_values=0.5) if mode == "constant" else {}
    padded = np.pad(img, r, mode=NP_PAD[mode], **extra)
    real, imag = segen.features.gabor(img, 0.1, 0.3, mode=mode, cval=0.5)
    for got, part in ((real, kern.real), (imag, kern.imag)):
        want = ndi.convolve(padded, np.ascontiguousarray(part), mode="constant")[r:-r, r:-r]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_gabor_multichannel_filters_each_channel(astronaut):
    rgb = astronaut[200:250, 220:280]
    real, imag = segen.features.gabor(rgb, 0.2, theta=1.0)
    assert real.shape == rgb.shape and real.dtype == np.float32
    for c in range(3):
        want_r, want_i = _gabor_ref(rgb[..., c], frequency=0.2, theta=1.0)
        np.testing.assert_allclose(real[..., c], want_r, rtol=0, atol=1e-4 * 255)
        np.testing.assert_allclose(imag[..., c], want_i, rtol=0, atol=1e-4 * 255)
    first, _ = segen.features.gabor(np.moveaxis(rgb, -1, 0), 0.2, theta=1.0, channel_axis=0)
    np.testing.assert_array_equal(np.moveaxis(first, 0, -1), real)


def test_gabor_nan_spreads_over_the_kernel_support(rng):
    img = random_image(rng, (30, 40), np.float64)
    img[15, 20] = np.nan
    real, imag = segen.features.gabor(img, 0.25)  # 15 x 15 kernel
    want, _ = filters.gabor(img, 0.25)
    nan = np.zeros(img.shape, bool)
    nan[8:23, 13:28] = True
    np.testing.assert_array_equal(np.isnan(real), nan)
    np.testing.assert_array_equal(np.isnan(imag), nan)
    # scipy skips taps with |weight| <= eps, so its NaN footprint is a subset of the support.
    assert not np.isnan(want[~nan]).any()
    np.testing.assert_allclose(real[~nan], want[~nan], atol=1e-9)


def test_gabor_non_contiguous_view_and_input_untouched(rng):
    base = random_image(rng, (60, 80), np.float32)
    keep = base.copy()
    view = base[::2, ::3]
    real, imag = segen.features.gabor(view, 0.2, 0.4)
    want_r, want_i = segen.features.gabor(np.ascontiguousarray(view), 0.2, 0.4)
    np.testing.assert_array_equal(real, want_r)
    np.testing.assert_array_equal(imag, want_i)
    np.testing.assert_array_equal(base, keep)


# ---- gabor_bank -------------------------------------------------------------------------------------


def _bank_ref(img, freqs, thetas, smoothing=0.5, truncate=3.0, mode="reflect", **kw):
    out = []
    for f in freqs:
        for t in thetas:
            r, i = filters.gabor(img.astype(np.float64), f, t, mode=mode, **kw)
            mag = np.hypot(r, i)
            if smoothing:
                mag = ndi.gaussian_filter(mag, smoothing / f, mode=mode, cval=0.0, truncate=truncate)
            out.append(mag)
    return np.stack(out, axis=-1)


@pytest.mark.parametrize("mode", MODES)
def test_gabor_bank_matches_reference(camera_crop, mode):
    img = camera_crop.astype(np.float32) / 255
    freqs, thetas = [0.1, 0.25], [0.0, np.pi / 4, np.pi / 2, 2.5]
    got = segen.features.gabor_bank(img, freqs, thetas, mode=mode, cval=0.3)
    want = _bank_ref(img, freqs, thetas, mode=mode, cval=0.3)
    assert got.shape == img.shape + (8,) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_gabor_bank_ordering_options_and_uint8(rng):
    img = random_image(rng, (33, 47), np.uint8)
    freqs, thetas = [0.3, 0.15, 0.2], [1.0, 0.2]
    kw = dict(bandwidth=1.4, sigma_x=None, n_stds=2.5)
    got = segen.features.gabor_bank(img, freqs, thetas, smoothing=0.8, smoothing_truncate=2.0, **kw)
    want = _bank_ref(img, freqs, thetas, smoothing=0.8, truncate=2.0, **kw)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * 255)
    raw = segen.features.gabor_bank(img, 0.2, [0.5], smoothing=0, sigma_x=2, sigma_y=4)
    r, i = _gabor_ref(img, frequency=0.2, theta=0.5, sigma_x=2, sigma_y=4)
    np.testing.assert_allclose(raw[..., 0], np.hypot(r, i), rtol=0, atol=1e-4 * 255)


def test_gabor_bank_rgb_uses_luminance(coffee):
    rgb = coffee[100:150, 300:370]
    grey = rgb.astype(np.float32) @ np.array(segen.features.LUMINANCE, np.float32)
    got = segen.features.gabor_bank(rgb, [0.2], [0.0, 1.2])
    want = segen.features.gabor_bank(grey, [0.2], [0.0, 1.2])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


# ---- color_histogram --------------------------------------------------------------------------------


def _hist_ref(img, bins, mask=None, normalize=True, hsv=None):
    hsv = (color.rgb2hsv(img) if hsv is None else hsv).reshape(-1, 3)
    if mask is not None:
        hsv = hsv[np.asarray(mask).ravel()]
    h, _ = np.histogramdd(hsv, bins=bins, range=[(0, 1)] * 3)
    return h / max(h.sum(), 1) if normalize else h


@pytest.fixture(scope="module")
def hsv_photos():
    return [(img, color.rgb2hsv(img)) for img in (data.astronaut(), data.coffee())]


@pytest.mark.parametrize("bins", [(8, 4, 4), (3, 5, 7), 1, 12])
def test_color_histogram_photos(hsv_photos, bins):
    b = (bins,) * 3 if isinstance(bins, int) else bins
    for img, hsv in hsv_photos:
        got = segen.features.color_histogram(img, bins)
        assert got.shape == b and got.dtype == np.float64
        np.testing.assert_allclose(got, _hist_ref(img, b, hsv=hsv), rtol=0, atol=1e-12)
        counts = segen.features.color_histogram(img, b, normalize=False)
        np.testing.assert_array_equal(counts, _hist_ref(img, b, normalize=False, hsv=hsv))


@pytest.mark.parametrize("dtype", DTYPES)
def test_color_histogram_random_dtypes_exact_counts(rng, dtype):
    img = random_image(rng, (37, 41, 3), dtype)
    if np.dtype(dtype).kind == "f":  # many ties and exact bin edges: levels k/4
        img[:20] = (rng.integers(0, 5, (20, 41, 3)) / 4).astype(dtype)
    got = segen.features.color_histogram(img, (6, 4, 5), normalize=False)
    np.testing.assert_array_equal(got, _hist_ref(img, (6, 4, 5), normalize=False))


def test_color_histogram_mask_channel_axis_and_empty_mask(coffee, rng):
    img = coffee[:60, :80]
    mask = rng.random(img.shape[:2]) < 0.3
    got = segen.features.color_histogram(img, mask=mask)
    np.testing.assert_allclose(got, _hist_ref(img, (8, 4, 4), mask), atol=1e-12)
    assert got.sum() == pytest.approx(1.0)
    first = segen.features.color_histogram(
        np.moveaxis(img, -1, 0), mask=mask.astype(np.uint8), channel_axis=0
    )
    np.testing.assert_array_equal(first, got)
    none = segen.features.color_histogram(img, mask=np.zeros(img.shape[:2], bool))
    assert not none.any()


def test_color_histogram_out_of_range_and_non_finite():
    img = np.array([[[2.0, 0.5, 0.5], [-1.0, -1.0, -2.0], [np.nan, 0, 0], [0.2, np.inf, 0.1]]])
    got = segen.features.color_histogram(img, 2, normalize=False)
    assert got.sum() == 2  # the NaN and inf pixels are not counted
    assert got[0, 1, 1] == 1  # V = 2 -> last value bin; S = 0.75
    assert got[0, 0, 0] == 1  # V = -1, S = -1 -> first bins; hue of (-1, -1, -2) is 0


# ---- canny ------------------------------------------------------------------------------------------


def _same(got, want):
    assert got.dtype == bool and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.fixture(scope="module")
def canny_photos():
    return {
        "camera": data.camera(),
        "coins": data.coins(),
        "astronaut": (color.rgb2gray(data.astronaut()) * 255).astype(np.uint8),
    }


@pytest.mark.parametrize("name", ["camera", "coins", "astronaut"])
@pytest.mark.parametrize(
    "kw",
    [
        {},
        dict(sigma=2.0),
        dict(sigma=1.5, mode="reflect"),
        dict(sigma=1.0, low_threshold=10, high_threshold=40),
        dict(use_quantiles=True, low_threshold=0.7, high_threshold=0.9),
        dict(sigma=0.0),
    ],
)
def test_canny_photos_uint8(canny_photos, name, kw):
    img = canny_photos[name]
    want = feature.canny(img, **kw)
    _same(segen.features.canny(img, **kw), want)
    assert want.sum() > 100


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
@pytest.mark.parametrize("mode", MODES)
def test_canny_dtypes_and_modes(canny_photos, dtype, mode):
    img = canny_photos["coins"][40:200, 60:260]
    img = img.astype(dtype) * np.uint16(257) if dtype == np.uint16 else img.astype(dtype) / 255
    kw = dict(sigma=1.2, mode=mode, cval=0.4)
    _same(segen.features.canny(img, **kw), feature.canny(img, **kw))


def _shapes():
    yy, xx = np.mgrid[:96, :112]
    disc = (((yy - 47.3) ** 2 + (xx - 55.1) ** 2) < 30**2).astype(np.float64)
    square = np.zeros((96, 112))
    square[20:70, 30:90] = 1
    tri = (yy > xx * 0.7 + 10).astype(np.float64)
    return {"disc": disc, "square": square, "triangle": tri}


@pytest.mark.parametrize("name", ["disc", "square", "triangle"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_canny_synthetic_shapes_identical(rng, name, dtype, noise):
    # Noise-free shapes are full of exact ties (a step edge between two rows gives two equal magnitudes):
    # only identical rounding gives identical edges.
    img = _shapes()[name] * 0.8 + noise * rng.random((96, 112))
    img = (img * 255).astype(np.uint8) if dtype == np.uint8 else img.astype(dtype)
    for kw in (dict(sigma=1.0), dict(sigma=1.5, mode="reflect"), dict(sigma=2.3, mode="wrap", cval=0.3)):
        want = feature.canny(img, **kw)
        assert want.sum() > 50
        _same(segen.features.canny(img, **kw), want)


def test_canny_mask(canny_photos, rng):
    img = canny_photos["camera"][:200, :240]
    mask = np.zeros(img.shape, bool)
    mask[20:180, 30:200] = True
    mask &= rng.random(img.shape) > 0.02
    got = segen.features.canny(img, sigma=1.3, mask=mask)
    _same(got, feature.canny(img, sigma=1.3, mask=mask))
    assert not got[~mask].any()
    square = _shapes()["square"]
    cut = np.ones(square.shape, bool)
    cut[:, :45] = False  # through the square: edges along the mask border and exact ties
    _same(segen.features.canny(square, mask=cut), feature.canny(square, mask=cut))


def test_canny_tiny_images_and_border_never_edges(rng):
    for shape in [(1, 1), (2, 5), (3, 3), (4, 1)]:
        img = random_image(rng, shape, np.float64)
        np.testing.assert_array_equal(segen.features.canny(img, sigma=0.5), feature.canny(img, sigma=0.5))
    edges = segen.features.canny(np.eye(20)[::-1] + np.eye(20), sigma=0.8, low_threshold=0, high_threshold=0)
    assert edges.any() and not (edges[0].any() or edges[-1].any() or edges[:, 0].any() or edges[:, -1].any())


def test_canny_division_by_the_smoothed_ones(rng):
    # In constant mode each smoothed row is divided by the Gaussian of the ones: by one number between the
    # bands of r columns at the left and right borders (a division-free exact path, fused with the
    # horizontal pass), pixel by pixel in the bands, in images narrower than the kernel and for values near
    # the ends of the float64 range.
    for width in (1, 2, 3, 4, 5, 8, 9, 10, 13, 17, 33, 67):
        img = random_image(rng, (24, width), np.float64)
        img[6:18] += 0.5
        for kw in (dict(sigma=1.0), dict(sigma=1.0, cval=0.7), dict(sigma=0.6), dict(sigma=2.5)):
            _same(segen.features.canny(img, **kw), feature.canny(img, **kw))
    base = _shapes()["disc"] * 0.8 + 0.1 * rng.random((96, 112))
    for scale in (1e-300, 1e-245, 1e-150, 1.0, 1e100, 1e150):
        kw = dict(sigma=1.0, use_quantiles=True, low_threshold=0.8, high_threshold=0.9)
        _same(segen.features.canny(base * scale, **kw), feature.canny(base * scale, **kw))


def test_canny_vector_kernels_agree_at_every_cpu_level(canny_photos):
    # The smoothing's division pass and the non-maximum suppression have AVX2 and AVX-512 kernels beside the
    # portable code: each CPU level ("" is the machine's own, v4 on an AVX-512 machine; v3 forces the AVX2
    # copies there; baseline the portable ones) must give scikit-image's edges, with a mask, on shapes full
    # of exact ties, on widths that leave vector tails, and at the ends of the float64 range (lanes left to
    # the division).
    rng = np.random.default_rng(5)
    disc = _shapes()["disc"] * 0.8 + 0.1 * rng.random((96, 112))
    mask = rng.random(canny_photos["camera"].shape) > 0.01
    square = _shapes()["square"]
    cut = np.ones(square.shape, bool)
    cut[:, :45] = False
    cases = [
        (canny_photos["camera"], {}),
        (canny_photos["camera"], dict(sigma=1.3, mask=mask)),
        (square * 0.8, {}),  # exact ties: a suppression that breaks them otherwise differs
        (square, dict(mask=cut)),
        (disc[:, :37], dict(sigma=1.0)),
        (disc[:, :67], dict(sigma=0.6, mode="reflect")),
        (disc * 1e-300, dict(sigma=1.0, use_quantiles=True, low_threshold=0.8, high_threshold=0.9)),
        (disc * 1e150, dict(sigma=1.0, use_quantiles=True, low_threshold=0.8, high_threshold=0.9)),
    ]
    code = (
        "import pickle, sys, numpy as np, segen\n"
        "cases = pickle.load(sys.stdin.buffer)\n"
        "out = [np.packbits(segen.features.canny(img, **kw)) for img, kw in cases]\n"
        "pickle.dump(out, sys.stdout.buffer)\n"
    )
    got = {
        level: pickle.loads(out) for level, out in outputs_at_cpu_levels(code, pickle.dumps(cases)).items()
    }
    for i, (img, kw) in enumerate(cases):
        want = np.packbits(feature.canny(img, **kw))
        for level, edges in got.items():
            np.testing.assert_array_equal(edges[i], want, err_msg=f"case {i}, SEGEN_CPU_LEVEL={level!r}")


def test_canny_nan_gives_no_edges_nearby(rng):
    img = 0.1 * rng.random((40, 40))
    img[10:30, 10:30] += 0.8
    img[20, 10] = np.nan
    got = segen.features.canny(img, sigma=1.0)
    _same(got, feature.canny(img, sigma=1.0))
    assert not got[18:23, 8:13].any()


def test_canny_other_integer_dtypes_scale_like_img_as_float(rng):
    img = (rng.random((50, 60)) * 20000).astype(np.int16)
    img[10:40, 10:50] += 8000
    got = segen.features.canny(img, sigma=1.0, low_threshold=500, high_threshold=2000)
    _same(got, feature.canny(img, sigma=1.0, low_threshold=500, high_threshold=2000))
    blob = np.zeros((30, 30), bool)
    blob[8:22, 5:25] = True
    _same(segen.features.canny(blob), feature.canny(blob))


@pytest.mark.parametrize("threads", [1, 2])
def test_canny_edges_crossing_row_blocks(rng, threads):
    # Tall images are cut into blocks of rows, each with its own hysteresis; a faint edge that is only
    # seeded by a strong stretch far away in another block must still be followed across the blocks.
    yy, xx = np.mgrid[:700, :48]
    contrast = 0.05 + 0.35 * (yy / 699.0) ** 4  # strong (above high_threshold) only from row ~400 on
    img = 0.5 + contrast * np.where(xx > 20 + 10 * np.sin(yy / 40.0), 1, -1)
    img = img + 0.002 * rng.random(img.shape)
    kw = dict(sigma=1.0, low_threshold=0.1, high_threshold=0.5)
    with num_threads(threads):
        got = segen.features.canny(img, **kw)
    want = feature.canny(img, **kw)
    assert want[:128].sum() > 100  # the faint edge of the first block is reached from the last ones
    _same(got, want)


# ---- threads, errors --------------------------------------------------------------------------------


def test_results_do_not_depend_on_thread_count(rng):
    img = random_image(rng, (130, 150), np.float32)
    rgb = random_image(rng, (130, 150, 3), np.uint8)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            runs.append(
                (
                    *segen.features.gabor(img, 0.15, 0.5),
                    *segen.features.gabor(img, 0.15, 0.5, sigma_x=2, sigma_y=5),
                    segen.features.gabor_bank(img, [0.1, 0.2], [0, 1]),
                    segen.features.color_histogram(rgb, normalize=False),
                    segen.features.canny(img, sigma=1.0, low_threshold=0.05, high_threshold=0.15),
                    segen.features.canny(
                        img, sigma=1.0, use_quantiles=True, low_threshold=0.5, high_threshold=0.8
                    ),
                )
            )
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


IMG = np.zeros((8, 8), np.float32)
RGB = np.zeros((8, 8, 3), np.uint8)


@pytest.mark.parametrize(
    "fn, args, kwargs, exc, match",
    [
        (segen.features.gabor_kernel, (0,), {}, ValueError, "frequency"),
        (segen.features.gabor_kernel, (-0.1,), {}, ValueError, "frequency"),
        (segen.features.gabor_kernel, (np.nan,), {}, ValueError, "frequency"),
        (segen.features.gabor_kernel, (0.1,), dict(bandwidth=0), ValueError, "bandwidth"),
        (segen.features.gabor_kernel, (0.1,), dict(sigma_x=-1), ValueError, "sigma_x"),
        (segen.features.gabor_kernel, (0.1,), dict(sigma_y=0), ValueError, "sigma_y"),
        (segen.features.gabor_kernel, (0.1,), dict(n_stds=-1), ValueError, "n_stds"),
        (segen.features.gabor_kernel, (0.1,), dict(theta=np.inf), ValueError, "theta"),
        (segen.features.gabor_kernel, (0.1,), dict(offset="a"), TypeError, "offset"),
        (segen.features.gabor_kernel, (0.1,), dict(dtype=np.float64), TypeError, "dtype"),
        (segen.features.gabor_kernel, (1e-5,), {}, ValueError, "2\\^26"),
        (segen.features.gabor, (np.zeros((0, 5)), 0.1), {}, ValueError, "non-empty"),
        (segen.features.gabor, (np.zeros(5), 0.1), {}, ValueError, "2-D"),
        (segen.features.gabor, (IMG.astype(complex), 0.1), {}, TypeError, "dtype"),
        (segen.features.gabor, (IMG, 0.1), dict(mode="edge"), ValueError, "mode"),
        (segen.features.gabor, (IMG, 0.1), dict(cval=np.nan), ValueError, "cval"),
        (
            segen.features.gabor,
            (IMG[..., None].repeat(2, 2), 0.1),
            dict(channel_axis=None),
            ValueError,
            "channel_axis",
        ),
        (segen.features.gabor_bank, (IMG, [], [0]), {}, ValueError, "frequencies"),
        (segen.features.gabor_bank, (IMG, [0.1], []), {}, ValueError, "thetas"),
        (segen.features.gabor_bank, (IMG, [0.1, -1], [0]), {}, ValueError, "frequencies"),
        (segen.features.gabor_bank, (IMG, 0.1, None), {}, TypeError, "thetas"),
        (segen.features.gabor_bank, (IMG, 0.1, 0), dict(smoothing=-1), ValueError, "smoothing"),
        (
            segen.features.gabor_bank,
            (IMG, 0.1, 0),
            dict(smoothing_truncate=0),
            ValueError,
            "smoothing_truncate",
        ),
        (segen.features.gabor_bank, (np.zeros((8, 8, 2)), 0.1, 0), {}, ValueError, "3 channels"),
        (segen.features.gabor_bank, (IMG, [0.1, 1e-5], 0), {}, ValueError, "2\\^26"),
        (segen.features.gabor, (IMG, 0.1), dict(sigma_x=3e4, sigma_y=3e4), ValueError, "2\\^26"),
        (segen.features.color_histogram, (IMG,), {}, ValueError, "3 channels"),
        (segen.features.color_histogram, (np.zeros((8, 8, 4)),), {}, ValueError, "3 channels"),
        (segen.features.color_histogram, (RGB,), dict(bins=0), ValueError, "bins"),
        (segen.features.color_histogram, (RGB,), dict(bins=(4, 4)), ValueError, "bins"),
        (segen.features.color_histogram, (RGB,), dict(bins=(4, 4, 2.5)), TypeError, "bins"),
        (segen.features.color_histogram, (RGB,), dict(mask=np.ones((8, 7), bool)), ValueError, "mask"),
        (segen.features.color_histogram, (RGB,), dict(mask=np.ones((8, 8), float)), TypeError, "mask"),
        (segen.features.color_histogram, (RGB.astype(complex),), {}, TypeError, "dtype"),
        (segen.features.canny, (np.zeros((0, 3)),), {}, ValueError, "non-empty"),
        (segen.features.canny, (RGB,), {}, ValueError, "2-D"),
        (segen.features.canny, (IMG.astype(complex),), {}, TypeError, "dtype"),
        (segen.features.canny, (IMG,), dict(sigma=-1), ValueError, "sigma"),
        (segen.features.canny, (IMG,), dict(low_threshold=-0.1), ValueError, "low_threshold"),
        (
            segen.features.canny,
            (IMG,),
            dict(low_threshold=0.5, high_threshold=0.2),
            ValueError,
            "high_threshold",
        ),
        (segen.features.canny, (RGB[..., 0],), dict(low_threshold=60), ValueError, "51 \\(default\\)"),
        (
            segen.features.canny,
            (IMG,),
            dict(use_quantiles=True, high_threshold=1.5),
            ValueError,
            "high_threshold",
        ),
        (segen.features.canny, (IMG,), dict(mask=np.ones((3, 3), bool)), ValueError, "mask"),
        (segen.features.canny, (IMG,), dict(mode="nope"), ValueError, "mode"),
    ],
)
def test_bad_input(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)
