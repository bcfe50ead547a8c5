"""segen.data.SegmentationFolder: a user's images + masks on disk (layouts, splits, bad data)."""

from __future__ import annotations

import hashlib
import json
import pathlib
import warnings

import numpy as np
import pytest
from segen.data import IGNORE_INDEX, SegmentationFolder, to_float
from segen.errors import DataError, DataWarning
from segen.io import imwrite
from skimage.color import rgb2gray as sk_rgb2gray
from skimage.util import img_as_float32


def _write_set(root: pathlib.Path, n: int = 20, *, size=(12, 16), k: int = 3, rgb=False, seed=0, stems=None):
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    truth = {}
    for i in range(n):
        stem = stems[i] if stems else f"img{i:03d}"
        shape = (*size, 3) if rgb else size
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        mask = (np.arange(size[1])[None, :] * k // size[1] + np.zeros(size, int)).astype(np.uint8)
        mask = np.roll(mask, i, axis=1)
        imwrite(root / "images" / f"{stem}.png", img)
        imwrite(root / "masks" / f"{stem}.png", mask)
        truth[stem] = (img, mask)
    return truth


def _tree_digest(root: pathlib.Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(p.relative_to(root).as_posix().encode())
        if p.is_file():
            h.update(p.read_bytes())
            h.update(str(p.stat().st_mtime_ns).encode())
    return h.hexdigest()


def test_seeded_split_is_recorded_deterministic_and_reads_back(tmp_path):
    truth = _write_set(tmp_path, 20)
    before = _tree_digest(tmp_path)
    ds = SegmentationFolder(tmp_path, seed=3, val_fraction=0.2, test_fraction=0.1)
    sizes = {s: len(ds.files(s)) for s in ("train", "val", "test")}
    assert sizes == {"train": 14, "val": 4, "test": 2}
    rec = ds.split_record()
    assert rec["layout"] == "seeded" and rec["seed"] == 3
    names = rec["train"] + rec["val"] + rec["test"]
    assert sorted(names) == sorted(f"images/{s}.png" for s in truth)  # disjoint and complete
    again = SegmentationFolder(tmp_path, seed=3, val_fraction=0.2, test_fraction=0.1)
    assert again.split_record() == rec
    other = SegmentationFolder(tmp_path, seed=4, val_fraction=0.2, test_fraction=0.1)
    assert other.split_record()["val"] != rec["val"]
    # reading gives the pixels written, mask as int32
    val = SegmentationFolder(tmp_path, split="val", seed=3, val_fraction=0.2, test_fraction=0.1)
    got = list(val)
    assert len(got) == 4
    for (img, mask), (ipath, _) in zip(got, val.files()):
        ref_img, ref_mask = truth[ipath.stem]
        np.testing.assert_array_equal(img, ref_img)
        np.testing.assert_array_equal(mask, ref_mask)
        assert mask.dtype == np.int32
    assert ds.num_classes == 3 and ds.classes == ("class0", "class1", "class2")
    assert ds.ignore_index == IGNORE_INDEX == 255
    assert _tree_digest(tmp_path) == before  # nothing modified


def test_fingerprint_counts_files_and_hashes_the_sorted_list(tmp_path):
    _write_set(tmp_path, 6)
    fp = SegmentationFolder(tmp_path).fingerprint()
    rel = sorted([f"images/img{i:03d}.png" for i in range(6)] + [f"masks/img{i:03d}.png" for i in range(6)])
    assert fp == {"file_count": 12, "sha256": hashlib.sha256("\n".join(rel).encode()).hexdigest()}
    assert SegmentationFolder(tmp_path, seed=9).fingerprint() == fp  # the split does not change it
    _write_set(tmp_path, 7)
    assert SegmentationFolder(tmp_path).fingerprint()["file_count"] == 14


def test_split_folders_and_a_missing_val_carved_from_train(tmp_path):
    _write_set(tmp_path / "train", 10, stems=[f"t{i}" for i in range(10)])
    _write_set(tmp_path / "test", 3, stems=[f"x{i}" for i in range(3)])
    ds = SegmentationFolder(tmp_path, val_fraction=0.2, seed=1)
    assert ds.split_record()["layout"] == "folders+seeded"
    assert len(ds.files("val")) == 2 and len(ds.files("train")) == 8
    assert [p.parent.parent.name for p, _ in ds.files("test")] == ["test"] * 3
    assert not {p for p, _ in ds.files("val")} & {p for p, _ in ds.files("train")}
    _write_set(tmp_path / "val", 2, stems=["v0", "v1"])
    ds = SegmentationFolder(tmp_path)
    assert ds.split_record()["layout"] == "folders"
    assert [len(ds.files(s)) for s in ("train", "val", "test")] == [10, 2, 3]


def test_classes_json_names_and_colour_masks(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    colours = [[0, 0, 0], [255, 0, 0], [0, 128, 255]]
    (tmp_path / "classes.json").write_text(
        json.dumps({"classes": [{"name": n, "colour": c} for n, c in zip(["bg", "cell", "edge"], colours)]})
    )
    labels = np.random.default_rng(0).integers(0, 3, (6, 7))
    imwrite(tmp_path / "images" / "a.png", np.zeros((6, 7), np.uint8))
    imwrite(tmp_path / "masks" / "a.png", np.array(colours, np.uint8)[labels])
    ds = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0)
    assert ds.classes == ("bg", "cell", "edge") and ds.colours[1] == (255, 0, 0)
    np.testing.assert_array_equal(ds.read(0)[1], labels)
    bad = np.array(colours, np.uint8)[labels]
    bad[2, 3] = (1, 2, 3)
    imwrite(tmp_path / "masks" / "a.png", bad)
    with pytest.raises(DataError, match=r"a\.png.*colour \(1, 2, 3\) at \(row 2, col 3\)"):
        ds.read(0)
    with pytest.raises(DataError, match="num_classes"):
        SegmentationFolder(tmp_path, num_classes=4)
    (tmp_path / "classes.json").write_text("[1, 2")
    with pytest.raises(DataError, match="classes.json: not valid JSON"):
        SegmentationFolder(tmp_path)


def test_rgb_mask_without_colours_is_refused(tmp_path):
    _write_set(tmp_path, 1)
    imwrite(tmp_path / "masks" / "img000.png", np.zeros((12, 16, 3), np.uint8))
    with pytest.raises(DataError, match=r"img000\.png: the mask has 3 channels"):
        SegmentationFolder(tmp_path).read(0)


def test_missing_mask_names_the_file_or_is_skipped(tmp_path):
    _write_set(tmp_path, 5)
    (tmp_path / "masks" / "img002.png").unlink()
    with pytest.raises(DataError, match=r"no mask for 1 image\(s\): img002\.png"):
        SegmentationFolder(tmp_path)
    with pytest.warns(DataWarning, match="img002.png"):
        ds = SegmentationFolder(tmp_path, skip_bad=True)
    assert len(ds) == 4 and ds.skipped == [(str(tmp_path / "images" / "img002.png"), "no mask")]


def test_mask_without_image_and_stray_files_warn(tmp_path):
    _write_set(tmp_path, 4)
    imwrite(tmp_path / "masks" / "lonely.png", np.zeros((12, 16), np.uint8))
    (tmp_path / "images" / "notes.txt").write_text("x")
    (tmp_path / "images" / ".DS_Store").write_text("x")
    with pytest.warns(DataWarning) as rec:
        ds = SegmentationFolder(tmp_path)
    text = " ".join(str(w.message) for w in rec)
    assert "lonely.png" in text and "notes.txt" in text and ".DS_Store" not in text
    assert len(ds) == 4


def test_duplicate_stem_is_refused(tmp_path):
    _write_set(tmp_path, 2)
    imwrite(tmp_path / "images" / "img000.jpg", np.zeros((12, 16), np.uint8))
    with pytest.raises(DataError, match="two files with the stem 'img000'"):
        SegmentationFolder(tmp_path)


def test_size_mismatch_names_both_files(tmp_path):
    _write_set(tmp_path, 3)
    imwrite(tmp_path / "masks" / "img001.png", np.zeros((12, 15), np.uint8))
    ds = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0)
    with pytest.raises(DataError, match=r"img001\.png: mask is 12x15 but its image img001\.png is 12x16"):
        list(ds)


def test_mask_values_beyond_classes(tmp_path):
    _write_set(tmp_path, 3, k=3)
    m = np.zeros((12, 16), np.uint8)
    m[0, 0], m[0, 1], m[1, 1] = 255, 7, 4
    imwrite(tmp_path / "masks" / "img002.png", m)
    ds = SegmentationFolder(tmp_path, num_classes=3)
    with pytest.raises(DataError, match=r"img002\.png: mask values 4, 7 are beyond the 3 classes"):
        ds.scan()
    m[0, 1] = m[1, 1] = 2  # 255 alone is fine
    imwrite(tmp_path / "masks" / "img002.png", m)
    scan = SegmentationFolder(tmp_path, num_classes=3, val_fraction=0, test_fraction=0).scan()
    assert scan.ignored["train"] == 1


def test_empty_folder_and_missing_subfolders(tmp_path):
    with pytest.raises(DataError, match="images/ and masks/"):
        SegmentationFolder(tmp_path / "nope")
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match="masks: missing"):
        SegmentationFolder(tmp_path)
    (tmp_path / "masks").mkdir()
    with pytest.raises(DataError, match="no image with a mask"):
        SegmentationFolder(tmp_path)


