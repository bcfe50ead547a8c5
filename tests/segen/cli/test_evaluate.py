"""segen evaluate, models by path and the user model folders (issue 11)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from segen.cli import cli, main
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


def _majority_reference(pairs, predict, k):
    """Confusion matrix with each image's labels given the class most of their scored pixels have."""
    total = np.zeros((k, k), np.int64)
    for img, truth in pairs:
        pred = predict(img)
        keep = truth != 255
        t, p = truth[keep].astype(int), pred[keep].astype(int)
        for lab in np.unique(p):
            np.add.at(total[:, np.bincount(t[p == lab], minlength=k).argmax()], t[p == lab], 1)
    return total


def _reference(pairs, predict, k, hungarian):
    """Confusion matrix by counting (a (K, K + 1) one when `hungarian`: the last column counts labels left
    without a class), with a brute-force best assignment of labels to distinct classes per image."""
    total = np.zeros((k, k + hungarian), np.int64)
    for img, truth in pairs:
        pred = predict(img)
        keep = truth != 255
        t, p = truth[keep].astype(int), pred[keep].astype(int)
        if hungarian:  # each label present a distinct class or none (k): the assignment keeping most pixels
            labels = np.unique(pred)
            lut = np.zeros(pred.max() + 1, int)

            def right(choice):
                lut[labels] = choice
                return (lut[p] == t).sum()

            choices = [
                c
                for c in itertools.product(range(k + 1), repeat=len(labels))
                if len([x for x in c if x < k]) == len({x for x in c if x < k}) == min(k, len(labels))
            ]
            lut[labels] = max(choices, key=right)
            p = lut[p]
        for a, b in zip(t, p):
            total[a, b] += 1
    return total


def _scores(cm):
    """IoU, Dice and pixel accuracy of a reference matrix, written out from their definitions."""
    k = cm.shape[0]
    tp = np.diag(cm[:, :k]).astype(float)
    fn = cm.sum(1) - tp
    fp = cm[:, :k].sum(0) - tp
    return tp / (tp + fp + fn), 2 * tp / (2 * tp + fp + fn), tp.sum() / cm.sum()


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
    np.testing.assert_array_equal(got["confusion_matrix"], ref)
    iou, dice, acc = _scores(ref)
    np.testing.assert_allclose(got["iou"], iou, rtol=1e-12)
    np.testing.assert_allclose(got["dice"], dice, rtol=1e-12)
    assert got["mean_iou"] == pytest.approx(iou.mean())
    assert got["pixel_accuracy"] == pytest.approx(acc)
    assert got["images"] == 6 and len(got["per_image"]) == 6 and got["split"] == "all"
    first = _reference(pairs[:1], seg.segment, 2, hungarian)  # per-image rows: that image's own scores
    assert got["per_image"][0]["pixel_accuracy"] == pytest.approx(_scores(first)[2])
    assert got["data_fingerprint"] == segen.data.SegmentationFolder(data).fingerprint()
    assert got["data_fingerprint"]["file_count"] == 12 and got["model"] == model
    assert ("hungarian" in got["matching"]) == hungarian
    assert segen.io.imread(tmp_path / "cm.png").ndim == 3
    assert "mean IoU" in r.output


def test_evaluate_more_clusters_than_classes_counts_the_rest_wrong(tmp_path):
    data = _folder(tmp_path / "d", n=3)
    out = tmp_path / "s.json"
    r = _run("evaluate", "-m", "kmeans", "-p", "k=3", "--data", data, "--json", out, "--no-progress")
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text())
    seg = segen.get_segmenter("kmeans", k=3)
    pairs = [segen.data.SegmentationFolder(data).read(i) for i in range(3)]
    ref = _reference(pairs, seg.segment, 2, True)
    np.testing.assert_array_equal(got["confusion_matrix"], ref)
    assert ref[:, 2].sum() > 0 and got["unmatched_pixels"] == ref[:, 2].sum()
    iou, _, acc = _scores(ref)
    np.testing.assert_allclose(got["iou"], iou, rtol=1e-12)
    assert got["pixel_accuracy"] == pytest.approx(acc) and "matched to no class" in r.output


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


def _evaluated(data, out, model_arg, *options, **model_options):
    """Run `segen evaluate -m model_arg *options` into the JSON `out`: (its JSON, the folder's (image,
    mask) pairs, the segmenter made with `model_options`)."""
    r = _run("evaluate", "-m", model_arg, *options, "--data", data, "--json", out, "--no-progress")
    assert r.exit_code == 0, r.output
    folder = segen.data.SegmentationFolder(data)
    pairs = [folder.read(i) for i in range(len(folder))]
    return json.loads(out.read_text()), pairs, segen.get_segmenter(model_arg, **model_options)


def _check_model_file_scores(data, model_arg, out):
    """`segen evaluate -m model_arg` against counting the tiny model's (bright pixels) labels."""
    got, pairs, seg = _evaluated(data, out, model_arg)
    assert (seg.segment(pairs[0][0]) == (pairs[0][0] > 127)).mean() > 0.99  # it does segment bright pixels
    ref = _reference(pairs, seg.segment, 2, False)
    np.testing.assert_array_equal(got["confusion_matrix"], ref)
    iou, dice, acc = _scores(ref)
    np.testing.assert_allclose(got["iou"], iou, rtol=1e-12)
    assert got["pixel_accuracy"] == pytest.approx(acc) and 0.7 < acc < 1.0
    assert "none" in got["matching"] and got["model_classes"] == ["background", "bright"]
    return got


def test_evaluate_a_model_file_by_its_path(tmp_path):
    data = _folder(tmp_path / "d", size=(16, 16))
    (tmp_path / "m").mkdir()
    path = make_segmenter_model(tmp_path / "m", "mine")
    got = _check_model_file_scores(data, path, tmp_path / "s.json")
    assert got["model"] == str(path)


