import numpy as np
import pytest
import segen
from helpers import num_threads
from scipy import ndimage as ndi

edt = segen.segmentation.distance_transform_edt


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (23, 1), (37, 53), (64, 300)])
@pytest.mark.parametrize("density", [0.01, 0.3, 0.9])
@pytest.mark.parametrize("sampling", [None, 2.0, (1.0, 1.0), (0.7, 1.9)])
def test_edt_matches_scipy_random(rng, shape, density, sampling):
    mask = rng.random(shape) > density
    mask.flat[0] = False  # at least one background pixel
    got = edt(mask, sampling=sampling)
    want = ndi.distance_transform_edt(mask, sampling=sampling)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_edt_matches_scipy_on_photo(camera):
    mask = camera > 100
    np.testing.assert_allclose(edt(mask), ndi.distance_transform_edt(mask), rtol=0, atol=1e-5)
    want = ndi.distance_transform_edt(mask, sampling=(0.5, 1.5))
    np.testing.assert_allclose(edt(mask, sampling=(0.5, 1.5)), want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int32, np.float32, np.float64])
def test_edt_mask_dtypes(rng, dtype):
    mask = (rng.random((30, 40)) > 0.2).astype(dtype) * 3
    np.testing.assert_allclose(edt(mask), ndi.distance_transform_edt(mask), atol=1e-5)


def test_edt_non_contiguous_and_input_untouched(rng):
    base = rng.random((60, 80)) > 0.1
    view = base[::2, ::3]
    copy = base.copy()
    np.testing.assert_allclose(edt(view), ndi.distance_transform_edt(view), atol=1e-5)
    np.testing.assert_array_equal(base, copy)


def test_edt_without_background_is_inf():
    assert np.isinf(edt(np.ones((4, 5), bool))).all()


def test_edt_all_background_is_zero():
    assert (edt(np.zeros((4, 5), bool)) == 0).all()


def test_edt_threads_equal(rng):
    mask = rng.random((257, 301)) > 0.05
    with num_threads(1):
        a = edt(mask, sampling=(1.3, 0.4))
    with num_threads(2):
        b = edt(mask, sampling=(1.3, 0.4))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "mask, kwargs, exc, match",
    [
        (np.zeros((0, 4)), {}, ValueError, "non-empty"),
        (np.zeros(5), {}, ValueError, "2-D"),
        (np.zeros((3, 3, 3)), {}, ValueError, "2-D"),
        (np.zeros((4, 4), complex), {}, TypeError, "mask"),
        (np.zeros((4, 4)), {"sampling": 0}, ValueError, "sampling"),
        (np.zeros((4, 4)), {"sampling": (1.0, -1.0)}, ValueError, "sampling"),
        (np.zeros((4, 4)), {"sampling": (1.0, 1.0, 1.0)}, ValueError, "sampling"),
    ],
)
def test_edt_bad_input(mask, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        edt(mask, **kwargs)