def test_truncated_file_stops_or_is_skipped_with_a_count(tmp_path):
    _write_set(tmp_path, 6)
    path = tmp_path / "images" / "img004.png"
    path.write_bytes(path.read_bytes()[:60])
    ds = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0)
    with pytest.raises(DataError, match=r"img004\.png: unreadable"):
        list(ds)
    ds = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0, skip_bad=True)
    with pytest.warns(DataWarning, match=r"img004\.png"):
        got = list(ds)
    assert len(got) == 5 and len(ds.skipped) == 1 and "img004" in ds.skipped[0][0]
    mpath = tmp_path / "masks" / "img001.png"
    mpath.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(DataError, match=r"img001\.png: unreadable"):
        SegmentationFolder(tmp_path).scan()
    ds = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0, skip_bad=True)
    with pytest.warns(DataWarning, match=r"img001\.png"):
        ds.scan()
    assert len(ds.files("train")) == 5  # the bad mask's pair is left out of training


def test_class_absent_from_validation_warns_and_counts_match_numpy(tmp_path):
    truth = _write_set(tmp_path, 12, k=3)
    ds = SegmentationFolder(tmp_path, seed=0, val_fraction=0.25, test_fraction=0)
    for img, _ in ds.files("val"):
        imwrite(tmp_path / "masks" / img.name, np.zeros((12, 16), np.uint8))
    with pytest.warns(DataWarning, match="class1, class2 absent from the validation split"):
        scan = SegmentationFolder(tmp_path, seed=0, val_fraction=0.25, test_fraction=0, num_classes=3).scan()
    ref = sum(np.bincount(truth[p.stem][1].ravel(), minlength=3) for p, _ in ds.files("train"))
    np.testing.assert_array_equal(scan.pixels["train"], ref)
    np.testing.assert_array_equal(scan.pixels["val"], [12 * 16 * 3, 0, 0])
    freq = ref / ref.sum()
    np.testing.assert_allclose(scan.class_weights("train", power=1.0), np.median(freq) / freq, rtol=1e-6)
    w = scan.class_weights("val")
    assert w[0] == 1.0 and w[1] == w[2] == 0.0