def test_evaluate_a_model_from_the_user_model_folder(tmp_path, user_model_dir):
    data = _folder(tmp_path / "d", size=(16, 16))
    make_segmenter_model(user_model_dir, "my-seg")
    _check_model_file_scores(data, "my-seg", tmp_path / "s.json")


def test_evaluate_writes_strict_json_with_null_for_absent_classes(tmp_path):
    data = _folder(tmp_path / "d", n=3)
    (data / "classes.json").write_text(json.dumps(["dark", "bright", "never"]))
    out = tmp_path / "s.json"
    r = _run("evaluate", "-m", "otsu", "--match", "none", "--data", data, "--json", out, "--no-progress")
    assert r.exit_code == 0, r.output

    def refuse(name):
        raise AssertionError(f"not strict JSON: {name}")

    got = json.loads(out.read_text(), parse_constant=refuse)
    assert got["iou"][2] is None and got["dice"][2] is None and got["support"][2] == 0
    assert got["mean_iou"] == pytest.approx(np.mean(got["iou"][:2]))  # the absent class is left out
    assert got["classes"] == ["dark", "bright", "never"] and "never" in r.output


def test_evaluate_bad_input(tmp_path, capsys):
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
    # a model with classes of its own, not as many as the data set's: refused unless matched on purpose
    three = _folder(tmp_path / "three", n=2)
    (three / "classes.json").write_text(json.dumps(["a", "b", "c"]))
    r = CliRunner().invoke(cli, ["evaluate", "-m", "otsu", "--data", str(three), "--no-progress"])
    assert r.exit_code == 1, r.output
    assert "the model has 2 classes (background, foreground) but the data set has 3 (a, b, c)" in r.output
    r = CliRunner().invoke(
        cli, ["evaluate", "-m", "otsu", "--match", "hungarian", "--data", str(three), "--no-progress"]
    )
    assert r.exit_code == 0 and "hungarian" in r.output
    r = CliRunner().invoke(
        cli, ["evaluate", "-m", "unet-textures-int8", "--data", str(data), "--no-progress"]
    )
    assert r.exit_code == 1 and "has 2 (class0, class1, counted from its masks: no classes.json)" in r.output
    # instance masks have no confusion matrix to draw
    r = CliRunner().invoke(
        cli, ["evaluate", "-m", "watershed", "--data", str(data), "--picture", str(tmp_path / "p.png")]
    )
    assert r.exit_code == 2 and "--picture" in r.output
    # a folder that is not a data set: one line naming it, through the `segen` entry point
    (tmp_path / "empty").mkdir()
    code = main(["evaluate", "-m", "otsu", "--data", str(tmp_path / "empty"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("segen: error:") and "empty" in err and err.count("\n") == 1


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


def test_listing_user_models_reads_sidecars_only(user_model_dir):
    import subprocess
    import sys

    make_segmenter_model(user_model_dir, "my-seg")
    (user_model_dir / "huge.onnx").write_bytes(b"x")
    (user_model_dir / "huge.json").write_text(" " * (2 << 20) + "{}")  # over the 1 MiB a sidecar may have
    code = (
        "import sys, warnings, segen\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    names = segen.list_segmenters()\n"
        "print('my-seg' in names, 'huge' in names, any('huge.json' in str(x.message) for x in w),"
        " 'onnxruntime' in sys.modules, 'segen._core' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # listed; the oversized sidecar skipped with a warning naming it; no model loaded to list them
    assert out.stdout.split() == ["True", "False", "True", "False", "False"], out.stderr


def test_evaluate_majority_matching_equals_a_numpy_reference(tmp_path):
    data = _folder(tmp_path / "d", n=4)
    got, pairs, seg = _evaluated(data, tmp_path / "s.json", "kmeans", "-p", "k=5", "--match", "majority", k=5)
    ref = _majority_reference(pairs, seg.segment, 2)
    np.testing.assert_array_equal(got["confusion_matrix"], ref)
    assert got["pixel_accuracy"] == pytest.approx(_scores(ref)[2]) and "majority" in got["matching"]
    assert [row["labels"] for row in got["per_image"]] == [np.unique(seg.segment(im)).size for im, _ in pairs]


def test_evaluate_maps_the_same_class_names_in_another_order(tmp_path):
    data = _folder(tmp_path / "d", size=(16, 16))
    for m in (data / "masks").iterdir():  # class 0 is now "bright", class 1 "background"
        mask = segen.io.imread(m)
        segen.io.imwrite(m, np.where(mask == 255, 255, 1 - mask).astype(np.uint8))
    (data / "classes.json").write_text(json.dumps(["Bright", "background"]))
    (tmp_path / "m").mkdir()
    path = make_segmenter_model(tmp_path / "m", "mine")  # classes: background, bright
    out = tmp_path / "s.json"
    got, pairs, seg = _evaluated(data, out, path)
    ref = _reference(pairs, lambda im: 1 - seg.segment(im), 2, False)
    np.testing.assert_array_equal(got["confusion_matrix"], ref)
    assert got["matching"].startswith("by name") and _scores(ref)[2] > 0.7
    # other names: compared by index, with a warning saying so (on standard error and in the JSON)
    (data / "classes.json").write_text(json.dumps(["sky", "road"]))
    r = CliRunner().invoke(cli, ["evaluate", "-m", str(path), "--data", str(data), "--json", str(out)])
    assert r.exit_code == 0 and "segen: warning:" in r.output and "compared by index" in r.output
    assert "compared by index" in json.loads(out.read_text())["warnings"][0]
