"""Colour conversions: RGB to grey, HSV and CIE Lab (C++ core: ``segen/color.hpp``).

All functions follow scikit-image's definitions (``skimage.color``) and agree with it to 1e-5 of the
output range. Conventions shared by every function here:

* the image is ``(H, W, 3)`` (or 3 channels along `channel_axis`); a 2-D image or another channel count is
  an error;
* integer images are scaled to [0, 1] first, as ``skimage.util.img_as_float`` does: ``uint8`` by 1/255,
  ``uint16`` by 1/65535; ``bool`` counts as 0/1. Other integer dtypes are refused, since their scale is
  ambiguous; float images are used as they are (not clipped);
* the output is ``float64`` for ``float64`` input and ``float32`` for everything else (scikit-image returns
  ``float64`` for integer input);
* ``out=`` takes a preallocated C-contiguous result array (channels last, the output dtype) that is filled
  in place and returned. Converting many frames of one size into the same `out` spares the system mapping
  and zeroing a fresh buffer on every call, which for a 2048 x 2048 image costs about as much as the
  conversion itself.
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._shared.docs import fill_doc
from ._shared.validation import as_array, check_image
from .errors import DTypeError, InvalidArgumentError

__all__ = ["rgb2gray", "rgb2hsv", "hsv2rgb", "rgb2lab"]

_ILLUMINANTS = ("A", "B", "C", "D50", "D55", "D65", "D75", "E")
_OBSERVERS = ("2", "10")


def _check_out(out, channel_axis):
    """`out` must come with the channels last: the layout the core writes."""
    if out is not None and channel_axis is not None and channel_axis % 3 != 2:
        raise InvalidArgumentError(
            f"`out` needs channel_axis=-1 (channels last); got channel_axis={channel_axis}"
        )


def _prepare(image, channel_axis):
    """Validate a 3-channel colour image; return (C-contiguous (H, W, 3) array, restore)."""
    arr = as_array(image, "image")
    dt = arr.dtype
    if dt.kind == "b":
        arr = arr.astype(np.float32)
    elif dt.kind in "iu" and dt not in (np.dtype(np.uint8), np.dtype(np.uint16)):
        raise DTypeError(
            f"`image` must be uint8, uint16, bool or floating point (integers are scaled by their dtype's "
            f"maximum); got {dt}: convert it to float in [0, 1] first"
        )
    return check_image(arr, channel_axis=channel_axis, channels=3)


@fill_doc
def rgb2gray(image, *, channel_axis: int | None = -1, out: np.ndarray | None = None) -> np.ndarray:
    """Compute the luminance of an RGB image.

    Parameters
    ----------
    image : (H, W, 3) ndarray
        RGB image (3 channels along `channel_axis`). Integer images are scaled to [0, 1].
    %(rgb_channel_axis)s
    out : ndarray, optional
        Preallocated result (C-contiguous, the result's shape with channels last and its dtype, not
        overlapping `image`), filled and returned.

    Returns
    -------
    gray : (H, W) ndarray
        ``Y = 0.2125 R + 0.7154 G + 0.0721 B``; ``float64`` for ``float64`` input, else ``float32``.

    Raises
    ------
    ValueError
        If `image` is empty, not 3-D, or does not have 3 channels (RGBA included).
    TypeError
        If `image` has a complex, signed-integer or other unsupported dtype.

    See Also
    --------
    skimage.color.rgb2gray : The reference definition.

    Notes
    -----
    The weights are scikit-image's (ITU-R BT.709 luma on linear values, as Poynton gives them). Like
    scikit-image 0.26, an RGBA image is refused rather than silently blended: drop or blend the alpha
    channel first (e.g. ``image[..., :3]``). NaN propagates to the output pixel.

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.color.rgb2gray(np.array([[[255, 255, 255], [255, 0, 0]]], dtype=np.uint8))
    array([[1.    , 0.2125]], dtype=float32)
    """
    arr, _ = _prepare(image, channel_axis)
    return _core.rgb2gray(arr, out)


@fill_doc
def rgb2hsv(image, *, channel_axis: int | None = -1, out: np.ndarray | None = None) -> np.ndarray:
    """Convert an RGB image to HSV.

    Parameters
    ----------
    image : (H, W, 3) ndarray
        RGB image (3 channels along `channel_axis`). Integer images are scaled to [0, 1].
    %(rgb_channel_axis)s
    %(rgb_out)s

    Returns
    -------
    hsv : (H, W, 3) ndarray
        Hue, saturation and value, each in [0, 1] for input in [0, 1] (hue is the angle divided by 360°),
        with the channels on `channel_axis`; ``float64`` for ``float64`` input, else ``float32``.

    Raises
    ------
    %(rgb_raises)s

    See Also
    --------
    hsv2rgb, skimage.color.rgb2hsv

    Notes
    -----
    Grey pixels (max = min) get H = S = 0. When two channels tie for the maximum, blue wins over green
    over red, as in scikit-image. A pixel with NaN in any channel becomes (0, 0, 0) (scikit-image sets S
    and V to 0 there and leaves H undefined); other NaN results, e.g. from infinities, are set to 0 as
    scikit-image does.

    ``cv2.cvtColor(..., COLOR_RGB2HSV)`` differs in scale: for uint8 it returns H in [0, 180) and S, V in
    [0, 255], and for float32 H in degrees.

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.color.rgb2hsv(np.array([[[0.0, 0.5, 1.0]]]))
    array([[[0.58333333, 1.        , 1.        ]]])
    """
    _check_out(out, channel_axis)
    arr, restore = _prepare(image, channel_axis)
    return restore(_core.rgb2hsv(arr, out))


@fill_doc
def hsv2rgb(image, *, channel_axis: int | None = -1, out: np.ndarray | None = None) -> np.ndarray:
    """Convert an HSV image to RGB (the inverse of :func:`rgb2hsv`).

    Parameters
    ----------
    image : (H, W, 3) ndarray
        HSV image with all three in [0, 1] (3 channels along `channel_axis`). Integer images are scaled
        to [0, 1], hue included.
    %(rgb_channel_axis)s
    %(rgb_out)s

    Returns
    -------
    rgb : (H, W, 3) ndarray
        RGB image, channels on `channel_axis`; ``float64`` for ``float64`` input, else ``float32``.

    Raises
    ------
    %(rgb_raises)s

    See Also
    --------
    rgb2hsv, skimage.color.hsv2rgb

    Notes
    -----
    The hue is periodic: H and H + 1 give the same colour, for negative hues too (scikit-image agrees for
    0 <= H < 42, and gives platform-dependent results for negative hues). A pixel with NaN in any channel
    gives NaN in all three outputs. Samples far outside [0, 1] are clamped to +-2**60 (float32 work) or
    +-2**500 (float64) first, so that finite input gives finite output (``V * S`` would overflow, and
    ``inf - inf`` is NaN).

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.color.hsv2rgb(np.array([[[0.5, 1.0, 1.0]]]))
    array([[[0., 1., 1.]]])
    """
    _check_out(out, channel_axis)
    arr, restore = _prepare(image, channel_axis)
    return restore(_core.hsv2rgb(arr, out))


@fill_doc
def rgb2lab(
    image,
    illuminant: str = "D65",
    observer: str = "2",
    *,
    channel_axis: int | None = -1,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Convert an sRGB image to CIE L*a*b*.

    Parameters
    ----------
    image : (H, W, 3) ndarray
        sRGB image (3 channels along `channel_axis`). Integer images are scaled to [0, 1].
    illuminant : {"A", "B", "C", "D50", "D55", "D65", "D75", "E"}, optional
        The reference white (case-insensitive); default "D65".
    observer : {"2", "10"}, optional
        The CIE observer angle in degrees; default "2".
    %(rgb_channel_axis)s
    %(rgb_out)s

    Returns
    -------
    lab : (H, W, 3) ndarray
        L in [0, 100], a and b roughly in [-128, 128], channels on `channel_axis`; ``float64`` for
        ``float64`` input, else ``float32``.

    Raises
    ------
    ValueError
        If `image` is empty, not 3-D, or does not have 3 channels, or `illuminant`/`observer` is unknown.
    TypeError
        If `image` has a complex, signed-integer or other unsupported dtype.

    See Also
    --------
    skimage.color.rgb2lab, skimage.color.xyz_tristimulus_values

    Notes
    -----
    The conversion is scikit-image's: inverse sRGB companding, the sRGB-to-XYZ matrix, division by the
    white point, then the CIE cube-root function (with scikit-image's constants 0.008856 and 7.787). It is
    computed in double precision and rounded once to the output dtype, so float32 results carry float32
    rounding only (for float32 input the companding power is refined to about 1e-9 relative, not to
    double precision, which adds at most about 2e-9 to a and b): against scikit-image they agree to about 1e-6 of the L range (0..100) when scikit-image
    computes in float64 (integer input), and to about 2e-6 of it for float32 input, where scikit-image
    itself computes in float32 (a and b amplify its rounding by 500 and 200). The 'R' observer of
    scikit-image is not supported.

    A pixel with NaN or an infinity in any channel gives NaN in all three outputs (scikit-image gives
    ``inf`` for L of an infinite input). Finite inputs far outside [0, 1] (above about 1e12) are not
    supported.

    Examples
    --------
    >>> import numpy as np, segen
    >>> segen.color.rgb2lab(np.array([[[1.0, 0.0, 0.0]]])).round(2)
    array([[[53.24, 80.09, 67.2 ]]])
    """
    if not isinstance(illuminant, str) or illuminant.upper() not in _ILLUMINANTS:
        raise InvalidArgumentError(
            f"`illuminant` must be one of {', '.join(map(repr, _ILLUMINANTS))}; got {illuminant!r}"
        )
    if isinstance(observer, (int, np.integer)) and not isinstance(observer, (bool, np.bool_)):
        observer = str(observer)
    if not isinstance(observer, str) or observer not in _OBSERVERS:
        raise InvalidArgumentError(f"`observer` must be '2' or '10'; got {observer!r}")
    _check_out(out, channel_axis)
    arr, restore = _prepare(image, channel_axis)
    return restore(_core.rgb2lab(arr, illuminant.upper(), observer, out))