def test_grey_rgb_and_16_bit_images(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    rgb = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    grey16 = rng.integers(0, 65536, (8, 9), dtype=np.uint16)
    rgba = rng.integers(0, 256, (8, 9, 4), dtype=np.uint8)
    for name, img in (("a", rgb), ("b", grey16), ("c", rgba)):
        imwrite(tmp_path / "images" / f"{name}.png", img)
        imwrite(tmp_path / "masks" / f"{name}.png", np.zeros((8, 9), np.uint8))
    ds = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0)
    assert ds.channels == 3  # the first image is RGB
    a, b, c = (ds.read(i)[0] for i in range(3))
    np.testing.assert_array_equal(a, rgb)
    assert b.dtype == np.uint16 and b.shape == (8, 9, 3)
    np.testing.assert_array_equal(b[..., 1], grey16)
    np.testing.assert_array_equal(c, rgba[..., :3])
    grey = SegmentationFolder(tmp_path, val_fraction=0, test_fraction=0, channels=1)
    np.testing.assert_allclose(grey.read(0)[0], sk_rgb2gray(rgb), atol=1e-6)
    np.testing.assert_array_equal(grey.read(1)[0], grey16)
    np.testing.assert_allclose(to_float(grey16), img_as_float32(grey16), atol=1e-7)
    np.testing.assert_allclose(to_float(rgb), img_as_float32(rgb), atol=1e-7)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`split`"):
        SegmentationFolder(".", split="training")
    with pytest.raises(ValueError, match="`val_fraction` \\+ `test_fraction`"):
        SegmentationFolder(".", val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="`channels`"):
        SegmentationFolder(".", channels=2)


def test_no_warning_on_a_clean_folder(tmp_path):
    _write_set(tmp_path, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = SegmentationFolder(tmp_path)
        ds.scan()
        list(ds)
