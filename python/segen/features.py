"""Features: Gabor kernels, filtering and filter banks, HSV colour histograms, Canny edges, local binary
patterns.

C++ core: ``segen/features.hpp``. The functions follow scikit-image's names, parameters and results
(``skimage.filters.gabor_kernel``, ``skimage.filters.gabor``, ``skimage.feature.canny``,
``skimage.feature.local_binary_pattern``); the Notes of each
docstring list the deliberate differences.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _core
from ._shared.limits import check_allocation
from ._shared.validation import (
    F32_MAX,
    as_array,
    check_bool,
    check_choice,
    check_fits_float32,
    check_image,
    check_int,
    check_kernel_radius,
    check_mode,
    check_positive,
    check_real,
    float_dtype_for,
    prescale_for_squares,
)
from .errors import DTypeError, InvalidArgumentError

__all__ = ["gabor_kernel", "gabor", "gabor_bank", "color_histogram", "canny", "local_binary_pattern"]

#: Luminance weights (ITU-R BT.709, as skimage.color.rgb2gray) used by :func:`gabor_bank` for RGB input.
LUMINANCE = (0.2125, 0.7154, 0.0721)


def _optional_sigma(value, name: str) -> float:
    """None -> 0.0 (the core derives it from the bandwidth), else a positive float."""
    return 0.0 if value is None else check_positive(value, name)


_MAX_KERNEL_ELEMENTS = 2**26

#: Highest harmonic: above 0.5 cycles per pixel a harmonic sampled at the pixels aliases onto a lower one,
#: and the envelope's normalisation ~ frequency**2 overflowed float32 (frequency 1e30 gave inf everywhere).
MAX_FREQUENCY = 0.5
#: Widest bandwidth in octaves: the core computes 2**bandwidth (1e300 overflowed to a NaN sigma).
MAX_BANDWIDTH = 1000.0


def _check_kernel_size(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, fname="frequency") -> None:
    """Refuse kernels over 2**26 elements (the core's limit) before any work, with scikit-image's size rule.

    Computed in floats, so that extreme parameters give this error rather than ZeroDivisionError (a bandwidth
    of 1e-300) or OverflowError (an infinite half-size).
    """
    # (2**b + 1) / (2**b - 1) == 1 / tanh(b ln2 / 2), without overflow for large b or 0/0 for tiny b
    ratio = 1.0 / math.tanh(bandwidth * math.log(2) / 2.0)
    sigma = 1.0 / math.pi * math.sqrt(math.log(2) / 2.0) * ratio / frequency
    sx, sy = sigma_x or sigma, sigma_y or sigma
    ct, st = math.cos(theta), math.sin(theta)
    x0 = max(abs(n_stds * sx * ct), abs(n_stds * sy * st), 1.0)
    y0 = max(abs(n_stds * sy * ct), abs(n_stds * sx * st), 1.0)
    if (
        not (x0 < 2**40 and y0 < 2**40)
        or (2 * math.ceil(x0) + 1) * (2 * math.ceil(y0) + 1) > _MAX_KERNEL_ELEMENTS
    ):
        raise InvalidArgumentError(
            f"the Gabor kernel would be {2 * y0 + 1:.4g} x {2 * x0 + 1:.4g}, more than 2^26 elements: raise "
            f"`{fname}` or `bandwidth`, or lower `sigma_x`, `sigma_y` or `n_stds`"
        )


def _gabor_params(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset) -> tuple:
    params = (
        check_positive(frequency, "frequency", maximum=MAX_FREQUENCY),
        check_real(theta, "theta"),
        check_positive(bandwidth, "bandwidth", maximum=MAX_BANDWIDTH),
        _optional_sigma(sigma_x, "sigma_x"),
        _optional_sigma(sigma_y, "sigma_y"),
        check_positive(n_stds, "n_stds", allow_zero=True),
        check_real(offset, "offset"),
    )
    _check_kernel_size(*params[:6])
    return params


def gabor_kernel(
    frequency,
    theta=0,
    bandwidth=1,
    sigma_x=None,
    sigma_y=None,
    n_stds=3,
    offset=0,
    dtype=np.complex128,
) -> np.ndarray:
    """Return a complex 2-D Gabor kernel, as ``skimage.filters.gabor_kernel``.

    The kernel is a Gaussian envelope modulated by a complex harmonic:
    ``g(x, y) = exp(-x'^2 / (2 sigma_x^2) - y'^2 / (2 sigma_y^2)) * exp(i (2 pi frequency x' + offset))
    / (2 pi sigma_x sigma_y)`` with ``x' = x cos(theta) + y sin(theta)`` and
    ``y' = -x sin(theta) + y cos(theta)``.

    Parameters
    ----------
    frequency : float
        Spatial frequency of the harmonic, in cycles per pixel, in (0, 0.5] (above 0.5 a sampled harmonic
        aliases onto a lower frequency).
    theta : float, optional
        Orientation in radians. With ``theta=0`` the harmonic varies along x (columns), so the filter
        responds to vertical edges and stripes.
    bandwidth : float, optional
        Bandwidth in octaves, in (0, 1000]; sets ``sigma_x`` and ``sigma_y`` when they are None:
        ``sigma = sqrt(ln 2 / 2) / pi * (2**b + 1) / (2**b - 1) / frequency``.
    sigma_x, sigma_y : float, optional
        Standard deviations of the envelope along x' and y' (> 0), i.e. before the rotation.
    n_stds : float, optional
        Half-size of the kernel in standard deviations (>= 0); the kernel is at least 3x3.
    offset : float, optional
        Phase offset of the harmonic in radians.
    dtype : {np.complex128, np.complex64}, optional
        Precision of the result.

    Returns
    -------
    kernel : (2 * y0 + 1, 2 * x0 + 1) ndarray of `dtype`
        Rows are y, columns x, the centre is the origin; ``x0 = ceil(max(|n_stds sigma_x cos(theta)|,
        |n_stds sigma_y sin(theta)|, 1))`` and ``y0 = ceil(max(|n_stds sigma_y cos(theta)|,
        |n_stds sigma_x sin(theta)|, 1))``.

    Raises
    ------
    ValueError
        If `frequency`, `bandwidth`, `sigma_x` or `sigma_y` is not > 0, `frequency` is above 0.5,
        `bandwidth` above 1000, `n_stds` is negative, a parameter is not finite, or the kernel would have more
        than 2**26 elements.
    TypeError
        If `dtype` is not complex (also a ValueError, as scikit-image raises).

    See Also
    --------
    gabor, gabor_bank

    Notes
    -----
    Computed in double precision in C++; equal to scikit-image's kernel to rounding.

    Examples
    --------
    >>> import segen
    >>> k = segen.features.gabor_kernel(0.25)
    >>> k.shape, k.dtype
    ((15, 15), dtype('complex128'))
    >>> bool(abs(k[7, 7].real - 1 / (2 * 3.14159265 * 2.2489**2)) < 1e-4)
    True
    """
    params = _gabor_params(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"`dtype` must be complex64 or complex128; got {dtype!r}") from None
    if dt.kind != "c" or dt.itemsize not in (8, 16):
        raise DTypeError(f"`dtype` must be complex64 or complex128; got {dt}")
    k = _core.gabor_kernel(*params)
    out = k.view(np.complex128)[..., 0]
    return out if dt == np.complex128 else out.astype(dt)


def gabor(
    image,
    frequency,
    theta=0,
    bandwidth=1,
    sigma_x=None,
    sigma_y=None,
    n_stds=3,
    offset=0,
    mode="reflect",
    cval=0,
    *,
    channel_axis=-1,
) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary responses to a Gabor filter, as ``skimage.filters.gabor``.

    The image is convolved (``scipy.ndimage.convolve`` semantics) with the real and the imaginary part of
    ``gabor_kernel(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset)``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Input image; each channel of a multichannel image is filtered independently.
    frequency : float
        Spatial frequency of the harmonic, in cycles per pixel, in (0, 0.5] (above 0.5 a sampled harmonic
        aliases onto a lower frequency).
    theta : float, optional
        Orientation in radians; 0 responds to vertical edges (harmonic along x), as in scikit-image.
    bandwidth : float, optional
        Bandwidth in octaves, used when `sigma_x` / `sigma_y` are None.
    sigma_x, sigma_y : float, optional
        Envelope standard deviations along x' and y' (before rotation).
    n_stds : float, optional
        Kernel half-size in standard deviations.
    offset : float, optional
        Phase offset in radians.
    mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension (scipy.ndimage's names and meanings).
    cval : float, optional
        Value outside the image when ``mode='constant'``.
    channel_axis : int or None, optional
        Axis of a 3-D image holding the channels (default -1). A 2-D image is grey.

    Returns
    -------
    real, imag : ndarray
        Same shape as `image`; float64 for float64 input, float32 otherwise (integer input is not
        rescaled: a uint8 image gives responses in 0..255 units).

    Raises
    ------
    ValueError
        If `image` is empty or not 2-D/3-D, a parameter is out of range (see :func:`gabor_kernel`), or
        `mode` is unknown.
    TypeError
        If `image` has a complex or non-numeric dtype.

    See Also
    --------
    gabor_kernel, gabor_bank

    Notes
    -----
    * With an isotropic envelope (``sigma_x == sigma_y``, the default) the kernel is separable and is
      applied as two complex 1-D passes; otherwise a direct 2-D correlation is used. Float32 and integer
      input are filtered in float32 (scikit-image filters in float64 via scipy): the results agree to about
      1e-6 of the value range.
    * Differences from scikit-image: integer images give float32 responses (scikit-image returns the
      input's integer dtype, truncating negative and fractional values); multichannel images are accepted.
    * NaN spreads to every output pixel within the kernel's reach, as with scipy.ndimage.
    * A non-contiguous input is copied once.

    Examples
    --------
    >>> import numpy as np, segen
    >>> stripes = np.tile(np.sin(2 * np.pi * 0.2 * np.arange(32)), (32, 1)).astype(np.float32)
    >>> real, imag = segen.features.gabor(stripes, 0.2)                     # theta=0: vertical stripes
    >>> across, _ = segen.features.gabor(stripes, 0.2, theta=np.pi / 2)    # horizontal: no response
    >>> real.dtype, bool(np.hypot(real, imag)[16, 16] > 10 * np.abs(across[16, 16]))
    (dtype('float32'), True)
    """
    params = _gabor_params(frequency, theta, bandwidth, sigma_x, sigma_y, n_stds, offset)
    mode = check_mode(mode)
    cval = check_real(cval, "cval")
    arr, restore = check_image(image, channel_axis=channel_axis)
    check_fits_float32(cval, "cval", float_dtype_for(arr.dtype))  # 1e300 was an inf border
    real, imag = _core.gabor(arr, *params, mode, cval)
    return restore(real), restore(imag)


def _float_list(values, name: str, *, positive: bool, maximum: float | None = None) -> list[float]:
    if isinstance(values, numbers.Number) or (isinstance(values, np.ndarray) and values.ndim == 0):
        values = [values]
    try:
        items = list(values)
    except TypeError as exc:
        raise DTypeError(
            f"`{name}` must be a number or a sequence of numbers; got {type(values).__name__}"
        ) from exc
    if not items:
        raise InvalidArgumentError(f"`{name}` must not be empty")
    return [check_positive(v, name, maximum=maximum) if positive else check_real(v, name) for v in items]


def gabor_bank(
    image,
    frequencies,
    thetas,
    *,
    bandwidth=1,
    sigma_x=None,
    sigma_y=None,
    n_stds=3,
    smoothing=0.5,
    smoothing_truncate=3.0,
    mode="reflect",
    cval=0,
    channel_axis=-1,
) -> np.ndarray:
    """Smoothed Gabor magnitudes for every (frequency, theta) pair: per-pixel texture features.

    Feature ``k = i * len(thetas) + j`` is the magnitude ``|gabor(image, frequencies[i], thetas[j])|``
    smoothed by a Gaussian of standard deviation ``smoothing / frequencies[i]`` (``smoothing`` wavelengths),
    in the spirit of Jain & Farrokhnia's texture features [1]_, ready to be reshaped to ``(H * W, F)`` and
    clustered.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Grey image, or an RGB image which is first converted to luminance
        ``0.2125 R + 0.7154 G + 0.0721 B`` (in the input's own units).
    frequencies : float or sequence of float
        Frequencies in cycles per pixel (each in (0, 0.5]).
    thetas : float or sequence of float
        Orientations in radians (0 responds to vertical edges).
    bandwidth, sigma_x, sigma_y, n_stds : optional
        As for :func:`gabor_kernel`, shared by every filter of the bank.
    smoothing : float, optional
        Smoothing in wavelengths: the Gaussian's sigma is ``smoothing / frequency`` (>= 0; 0 disables the
        smoothing and returns the raw magnitudes).
    smoothing_truncate : float, optional
        The smoothing Gaussian is cut at this many sigmas (> 0; default 3). The radius,
        ``smoothing_truncate * smoothing / frequency``, may be at most 2**20 pixels.
    mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension of both the Gabor filtering and the smoothing.
    cval : float, optional
        Image value outside the borders for ``mode='constant'`` (the smoothing then pads with 0).
    channel_axis : int or None, optional
        Axis of a 3-D image holding the RGB channels (default -1).

    Returns
    -------
    features : (H, W, F) float32 ndarray
        ``F = len(frequencies) * len(thetas)``, frequency-major: ``features[..., i * len(thetas) + j]``
        belongs to ``(frequencies[i], thetas[j])``. Integer images are not rescaled.

    Raises
    ------
    ValueError
        If `image` is empty, 3-D without 3 channels, `frequencies` or `thetas` is empty, or a parameter is
        out of range.
    TypeError
        If `image` has a complex or non-numeric dtype.

    See Also
    --------
    gabor, gabor_kernel

    Notes
    -----
    Equal (to float32 rounding) to ``scipy.ndimage.gaussian_filter(np.hypot(*skimage.filters.gabor(image,
    f, theta, ...)), smoothing / f, mode=mode, truncate=smoothing_truncate)`` (``cval=0`` for the
    smoothing). Every filter is computed in float32; isotropic envelopes use the separable form.

    References
    ----------
    .. [1] A. K. Jain and F. Farrokhnia, "Unsupervised texture segmentation using Gabor filters",
           Pattern Recognition 24(12), 1991. :DOI:`10.1016/0031-3203(91)90143-S`

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.random.default_rng(0).random((64, 80)).astype(np.float32)
    >>> feats = segen.features.gabor_bank(img, [0.1, 0.2], np.arange(4) * np.pi / 4)
    >>> feats.shape, feats.dtype
    ((64, 80, 8), dtype('float32'))
    """
    freqs = _float_list(frequencies, "frequencies", positive=True, maximum=MAX_FREQUENCY)
    ths = _float_list(thetas, "thetas", positive=False)
    bw = check_positive(bandwidth, "bandwidth", maximum=MAX_BANDWIDTH)
    sx = _optional_sigma(sigma_x, "sigma_x")
    sy = _optional_sigma(sigma_y, "sigma_y")
    ns = check_positive(n_stds, "n_stds", allow_zero=True)
    sm = check_positive(smoothing, "smoothing", allow_zero=True)
    st = check_positive(smoothing_truncate, "smoothing_truncate")
    mode = check_mode(mode)
    cval = check_real(cval, "cval", minimum=-F32_MAX / 16, maximum=F32_MAX / 16)  # float32 features
    for f in freqs:
        # the smoothing Gaussian's sigma is smoothing / f: its radius must stay within the core's limit
        # (smoothing 1e300 overflowed the core's int radius and returned unsmoothed magnitudes; 2**31
        # asked for gigabytes)
        check_kernel_radius(sm / f, st, "`smoothing` / `frequencies` times `smoothing_truncate`")
        for t in ths:
            _check_kernel_size(f, t, bw, sx, sy, ns, "frequencies")
    arr, _ = check_image(image, channel_axis=channel_axis)
    if arr.ndim == 3:
        if arr.shape[2] != 3:
            raise InvalidArgumentError(
                f"`image` must be grey (H, W) or RGB with 3 channels; got {arr.shape[2]} channels"
            )
        work = np.float64 if arr.dtype == np.float64 else np.float32
        arr = np.ascontiguousarray(arr.astype(work, copy=False) @ np.asarray(LUMINANCE, dtype=work))
    if arr.dtype.kind == "f":
        # the features are float32: values past its range (1e300) were inf all over
        top = max(abs(float(np.fmax.reduce(arr, axis=None))), abs(float(np.fmin.reduce(arr, axis=None))))
        if math.isfinite(top) and top > F32_MAX / 16:
            raise InvalidArgumentError(
                f"`image` has values up to {top:.3g}: its Gabor magnitudes would overflow the float32 features "
                f"(at most about {F32_MAX / 16:.3g}); rescale it"
            )
    # the magnitudes square the responses: scale by a power of two when that could overflow (1e20 gave inf)
    arr, cval, scale = prescale_for_squares(arr, np.float32, cval)
    out = _core.gabor_bank(arr, freqs, ths, bw, sx, sy, ns, sm, st, mode, cval)
    if scale != 1.0:
        np.multiply(out, np.float32(scale), out=out)
    return out


def _check_mask(mask, shape) -> np.ndarray | None:
    if mask is None:
        return None
    m = as_array(mask, "mask")
    if m.dtype.kind not in "biu":
        raise DTypeError(f"`mask` must be a boolean (or integer 0/1) array; got dtype {m.dtype}")
    if m.shape != tuple(shape):
        raise InvalidArgumentError(f"`mask` must have shape {tuple(shape)}; got {m.shape}")
    return np.ascontiguousarray(m != 0 if m.dtype.kind != "b" else m)


def color_histogram(image, bins=(8, 4, 4), *, mask=None, normalize=True, channel_axis=-1) -> np.ndarray:
    """Histogram of the HSV colours of an RGB image.

    Hue, saturation and value are computed as ``skimage.color.rgb2hsv`` does (each in [0, 1]) and counted
    in equal-width bins, fused in one C++ pass (no HSV image is stored).

    Parameters
    ----------
    image : (H, W, 3) array_like
        RGB image. Integer images are scaled by 1 / dtype max; floats are expected in [0, 1].
    bins : int or (int, int, int), optional
        Number of bins for hue, saturation and value (each >= 1); an int uses it for all three.
    mask : (H, W) array_like of bool, optional
        Only pixels where `mask` is True are counted.
    normalize : bool, optional
        If True (default) the histogram is divided by the number of counted pixels so it sums to 1 (all
        zeros when no pixel is counted); otherwise it holds the counts.
    channel_axis : int, optional
        Axis of the RGB channels (default -1).

    Returns
    -------
    hist : (bins_h, bins_s, bins_v) float64 ndarray
        ``hist[i, j, k]`` is the (fraction of) pixels with hue in bin i, saturation in bin j and value in
        bin k; use ``hist.ravel()`` for a feature vector (hue-major).

    Raises
    ------
    ValueError
        If `image` is not (H, W, 3) along `channel_axis`, is empty, a bin count is < 1, or `mask` has
        another shape.
    TypeError
        If `image` or `mask` has an unsupported dtype, or `bins` is not an int / triple of ints.

    See Also
    --------
    segen.color.rgb2hsv

    Notes
    -----
    Bin ``i`` of ``n`` covers ``[i / n, (i + 1) / n)``, the last one also 1, which is ``np.histogramdd``'s
    rule with ``range=[(0, 1)] * 3``; the result equals ``np.histogramdd(rgb2hsv(image).reshape(-1, 3),
    bins, range=[(0, 1)] * 3)`` (then normalised) for images within [0, 1]. Differences: saturation and
    value outside [0, 1] (float images outside the convention) are counted in the first or last bin rather
    than dropped, and pixels with a NaN or infinite channel are not counted.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((2, 2, 3), np.uint8); img[0, 0] = (255, 0, 0)   # one pure red pixel, three black
    >>> h = segen.features.color_histogram(img, bins=2)
    >>> float(h[0, 1, 1]), float(h[0, 0, 0])
    (0.25, 0.75)
    """
    if isinstance(bins, numbers.Integral) and not isinstance(bins, (bool, np.bool_)):
        bins = (bins, bins, bins)
    try:
        items = list(bins)
    except TypeError as exc:
        raise DTypeError(f"`bins` must be an int or a sequence of three ints; got {bins!r}") from exc
    if len(items) != 3:
        raise InvalidArgumentError(
            f"`bins` must be an int or three ints (hue, saturation, value); got {bins!r}"
        )
    bh, bs, bv = (check_int(b, "bins", minimum=1) for b in items)
    check_allocation(8.0 * bh * bs * bv, f"a {bh} x {bs} x {bv} float64 histogram (`bins`)")
    arr, _ = check_image(image, channel_axis=channel_axis, channels=3)
    m = _check_mask(mask, arr.shape[:2])
    return _core.color_histogram(arr, bh, bs, bv, m, check_bool(normalize, "normalize"))


def _threshold(value, name: str, use_quantiles: bool) -> float:
    if value is None:
        return float("nan")
    v = check_real(value, name)
    if use_quantiles and not 0.0 <= v <= 1.0:
        raise InvalidArgumentError(f"`{name}` must be a quantile in [0, 1] when use_quantiles=True; got {v}")
    if not use_quantiles and v < 0:
        raise InvalidArgumentError(f"`{name}` must be >= 0; got {v}")
    return v


def canny(
    image,
    sigma=1.0,
    low_threshold=None,
    high_threshold=None,
    mask=None,
    use_quantiles=False,
    *,
    mode="constant",
    cval=0.0,
) -> np.ndarray:
    """Edge map of a grey image by the Canny algorithm, as ``skimage.feature.canny``.

    Steps: Gaussian smoothing (of the image scaled to [0, 1] by its dtype's maximum); 3x3 Sobel gradients;
    gradient magnitude; non-maximum suppression along the gradient with bilinear interpolation between
    neighbours; hysteresis: the 8-connected chains of pixels above `low_threshold` that contain a pixel
    above `high_threshold` are edges.

    Parameters
    ----------
    image : (H, W) array_like
        Grey image. Integer images are scaled by 1 / dtype max (as ``img_as_float``); floats are used as
        they are.
    sigma : float, optional
        Standard deviation of the Gaussian smoothing (>= 0; 0 = none; at most 262144, a kernel radius of
        2**20).
    low_threshold : float, optional
        Lower hysteresis threshold on the gradient magnitude, in the units of the image's dtype (e.g. 0..255
        for uint8). Default: 10% of the dtype's maximum (0.1 for floats).
    high_threshold : float, optional
        Upper hysteresis threshold; default 20% of the dtype's maximum.
    mask : (H, W) array_like of bool, optional
        Only pixels whose whole 3x3 neighbourhood is in the mask can be edges, and masked-out pixels do not
        leak into the smoothing.
    use_quantiles : bool, optional
        If True, the thresholds are quantiles in [0, 1] of the gradient magnitude image.
    mode : {'constant', 'reflect', 'mirror', 'nearest', 'wrap'}, optional
        Border handling of the smoothing (default 'constant', as scikit-image).
    cval : float, optional
        Value outside the image for ``mode='constant'``, in [0, 1]-scaled units.

    Returns
    -------
    edges : (H, W) bool ndarray
        True on edge pixels. Pixels on the image border are never edges.

    Raises
    ------
    ValueError
        If `image` is empty or not 2-D, `sigma` < 0, a threshold is negative (or outside [0, 1] with
        `use_quantiles`), `low_threshold` > `high_threshold`, `mask` has another shape, or `mode` is unknown.
    TypeError
        If `image` or `mask` has an unsupported dtype.

    See Also
    --------
    segen.filters.gaussian, segen.filters.sobel

    Notes
    -----
    The result is identical to scikit-image's, pixel for pixel, including the ties of synthetic images (a
    step edge exactly between two pixels, symmetric shapes): every step rounds as scikit-image does (the
    image scaled to [0, 1] in float64, or float32 for float32 images; scipy.ndimage's Gaussian and Sobel
    summation order; the float/double mix of its non-maximum suppression). Boolean images and integer
    dtypes other than uint8/uint16 are converted to float64 and scaled by their maximum (thresholds
    likewise), as ``img_as_float`` does. Pixels near NaN values are never edges. The hysteresis is a serial
    flood fill; the other steps run in parallel by blocks of rows.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((12, 12), np.float32); img[3:9, 3:9] = 1
    >>> edges = segen.features.canny(img, sigma=1)
    >>> edges.dtype, int(edges.sum()), bool(edges[3, 5]), bool(edges[5, 5])
    (dtype('bool'), 20, True, False)
    """
    sigma = check_positive(sigma, "sigma", allow_zero=True)
    check_kernel_radius(sigma, 4.0, "`sigma`")  # 2**31 asked for 128 GiB of weights
    use_quantiles = check_bool(use_quantiles, "use_quantiles")
    low = _threshold(low_threshold, "low_threshold", use_quantiles)
    high = _threshold(high_threshold, "high_threshold", use_quantiles)
    mode = check_mode(mode)
    cval = check_real(cval, "cval")
    arr = as_array(image, "image")
    if arr.dtype.kind == "b":  # scikit-image works on booleans in float64
        arr = arr.astype(np.float64)
    elif arr.dtype.kind in "iu" and arr.dtype not in (np.uint8, np.uint16):
        # img_as_float semantics: scale by the dtype's maximum; the thresholds are in the same units.
        imax = float(np.iinfo(arr.dtype).max)
        arr = np.maximum(arr.astype(np.float64) * (1.0 / imax), -1.0)
        if not use_quantiles:
            low, high = low / imax, high / imax
    arr, _ = check_image(arr, allow_channels=False)
    m = _check_mask(mask, arr.shape)
    dmax = float(np.iinfo(arr.dtype).max) if arr.dtype.kind == "u" else 1.0
    rel_low = 0.1 if math.isnan(low) else (low if use_quantiles else low / dmax)
    rel_high = 0.2 if math.isnan(high) else (high if use_quantiles else high / dmax)
    if rel_high < rel_low:
        shown_low = repr(low_threshold) if low_threshold is not None else f"{0.1 * dmax:g} (default)"
        shown_high = repr(high_threshold) if high_threshold is not None else f"{0.2 * dmax:g} (default)"
        raise InvalidArgumentError(
            f"`low_threshold` must be <= `high_threshold`; got {shown_low} > {shown_high}"
        )
    return _core.canny(arr, sigma, low, high, m, use_quantiles, mode, cval, _scipy_gaussian_weights(sigma))


def _scipy_gaussian_weights(sigma: float) -> list[float]:
    """scipy.ndimage's Gaussian weights (truncate 4), computed with numpy exactly as scipy does, so that the
    C++ core rounds like scikit-image (numpy's exp and pairwise sum can differ from libm's in the last bit)."""
    if sigma <= 1e-15:  # scipy.ndimage.gaussian_filter skips such axes
        return [1.0]
    radius = int(4.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2)
    return (phi / phi.sum()).tolist()


#: Methods of :func:`local_binary_pattern`.
LBP_METHODS = ("uniform", "default")


def local_binary_pattern(image, method="uniform", *, threshold=0.0) -> np.ndarray:
    """Local binary pattern codes (Ojala et al. 2002) of 8 neighbours at radius 1, as
    ``skimage.feature.local_binary_pattern(image, 8, 1, method)``.

    Each pixel compares its 8 neighbours on the circle of radius 1 with itself: bit p is set where
    neighbour p minus the centre is >= `threshold`. Neighbour p lies at the angle ``2 pi p / 8``
    counter-clockwise from the right (p = 0 is the pixel to the right, 2 the one above, 4 the left one, 6
    the one below); the diagonal ones are interpolated bilinearly.

    Parameters
    ----------
    image : (H, W) array_like
        Grey image (uint8, uint16, float32, float64; other real dtypes are converted as everywhere in
        segen).
    method : {'uniform', 'default'}, optional
        ``'uniform'`` (default): rotation-invariant uniform patterns, the number of set bits (0..8) where
        the circular pattern has at most two 0/1 transitions, else 9. ``'default'``: the raw pattern,
        ``sum(bit_p << p)`` (0..255).
    threshold : float, optional
        Contrast threshold in the image's units (e.g. 0..255 for uint8), finite and >= 0 (default 0, the
        classic pattern). A positive threshold keeps noise on flat areas from setting bits.

    Returns
    -------
    codes : (H, W) uint8 ndarray
        0..9 for ``'uniform'``, 0..255 for ``'default'``.

    Raises
    ------
    ValueError
        If `image` is empty or not 2-D, `method` is unknown, or `threshold` is negative or not finite.
    TypeError
        If `image` has an unsupported dtype or `threshold` is not a real number.

    See Also
    --------
    segen.segmentation.texture_segment : uses local histograms of the uniform codes.

    Notes
    -----
    Differences from scikit-image: pixels outside the image repeat the nearest edge pixel (scikit-image
    reads zeros there, so its codes on the 1-pixel border differ); every step runs in single precision,
    with the interpolated neighbours written as differences from the centre, so that a flat patch gives
    exactly 0 and sets every bit at threshold 0 (scikit-image interpolates the values themselves in double,
    at weights rounded to 5 decimals, so an interpolated neighbour equal to the centre may come out a hair
    below it, or above). Away from the border the codes at threshold 0 are scikit-image's but at such ties,
    where a diagonal neighbour equals the centre exactly (segen sets the bit, scikit-image either way): on
    ``skimage.data.camera()`` none in uint8, 0.33 % of the pixels in uint16 (x 257), 0.19 % in float32 and
    1.2 % in float64 (/ 255) with ``'uniform'`` (0, 0.44, 0.26, 1.5 % with ``'default'``). scikit-image
    has no threshold. NaN pixels are
    allowed: a comparison with NaN is false, so a NaN neighbour's bit is 0 (as are those of the diagonals
    interpolated from it) and a NaN pixel gets the pattern 0 (code 0). Parallel over rows; the result
    does not depend on the thread count.

    Examples
    --------
    >>> import numpy as np, segen
    >>> img = np.zeros((5, 5), np.uint8); img[2, 2] = 9
    >>> segen.features.local_binary_pattern(img)[1:4, 1:4]
    array([[8, 8, 8],
           [8, 0, 8],
           [8, 8, 8]], dtype=uint8)
    >>> segen.features.local_binary_pattern(img, "default", threshold=1)[2, 2]
    np.uint8(0)
    """
    method = check_choice(method, "method", LBP_METHODS)
    threshold = check_positive(threshold, "threshold", allow_zero=True)
    arr, _ = check_image(image, allow_channels=False)
    return _core.local_binary_pattern(arr, method, threshold)
