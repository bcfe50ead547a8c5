"""segen.features.local_binary_pattern: against scikit-image, a numpy reference, thresholds, threads, bad inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import segen
from helpers import DTYPES, num_threads
from segen.errors import DTypeError, InvalidArgumentError

lbp = segen.features.local_binary_pattern


def _camera(dtype) -> np.ndarray:
    from skimage.data import camera

    img = camera()
    if dtype == np.uint16:
        return img.astype(np.uint16) * np.uint16(257)
    if np.dtype(dtype).kind == "f":
        return (img / 255.0).astype(dtype)
    return img


def _numpy_patterns(img: np.ndarray, threshold: float) -> np.ndarray:
    """The 8-bit patterns as texture_segment computed them in numpy (float32, edges replicated)."""
    h, w = img.shape
    a = np.pad(img.astype(np.float32), 1, mode="edge")
    c = a[1:-1, 1:-1]

    def d(dy, dx):
        return a[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] - c

    s = np.float32(np.sqrt(0.5))
    q = np.float32(1) - s

    def diag(dy, dx):
        return (s * q) * (d(dy, 0) + d(0, dx)) + (s * s) * d(dy, dx)

    t = np.float32(threshold)
    ring = [d(0, 1), diag(-1, 1), d(-1, 0), diag(-1, -1), d(0, -1), diag(1, -1), d(1, 0), diag(1, 1)]
    out = np.zeros((h, w), np.uint8)
    for p, v in enumerate(ring):
        out |= (v >= t).astype(np.uint8) << np.uint8(p)
    return out


def _uniform(patterns: np.ndarray) -> np.ndarray:
    bits = (patterns[..., None] >> np.arange(8, dtype=np.uint8)) & 1
    flips = (bits != np.roll(bits, -1, axis=-1)).sum(-1)
    return np.where(flips <= 2, bits.sum(-1), 9).astype(np.uint8)


#: fraction of camera's inner pixels whose codes differ from scikit-image's, measured (uniform, default)
_NEAR_TIES = {
    np.uint8: (0.0, 0.0),
    np.uint16: (0.0033, 0.0044),
    np.float32: (0.0019, 0.0026),
    np.float64: (0.0121, 0.0149),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["uniform", "default"])
def test_matches_scikit_image_away_from_the_border(dtype, method):
    from skimage.feature import local_binary_pattern

    img = _camera(dtype)
    ours = lbp(img, method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-image warns about float images
        theirs = local_binary_pattern(img, 8, 1, method).astype(np.uint8)
    assert ours.dtype == np.uint8 and ours.shape == img.shape
    assert ours.max() <= (9 if method == "uniform" else 255)
    differ = (ours[1:-1, 1:-1] != theirs[1:-1, 1:-1]).mean()
    assert differ <= _NEAR_TIES[dtype][method == "default"] + 1e-4
    if method == "default":
        # every differing bit is a diagonal neighbour that ties exactly with the centre (its two axis
        # neighbours' differences cancel and the corner equals the centre): segen sets the bit, scikit-image's
        # interpolation (in double, at weights rounded to 5 decimals) leaves a last-bit residue of either sign
        cam = _camera(np.uint8).astype(np.int64)
        h, w = cam.shape
        a = np.pad(cam, 1, mode="edge")

        def d(dy, dx):
            return (a[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] - cam)[1:-1, 1:-1]

        diff = (ours ^ theirs)[1:-1, 1:-1]
        assert not (diff & 0b01010101).any()  # the axis neighbours always agree
        for p, (dy, dx) in {1: (-1, 1), 3: (-1, -1), 5: (1, -1), 7: (1, 1)}.items():
            tie = (d(dy, 0) + d(0, dx) == 0) & (d(dy, dx) == 0)
            assert not ((diff >> p) & 1).astype(bool)[~tie].any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threshold", [0.0, 0.05, 0.2])
def test_equals_the_numpy_reference_bit_for_bit(dtype, threshold):
    img = _camera(dtype)
    scale = {np.uint8: 255, np.uint16: 65535}.get(dtype, 1)
    t = threshold * scale
    patterns = _numpy_patterns(img, t)
    np.testing.assert_array_equal(lbp(img, "default", threshold=t), patterns)
    np.testing.assert_array_equal(lbp(img, "uniform", threshold=t), _uniform(patterns))


def test_threshold_flat_and_spots():
    flat = np.full((5, 6), 0.5, np.float32)
    assert (lbp(flat) == 8).all() and (lbp(flat, threshold=0.2) == 0).all()
    assert (lbp(flat, "default") == 255).all()
    spot = np.zeros((3, 3), np.float32)
    spot[1, 1] = 1
    assert lbp(spot)[1, 1] == 0
    assert lbp(1 - spot)[1, 1] == 8
    assert lbp(1 - 0.1 * spot, threshold=0.2)[1, 1] == 0
    # one brighter neighbour to the right: bit 0, and the two diagonals beside it at a low threshold
    right = np.zeros((3, 3), np.uint8)
    right[1, 2] = 100
    assert lbp(right, "default", threshold=1)[1, 1] == 0b10000011
    assert lbp(right, "default", threshold=50)[1, 1] == 0b00000001
    assert lbp(right, threshold=50)[1, 1] == 1
    # two opposite bright neighbours: four transitions, not uniform
    cross = np.zeros((3, 3), np.uint8)
    cross[1, 0] = cross[1, 2] = 100
    assert lbp(cross, threshold=50)[1, 1] == 9


def test_small_images_and_nan():
    assert lbp(np.ones((1, 1), np.uint8)).tolist() == [[8]]
    assert lbp(np.arange(5, dtype=np.float64)[None, :], "default").shape == (1, 5)
    img = np.zeros((5, 5), np.float32)
    img[2, 2] = np.nan
    codes = lbp(img, "default")
    assert codes[2, 2] == 0  # a NaN centre: every comparison is false
    # its left neighbour: the bit toward the NaN (p = 0) and the diagonals interpolated from it (1, 7) are 0
    assert codes[2, 1] == 0b01111100
    assert codes[1, 1] == 255 & ~(1 << 7)  # up-left of it: the diagonal interpolated from the NaN is 0
    assert codes[0, 0] == 255


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_give_identical_codes(dtype):
    img = np.tile(_camera(dtype), (2, 1))
    with num_threads(1):
        one = lbp(img, threshold=0.01 if np.dtype(dtype).kind == "f" else 3)
    with num_threads(2):
        two = lbp(img, threshold=0.01 if np.dtype(dtype).kind == "f" else 3)
    np.testing.assert_array_equal(one, two)


def test_other_dtypes_are_converted():
    img = _camera(np.uint8)
    np.testing.assert_array_equal(lbp(img.astype(np.int16)), lbp(img))
    np.testing.assert_array_equal(lbp(img > 128), lbp((img > 128).astype(np.float32)))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"method": "ror"}, InvalidArgumentError, "method"),
        ({"method": 1}, InvalidArgumentError, "method"),
        ({"threshold": -1}, InvalidArgumentError, "threshold"),
        ({"threshold": np.nan}, InvalidArgumentError, "threshold"),
        ({"threshold": np.inf}, InvalidArgumentError, "threshold"),
        ({"threshold": "0"}, DTypeError, "threshold"),
    ],
)
def test_bad_parameters(kwargs, error, name):
    with pytest.raises(error, match=name):
        lbp(np.zeros((4, 4), np.uint8), **kwargs)
    assert issubclass(InvalidArgumentError, ValueError) and issubclass(DTypeError, TypeError)


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((4, 4, 3), np.uint8), InvalidArgumentError),
        (np.zeros(4, np.uint8), InvalidArgumentError),
        (np.zeros((0, 4), np.uint8), InvalidArgumentError),
        (np.zeros((4, 4), np.complex64), DTypeError),
    ],
)
def test_bad_images(image, error):
    with pytest.raises(error, match="image"):
        lbp(image)
