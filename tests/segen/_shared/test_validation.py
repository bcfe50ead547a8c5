"""segen._shared.validation: the checks every public function runs on what a user passes.

Errors name the parameter in backticks; bools are refused where numbers are expected; the dtype policy maps
every real dtype to one of the core's four (and copies only when it must)."""

from __future__ import annotations

import fractions
import math

import numpy as np
import pytest
from segen._shared.validation import (
    BORDER_MODES,
    CORE_DTYPES,
    as_array,
    as_core_dtype,
    check_image,
    check_int,
    check_mode,
    check_positive,
    check_real,
    check_seed,
    float_dtype_for,
)
from segen.errors import DTypeError, InvalidArgumentError

# ---- numbers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int8(3), np.uint64(3), np.int64(3)])
def test_check_int_accepts_integers_and_returns_python_int(value):
    got = check_int(value, "n")
    assert got == 3 and type(got) is int


@pytest.mark.parametrize(
    "value", [True, False, np.bool_(True), 3.0, np.float32(3), "3", None, fractions.Fraction(3)]
)
def test_check_int_refuses_non_integers_and_bools(value):
    with pytest.raises(DTypeError, match=r"^`count` must be an int; got "):
        check_int(value, "count")


def test_check_int_minimum():
    assert check_int(2, "n", minimum=2) == 2
    assert check_int(-5, "n") == -5  # no minimum: any int
    with pytest.raises(InvalidArgumentError, match=r"^`steps` must be >= 2; got 1$"):
        check_int(1, "steps", minimum=2)
    with pytest.raises(InvalidArgumentError, match="`k` must be >= 0; got -1"):
        check_int(np.int16(-1), "k", minimum=0)


@pytest.mark.parametrize(
    "value, want", [(2, 2.0), (0.5, 0.5), (np.float32(0.25), 0.25), (fractions.Fraction(1, 4), 0.25)]
)
def test_check_real_returns_python_float(value, want):
    got = check_real(value, "sigma")
    assert got == want and type(got) is float


@pytest.mark.parametrize("value", [True, np.bool_(False), "1.0", None, 1j, [1.0], np.array([1.0])])
def test_check_real_refuses_non_reals_and_bools(value):
    with pytest.raises(DTypeError, match=r"^`sigma` must be a real number; got "):
        check_real(value, "sigma")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_check_real_finite(value):
    with pytest.raises(InvalidArgumentError, match="`cval` must be finite"):
        check_real(value, "cval")
    assert check_real(value, "cval", finite=False) is not None  # allowed when asked
    assert math.isnan(check_real(value, "x", finite=False)) == math.isnan(value)


def test_check_positive():
    assert check_positive(0.5, "sigma") == 0.5
    assert check_positive(0, "smooth", allow_zero=True) == 0.0
    with pytest.raises(InvalidArgumentError, match=r"^`sigma` must be > 0; got 0$"):
        check_positive(0, "sigma")
    with pytest.raises(InvalidArgumentError, match=r"^`smooth` must be >= 0; got -0.5$"):
        check_positive(-0.5, "smooth", allow_zero=True)
    with pytest.raises(DTypeError, match="`sigma` must be a real number; got bool"):
        check_positive(True, "sigma")
    with pytest.raises(InvalidArgumentError, match="`sigma` must be finite"):
        check_positive(math.inf, "sigma")


# ---- seeds -------------------------------------------------------------------------------------------------


def test_check_seed_ints_give_numpy_default_rng():
    for seed in (0, 7, np.int64(7), 2**40):
        want = np.random.default_rng(int(seed)).random(4)
        np.testing.assert_array_equal(check_seed(seed).random(4), want)


def test_check_seed_generator_is_used_as_is_and_none_is_fresh():
    g = np.random.default_rng(3)
    assert check_seed(g) is g
    a, b = check_seed(None), check_seed(None)
    assert isinstance(a, np.random.Generator) and a is not b
    assert not np.array_equal(a.random(8), b.random(8))  # fresh entropy each time


@pytest.mark.parametrize(
    "seed, match",
    [
        (-1, "`seed_a` must be >= 0; got -1"),
        (True, "got bool True"),
        (np.bool_(False), "got bool"),
        (1.0, "got float 1.0"),
        ("3", "got str '3'"),
        ([1, 2], "got list"),
        (np.random.RandomState(0), "legacy RandomState"),
    ],
)
def test_check_seed_refuses_the_rest_naming_the_parameter(seed, match):
    with pytest.raises(InvalidArgumentError, match=match) as info:
        check_seed(seed, "seed_a")
    assert str(info.value).startswith("`seed_a` must be")


# ---- modes -------------------------------------------------------------------------------------------------


def test_check_mode_is_scipy_ndimage_names():
    assert BORDER_MODES == ("reflect", "mirror", "nearest", "constant", "wrap")
    for mode in BORDER_MODES:
        assert check_mode(mode) == mode
    for bad in ("Reflect", "reflect101", "symmetric", "", None, 0):
        with pytest.raises(InvalidArgumentError, match=r"^`mode` must be one of 'reflect', 'mirror'"):
            check_mode(bad)


# ---- arrays and images -------------------------------------------------------------------------------------


