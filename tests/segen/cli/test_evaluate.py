"""segen evaluate, models by path and the user model folders (issue 11)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from segen.cli import cli
from segen.errors import ModelError
from tiny_models import make_generator_model, make_segmenter_model


def _folder(root, n=6, seed=0, size=(20, 24)):
    """Images whose grey level tells the class (2 classes, a noisy boundary) and their masks; 255 ignored."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        mask = (rng.random(size) < 0.4).astype(np.uint8)
        img = np.clip(mask * 0.5 + 0.25 + rng.normal(0, 0.2, size), 0, 1)
        mask[0, :3] = 255
        segen.io.imwrite(root / "images" / f"im{i}.png", (img * 255).astype(np.uint8))
        segen.io.imwrite(root / "masks" / f"im{i}.png", mask)
    return root


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _reference(pairs, predict, k, hungarian):
    """Confusion matrix by counting, with a brute-force best permutation per image when `hungarian`."""
    total = np.zeros((k, k), np.int64)
    for img, truth in pairs:
        pred = predict(img)
        keep = truth != 255
        t, p = truth[keep].astype(int), pred[keep].astype(int)
        if hungarian:  # the labels present, each given a distinct class: the assignment keeping most pixels
            labels = np.unique(p)
            lut = np.zeros(p.max() + 1, int)

            def right(perm):
                lut[labels] = perm
                return (lut[p] == t).sum()

            lut[labels] = max(itertools.permutations(range(k), len(labels)), key=right)
            p = lut[p]
        for a, b in zip(t, p):
            total[a, b] += 1
    return total


@pytest.mark.parametrize(
    "model, options, hungarian", [("threshold", ["-p", "level=0.5"], False), ("kmeans", ["-p", "k=2"], True)]
)
def test_evaluate_equals_a_numpy_reference(tmp_path, model, options, hungarian):
    data = _folder(tmp_path / "d")
    out = tmp_path / "scores.json"
    r = _run(
        "evaluate",
        "-m",
        model,
        *options,
        "--data",
        data,
        "--json",
        out,
        "--picture",
        tmp_path / "cm.png",
        "--no-progress",
    )
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text())
    seg = segen.get_segmenter(
        model,
        **dict(o.split("=") for o in options[1::2]) | ({"k": 2} if model == "kmeans" else {"level": 0.5}),
    )
    pairs = [
        (segen.io.imread(data / "images" / f"im{i}.png"), segen.io.imread(data / "masks" / f"im{i}.png"))
        for i in range(6)
    ]
    ref = _reference(pairs, seg.segment, 2, hungarian)
    cm = np.asarray(got["confusion_matrix"])[:, :2]
    np.testing.assert_array_equal(cm, ref)
    tp = np.diag(ref)
    iou = tp / (ref.sum(0) + ref.sum(1) - tp)
    np.testing.assert_allclose(got["iou"], iou, rtol=1e-12)
    assert got["mean_iou"] == pytest.approx(iou.mean())
    assert got["pixel_accuracy"] == pytest.approx(tp.sum() / ref.sum())
    assert got["images"] == 6 and len(got["per_image"]) == 6 and got["split"] == "all"
    assert ("hungarian" in got["matching"]) == hungarian
    assert segen.io.imread(tmp_path / "cm.png").ndim == 3
    assert "mean IoU" in r.output


def test_evaluate_instances_uses_object_scores(tmp_path):
    root = tmp_path / "inst"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    img = np.zeros((40, 40), np.uint8)
    truth = np.zeros((40, 40), np.uint8)
    for i, (r, c) in enumerate([(5, 5), (5, 25), (25, 10)], start=1):
        img[r : r + 10, c : c + 10] = 200
        truth[r : r + 10, c : c + 10] = i
    segen.io.imwrite(root / "images" / "a.png", img)
    segen.io.imwrite(root / "masks" / "a.png", truth)
    out = tmp_path / "s.json"
    r = _run("evaluate", "-m", "watershed", "--data", root, "--instances", "--json", out, "--no-progress")
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text())
    pred = segen.get_segmenter("watershed").segment(img)
    want = segen.metrics.instance_scores(pred, truth.astype(np.int64), 0.5)["ap"]
    assert got["ap50"] == pytest.approx(want) and "AP@0.5" in r.output


def test_evaluate_bad_input(tmp_path):
    data = _folder(tmp_path / "d")
    r = CliRunner().invoke(cli, ["evaluate", "-m", "no-such-model", "--data", str(data)])
    assert r.exit_code == 2 and "no-such-model" in r.output
    r = CliRunner().invoke(cli, ["evaluate", "-m", "otsu", "--data", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "does not exist" in r.output
    # labels beyond the data set's classes, compared as they are: one clear error naming the image
    r = CliRunner().invoke(
        cli, ["evaluate", "-m", "kmeans", "-p", "k=4", "--match", "none", "--data", str(data)]
    )
    assert r.exit_code == 1 and "data set has 2 classes" in r.output and "im" in r.output


def test_a_model_file_loads_by_its_path(tmp_path):
    path = make_segmenter_model(tmp_path, "mine")
    seg = segen.get_segmenter(str(path))
    img = np.linspace(0, 1, 16 * 16, dtype=np.float32).reshape(16, 16)
    np.testing.assert_array_equal(seg.segment(img), (img > 0.5).astype(np.int32))
    gen = segen.get_generator(make_generator_model(tmp_path, "g"))
    assert gen.generate(3, seed=0).shape[0] == 3
    with pytest.raises(ModelError, match="not a segmenter"):
        segen.get_segmenter(tmp_path / "g.onnx")
    with pytest.raises(ModelError, match="not found"):
        segen.get_segmenter(tmp_path / "nothing.onnx")
    (tmp_path / "lonely.onnx").write_bytes(path.read_bytes())
    with pytest.raises(ModelError, match="no sidecar"):
        segen.get_segmenter(tmp_path / "lonely.onnx")
    r = _run(
        "segment",
        tmp_path / "img.png"
        if segen.io.imwrite(tmp_path / "img.png", (img * 255).astype(np.uint8)) is None
        else "",
        "-m",
        path,
        "-o",
        tmp_path / "o",
    )
    assert r.exit_code == 0 and (tmp_path / "o" / "img_labels.png").exists()


def test_user_model_folder_lists_and_loads_its_models(user_model_dir):
    make_segmenter_model(user_model_dir, "my-seg")
    make_generator_model(user_model_dir, "my-gen")
    (user_model_dir / "broken.onnx").write_bytes(b"x")
    (user_model_dir / "broken.json").write_text("{not json")
    with pytest.warns(segen.SegenPluginWarning, match="broken"):
        segs, gens = segen.list_segmenters(), segen.list_generators()
    assert "my-seg" in segs and "user model" in segs["my-seg"] and "broken" not in segs
    assert "my-gen" in gens
    img = np.full((16, 16), 0.9, np.float32)
    assert (segen.get_segmenter("my-seg").segment(img) == 1).all()
    r = _run("list")
    assert "my-seg" in r.output and "user-models" in r.output
    # the sha256 check of shipped models applies: a changed file is refused
    (user_model_dir / "my-seg.onnx").write_bytes((user_model_dir / "my-seg.onnx").read_bytes() + b"\0")
    with pytest.raises(ModelError):
        segen.get_segmenter("my-seg").segment(img)
