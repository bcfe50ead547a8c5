"""segen.datasets: determinism from the seed, label/class consistency, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from segen import data as datasets
from segen.errors import InvalidArgumentError


def test_shapes_layout_and_dtypes():
    d = datasets.shapes(5, size=(32, 48), seed=1)
    assert d.images.shape == (5, 32, 48, 3) and d.images.dtype == np.uint8
    assert d.labels.shape == (5, 32, 48) and d.labels.dtype == np.int32
    assert d.classes == datasets.SHAPE_CLASSES and len(d) == 5
    assert d.labels.min() >= 0 and d.labels.max() < len(d.classes)


def test_shapes_deterministic_and_prefix_stable():
    a = datasets.shapes(6, size=32, seed=7)
    b = datasets.shapes(6, size=32, seed=7)
    c = datasets.shapes(3, size=32, seed=7)
    d = datasets.shapes(6, size=32, seed=8)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.images[:3], c.images)  # image i depends on (seed, i) only
    assert not np.array_equal(a.labels, d.labels)


def test_shapes_all_classes_appear_and_match_pixels():
    d = datasets.shapes(60, size=48, seed=0, noise=0.0)
    assert set(np.unique(d.labels)) == set(range(len(datasets.SHAPE_CLASSES)))
    # without noise every shape is one flat colour: pixels of one connected class region share it, and
    # the background carries no shape label where the image equals its background ramp
    for img, lab in zip(d.images[:10], d.labels[:10]):
        for k in np.unique(lab[lab > 0]):
            assert (lab == k).sum() > 0
        assert (lab > 0).any()


def test_shape_geometry_circle_area():
    # a ring covers 3/4 of its disc: compare the class areas of single big shapes to the formulas
    from segen.data.shapes import _shape_mask

    rr, cc = np.mgrid[0:200, 0:200].astype(np.float32)
    circle = _shape_mask(1, rr, cc, 100, 100, 50, 0.3).sum()
    square = _shape_mask(2, rr, cc, 100, 100, 50, 0.3).sum()
    tri = _shape_mask(3, rr, cc, 100, 100, 50, 0.3).sum()
    ring = _shape_mask(4, rr, cc, 100, 100, 50, 0.3).sum()
    assert abs(circle - np.pi * 2500) / (np.pi * 2500) < 0.01
    assert abs(square - 2 * 2500) / 5000 < 0.02
    assert abs(tri - 3 * np.sqrt(3) / 4 * 2500) / (3 * np.sqrt(3) / 4 * 2500) < 0.02
    assert abs(ring - 0.75 * np.pi * 2500) / (0.75 * np.pi * 2500) < 0.02


def test_textures_layout_determinism_and_classes():
    pytest.importorskip("skimage")
    a = datasets.textures(4, size=32, seed=3)
    b = datasets.textures(4, size=32, seed=3)
    assert a.images.shape == (4, 32, 32) and a.images.dtype == np.uint8
    assert a.labels.dtype == np.int32 and a.classes == datasets.TEXTURES
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    for lab in a.labels:
        assert len(np.unique(lab)) >= 2  # at least two textures per mosaic
        assert lab.min() >= 0 and lab.max() < len(a.classes)


def test_textures_pixels_come_from_the_photographs_split():
    pytest.importorskip("skimage")
    from segen.data.textures import _region, _texture_photo

    d = datasets.textures(2, size=24, seed=5, noise=0.0, textures=("brick", "grass"), regions=(2, 2))
    for split, data in (
        ("train", d),
        (
            "test",
            datasets.textures(
                2, size=24, seed=5, noise=0.0, textures=("brick", "grass"), regions=(2, 2), split="test"
            ),
        ),
    ):
        for img, lab in zip(data.images, data.labels):
            for k, name in enumerate(("brick", "grass")):
                vals = set(np.unique(img[lab == k]).tolist())
                region = _region(_texture_photo(name, 2), split)
                allowed = set(np.unique((np.clip(region, 0, 1) * 255 + 0.5).astype(np.uint8)).tolist())
                assert vals <= allowed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n"),
        ({"n": 1, "size": 8}, "size"),
        ({"n": 1, "size": "big"}, "size"),
        ({"n": 1, "seed": -1}, "seed"),
        ({"n": 1, "seed": 1.5}, "seed"),
        ({"n": 1, "max_shapes": 0}, "max_shapes"),
        ({"n": 1, "radius": (5, 2)}, "radius"),
        ({"n": 1, "noise": -0.1}, "noise"),
    ],
)
def test_shapes_errors(kwargs, match):
    with pytest.raises((InvalidArgumentError, TypeError), match=match):
        datasets.shapes(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "val"}, "split"),
        ({"textures": ("brick",)}, "textures"),
        ({"textures": ("brick", "no_such_photo")}, "textures"),
        ({"regions": (1, 3)}, "regions"),
        ({"size": 200, "split": "test"}, "size"),
        ({"scale": 0}, "scale"),
    ],
)
def test_textures_errors(kwargs, match):
    pytest.importorskip("skimage")
    with pytest.raises(InvalidArgumentError, match=match):
        datasets.textures(1, **kwargs)


# ---- digits ------------------------------------------------------------------------------------------------


def test_digits_split_is_fixed_disjoint_and_stratified():
    from sklearn.datasets import load_digits

    train, test = datasets.digits("train", size=8), datasets.digits("test", size=8)
    assert (len(train), len(test)) == (1438, 359)
    assert train.classes == tuple("0123456789")
    # every image of the data set is in exactly one split
    raw = np.clip(np.round(load_digits().images / 16.0 * 255), 0, 255).astype(np.uint8)
    keys = lambda a: {im.tobytes() for im in a}  # noqa: E731
    assert keys(train.images) | keys(test.images) == keys(raw)
    # no scan of the held-out set appears in the training set (duplicates in the raw data are 0)
    assert not keys(train.images) & keys(test.images)
    counts = np.bincount(test.labels, minlength=10) / np.bincount(load_digits().target, minlength=10)
    np.testing.assert_allclose(counts, 0.2, atol=0.02)
    again = datasets.digits("test", size=8)
    np.testing.assert_array_equal(again.images, test.images)


def test_digits_sizes_and_all():
    small = datasets.digits("test", size=8)
    big = datasets.digits("test", size=16)
    assert big.images.shape == (359, 16, 16) and big.images.dtype == np.uint8
    np.testing.assert_array_equal(big.labels, small.labels)
    # the up-sampled image keeps the scan's mean brightness (bilinear, edge-replicating)
    np.testing.assert_allclose(big.images.mean((1, 2)), small.images.mean((1, 2)), atol=3)
    assert datasets.digits("test", size=32).images.shape == (359, 32, 32)
    both = datasets.digits("all")
    assert len(both) == 1797
    np.testing.assert_array_equal(both.images[1438:], big.images)


@pytest.mark.parametrize(
    "kw, match", [({"split": "val"}, "split"), ({"size": 12}, "size"), ({"size": True}, "size")]
)
def test_digits_bad_arguments(kw, match):
    with pytest.raises(InvalidArgumentError, match=match):
        datasets.digits(**kw)