def test_as_array_does_not_copy_arrays_and_converts_lists():
    a = np.zeros((2, 2), np.uint16)
    assert as_array(a, "x") is a
    np.testing.assert_array_equal(as_array([[1, 2]], "x"), np.array([[1, 2]]))
    assert as_array([True, False], "mask").dtype == np.bool_


@pytest.mark.parametrize(
    "value", [np.zeros(3, complex), np.array(["a"]), np.array([object()]), [[1, 2], [3]], "abc"]
)
def test_as_array_refuses_non_numbers(value):
    with pytest.raises(DTypeError, match="^`weights` must be a"):
        as_array(value, "weights")


@pytest.mark.parametrize(
    "dtype, want",
    # the core's dtypes stay; narrower ones become float32, wider ones float64
    [(t, t) for t in (np.uint8, np.uint16, np.float32, np.float64)]
    + [(t, np.float32) for t in (np.bool_, np.int8, np.int16, np.float16)]
    + [(t, np.float64) for t in (np.int32, np.uint32, np.int64, np.uint64, np.longdouble)],
)
def test_dtype_policy(dtype, want):
    a = np.array([[0, 1], [2, 3]]).astype(dtype)
    out = as_core_dtype(a, "image")
    assert out.dtype == want and out.dtype in CORE_DTYPES
    np.testing.assert_array_equal(out, a.astype(np.float64))  # values kept (all exact here)
    assert (out is a) == (np.dtype(dtype) == np.dtype(want))  # a copy only when converting


def test_float_dtype_for():
    assert float_dtype_for(np.float64) == np.float64
    for dt in (np.uint8, np.uint16, np.float32, np.int64, np.bool_):
        assert float_dtype_for(dt) == np.float32


def test_check_image_passes_contiguous_core_images_through():
    for shape in ((4, 5), (4, 5, 3)):
        img = np.zeros(shape, np.float32)
        arr, restore = check_image(img)
        assert arr is img
        out = np.ones(shape, np.float32)
        assert restore(out) is out


def test_check_image_copies_a_view_once_and_never_writes_the_input():
    base = np.arange(60, dtype=np.uint8).reshape(6, 10)
    view = base[::2, ::3]
    arr, _ = check_image(view)
    assert arr.flags.c_contiguous and not np.shares_memory(arr, base)
    np.testing.assert_array_equal(arr, view)
    np.testing.assert_array_equal(base, np.arange(60, dtype=np.uint8).reshape(6, 10))


def test_check_image_channel_axis_moves_channels_last_and_restore_moves_them_back():
    img = np.arange(3 * 4 * 5, dtype=np.float64).reshape(3, 4, 5)  # channels first
    arr, restore = check_image(img, channel_axis=0)
    assert arr.shape == (4, 5, 3) and arr.flags.c_contiguous
    np.testing.assert_array_equal(arr[..., 1], img[1])
    np.testing.assert_array_equal(restore(arr), img)
    grey = np.zeros((4, 5))
    assert restore(grey) is grey  # results without a channel axis pass through
    arr, restore = check_image(img, channel_axis=-2)  # (3, 4, 5): channels are the 4
    assert arr.shape == (3, 5, 4)
    np.testing.assert_array_equal(restore(arr), img)
    arr2, _ = check_image(np.zeros((4, 5)), channel_axis=None)  # 2-D is grey whatever the axis says
    assert arr2.shape == (4, 5)


@pytest.mark.parametrize(
    "image, kwargs, exc, match",
    [
        (
            np.zeros(5),
            {},
            InvalidArgumentError,
            r"`img` must be 2-D \(H, W\) or 3-D \(H, W, C\); got shape \(5,\)",
        ),
        (np.zeros((2, 2, 2, 2)), {}, InvalidArgumentError, "got shape \\(2, 2, 2, 2\\)"),
        (np.zeros((0, 5)), {}, InvalidArgumentError, "`img` must be non-empty; got shape \\(0, 5\\)"),
        (
            np.zeros((4, 4, 3)),
            {"allow_channels": False},
            InvalidArgumentError,
            r"`img` must be 2-D \(H, W\);",
        ),
        (np.zeros((4, 4, 3)), {"channel_axis": None}, InvalidArgumentError, "`channel_axis` is None"),
        (
            np.zeros((4, 4, 3)),
            {"channel_axis": 3},
            InvalidArgumentError,
            r"`channel_axis` must be an int in \[-3, 2\]",
        ),
        (np.zeros((4, 4, 3)), {"channel_axis": 1.0}, InvalidArgumentError, "`channel_axis` must be an int"),
        (
            np.zeros((4, 4, 4)),
            {"channels": 3},
            InvalidArgumentError,
            "`img` must have 3 channels .*got 4 channels",
        ),
        (np.zeros((4, 4)), {"channels": 3}, InvalidArgumentError, "got no channel axis"),
        (np.zeros((4, 4), complex), {}, DTypeError, "`img` must be a real numeric array"),
    ],
)
def test_check_image_errors_name_the_parameter(image, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        check_image(image, "img", **kwargs)


def test_check_image_convert():
    ints = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert check_image(ints)[0].dtype == np.float64
    kept, _ = check_image(ints, convert=False)
    assert kept.dtype == np.int32 and kept is ints
