"""segen.data.ImageFolder: a generator's folder of images (sub-folders = classes), sized by a documented
resize + crop (checked against OpenCV's area resize), and every bad-data case."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pytest
from segen.data import ImageFolder
from segen.errors import DataError, DataWarning, InvalidArgumentError
from segen.io import imwrite


def _folder(root, classes=("a", "b"), n=3, shape=(40, 60), rgb=False, seed=0):
    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 256, shape + ((3,) if rgb else ()), dtype=np.uint8)
            imwrite(root / name / f"{i}.png", img)
    return root


def test_classes_labels_and_fingerprint(tmp_path):
    root = _folder(tmp_path / "d", classes=("zebra", "apple"), n=2)
    ds = ImageFolder(root, size=32, conditional=True)
    assert ds.classes == ("apple", "zebra") and len(ds) == 4
    np.testing.assert_array_equal(ds.labels, [0, 0, 1, 1])
    rel = ["apple/0.png", "apple/1.png", "zebra/0.png", "zebra/1.png"]
    assert ds.fingerprint() == {
        "file_count": 4,
        "sha256": hashlib.sha256("\n".join(rel).encode()).hexdigest(),
    }
    imwrite(root / "apple" / "2.png", np.zeros((40, 60), np.uint8))
    assert ImageFolder(root, size=32).fingerprint()["file_count"] == 5


def test_flat_folder_is_one_class(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(3):
        imwrite(root / f"{i}.png", np.full((32, 32), i, np.uint8))
    ds = ImageFolder(root, size=32)
    assert ds.classes == ("flat",) and ds.num_classes == 1 and len(ds) == 3


@pytest.mark.parametrize("shape", [(40, 60), (90, 50), (200, 200)])
def test_short_side_resize_then_centre_crop_matches_opencv(tmp_path, shape):
    cv2 = pytest.importorskip("cv2")
    root = _folder(tmp_path / "d", classes=("a",), n=1, shape=shape)
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)  # what _folder wrote
    got, label = ImageFolder(root, size=32).read(0)
    h, w = shape
    s = 32 / min(h, w)
    nh, nw = max(32, round(h * s)), max(32, round(w * s))
    ref = cv2.resize(img.astype(np.float32) / 255, (nw, nh), interpolation=cv2.INTER_AREA)
    r, c = (nh - 32) // 2, (nw - 32) // 2
    ref = np.round(ref[r : r + 32, c : c + 32] * 255)
    assert got.shape == (32, 32) and got.dtype == np.uint8 and label == 0
    assert np.abs(got.astype(int) - ref).max() <= 1


def test_random_crop_draws_windows_from_the_rng(tmp_path):
    root = _folder(tmp_path / "d", classes=("a",), n=1, shape=(32, 96))
    ds = ImageFolder(root, size=32, crop="random")
    crops = {ds.read(0, np.random.default_rng(s))[0].tobytes() for s in range(8)}
    assert len(crops) > 1
    a = ds.read(0, np.random.default_rng(3))[0]
    np.testing.assert_array_equal(a, ds.read(0, np.random.default_rng(3))[0])
    whole = ImageFolder(root, size=32)._prepared(0)
    assert any(np.array_equal(a, whole[:, c : c + 32]) for c in range(65))


def test_channels_inferred_and_converted(tmp_path):
    root = _folder(tmp_path / "rgb", classes=("a",), n=2, shape=(32, 32), rgb=True)
    ds = ImageFolder(root, size=32)
    assert ds.channels == 3 and ds.read(0)[0].shape == (32, 32, 3)
    grey, _ = ImageFolder(root, size=32, channels=1).read(0)
    rgb = ds.read(0)[0].astype(np.float64) / 255
    lum = rgb @ np.array([0.2125, 0.7154, 0.0721])  # segen's (and scikit-image's) luminance weights
    assert grey.shape == (32, 32) and np.abs(grey - np.round(lum * 255)).max() <= 1
    g = _folder(tmp_path / "grey", classes=("a",), n=1, shape=(32, 32))
    x = ImageFolder(g, size=32, channels=3).read(0)[0]
    assert x.shape == (32, 32, 3) and (x[..., 0] == x[..., 2]).all()


def test_sixteen_bit_and_alpha_images(tmp_path):
    root = tmp_path / "d" / "a"
    root.mkdir(parents=True)
    imwrite(root / "deep.png", np.full((32, 32), 65535, np.uint16))
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 1] = 200
    imwrite(root / "alpha.png", rgba)
    ds = ImageFolder(tmp_path / "d", size=32, channels=3)
    images, _ = ds.batch(range(2))
    assert images.shape == (2, 32, 32, 3)
    assert (images[0, ..., 1] == 200).all() and (images[0, ..., 0] == 0).all()  # alpha.png first
    assert (images[1] == 255).all()  # 16 bit scaled by 65535


def test_batch_stacks_images_and_labels(tmp_path):
    ds = ImageFolder(_folder(tmp_path / "d"), size=32)
    images, labels = ds.batch([0, 5, 3])
    assert images.shape == (3, 32, 32) and labels.tolist() == [0, 1, 1]


def test_cache_keeps_memory_bounded(tmp_path):
    ds = ImageFolder(_folder(tmp_path / "d", n=5, shape=(64, 64)), size=32, cache_mb=0.002)
    ds.batch(range(10))
    assert ds._cache_bytes <= 2000 and len(ds._cache) <= 1
    ds0 = ImageFolder(tmp_path / "d", size=32, cache_mb=0)
    np.testing.assert_array_equal(ds0.batch(range(10))[0], ds.batch(range(10))[0])


# ---- bad data ----------------------------------------------------------------------------------------------


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        ImageFolder(tmp_path / "nope", size=32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image found"):
        ImageFolder(tmp_path / "empty", size=32)
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.warns(DataWarning, match="notes.txt"), pytest.raises(DataError, match="no image found"):
        ImageFolder(tmp_path / "empty", size=32)


def test_conditional_needs_two_classes(tmp_path):
    root = _folder(tmp_path / "d", classes=("only",))
    with pytest.raises(DataError, match="at least two classes.*only"):
        ImageFolder(root, size=32, conditional=True)
    assert len(ImageFolder(root, size=32)) == 3  # fine for an unconditional model


def test_empty_class_and_stray_files_are_warnings(tmp_path):
    root = _folder(tmp_path / "d")
    (root / "c").mkdir()
    imwrite(root / "stray.png", np.zeros((8, 8), np.uint8))
    (root / "a" / "readme.md").write_text("x")
    with pytest.warns(DataWarning) as rec:
        ds = ImageFolder(root, size=32, conditional=True)
    text = " | ".join(str(w.message) for w in rec)
    assert "without images left out: c" in text
    assert "1 image(s) directly in the folder left out" in text
    assert "a/readme.md" in text
    assert ds.classes == ("a", "b") and len(ds) == 6


def test_unreadable_file_stops_or_is_skipped_and_counted(tmp_path):
    root = _folder(tmp_path / "d")
    bad = root / "b" / "1.png"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated
    (root / "a" / "2.png").write_bytes(b"not an image at all")
    ds = ImageFolder(root, size=32)
    with pytest.raises(DataError, match=r"2\.png: unreadable.*skip_bad"):
        ds.batch(range(len(ds)))
    ds = ImageFolder(root, size=32, skip_bad=True)
    with pytest.warns(DataWarning, match="unreadable, skipped"):
        images, labels = ds.batch(range(len(ds)))
    assert len(images) == 4 and labels.tolist() == [0, 0, 1, 1]
    assert sorted(ds.skipped) == ["a/2.png", "b/1.png"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a skipped file is not read (nor warned about) again
        assert ds.read(2) is None and len(ds.batch(range(len(ds)))[0]) == 4
    before = bad.read_bytes()
    assert bad.read_bytes() == before  # nothing the user gave is modified


def test_small_images_are_enlarged_with_a_warning(tmp_path):
    root = _folder(tmp_path / "d", classes=("a",), n=2, shape=(8, 12))
    ds = ImageFolder(root, size=32)
    with pytest.warns(DataWarning, match="smaller than size 32"):
        images, _ = ds.batch([0, 1])
    assert images.shape == (2, 32, 32) and ds.upsampled == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size": 48}, "size"),
        ({"size": True}, "size"),
        ({"size": 32, "channels": 2}, "channels"),
        ({"size": 32, "crop": "corner"}, "crop"),
        ({"size": 32, "cache_mb": -1}, "cache_mb"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    root = _folder(tmp_path / "d")
    with pytest.raises(InvalidArgumentError, match=match):
        ImageFolder(root, **kwargs)
    with pytest.raises(InvalidArgumentError, match="`i`"):
        ImageFolder(root, size=32).read(6)
