"""segen.onnx.sidecar: the one writer of model sidecars (sha256 and segen version filled in, checked before
anything is written, replaced atomically), its reader, the digest and the ``segen.*`` ONNX properties.

The reader's refusals of bad metadata through OnnxModel are in test_session.py."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import segen
from segen.errors import ModelError
from segen.onnx.sidecar import PROPS_PREFIX, TASKS, load_metadata, props_in, sha256_of, write_sidecar

INPUTS = {"image": {"shape": ["N", 1, 8, 8], "dtype": "float32"}}


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"not a real model, but bytes to hash")
    return path


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_fills_sha256_and_version_and_round_trips(model):
    meta = {
        "task": "segmentation",
        "inputs": INPUTS,
        "classes": ["background", "cell"],
        "metrics": {"iou": 0.5},
    }
    written = write_sidecar(model, meta)
    assert written["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert written["segen_version"] == segen.__version__
    assert "sha256" not in meta and "segen_version" not in meta  # the caller's dict is not changed
    assert _files(model.parent) == ["m.json", "m.onnx"]
    on_disk = load_metadata(model.with_suffix(".json"))
    assert on_disk == written == {**meta, "sha256": written["sha256"], "segen_version": segen.__version__}
    assert json.loads(model.with_suffix(".json").read_text(encoding="utf-8")) == written


def test_a_given_version_is_kept_and_a_stale_sha256_replaced(model):
    written = write_sidecar(
        model, {"task": "generation", "inputs": INPUTS, "segen_version": "0.0.1", "sha256": "0" * 64}
    )
    assert written["segen_version"] == "0.0.1"
    assert written["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()


def test_json_path(model, tmp_path):
    other = tmp_path / "elsewhere.json"
    write_sidecar(model, {"task": "classification", "inputs": INPUTS}, json_path=other)
    assert load_metadata(other)["task"] == "classification"
    assert not model.with_suffix(".json").exists()


@pytest.mark.parametrize(
    "meta, match",
    [
        ({"inputs": INPUTS}, "`task` must be one of"),
        ({"task": "painting", "inputs": INPUTS}, "got 'painting'"),
        ({"task": "segmentation"}, "`inputs` must be a non-empty object"),
        ({"task": "segmentation", "inputs": {"image": {"shape": [1, 8]}}}, "needs `shape` and `dtype`"),
        ({"task": "segmentation", "inputs": {"image": {"shape": "N,8", "dtype": "float32"}}}, "list of ints"),
        ({"task": "segmentation", "inputs": {"image": {"shape": [1.5], "dtype": "float32"}}}, "list of ints"),
        (
            {"task": "segmentation", "inputs": {"image": {"shape": [1], "dtype": "banana"}}},
            "not a numpy dtype",
        ),
    ],
)
def test_bad_metadata_is_refused_before_anything_is_written(model, meta, match):
    json_path = model.with_suffix(".json")
    with pytest.raises(ModelError, match=match) as info:
        write_sidecar(model, meta)
    assert str(json_path) in str(info.value)  # the message names the file it would have written
    assert _files(model.parent) == ["m.onnx"]  # no JSON, no temporary file
    # an existing sidecar is left as it was
    good = write_sidecar(model, {"task": "segmentation", "inputs": INPUTS})
    before = json_path.read_bytes()
    with pytest.raises(ModelError, match=match):
        write_sidecar(model, meta)
    assert json_path.read_bytes() == before and load_metadata(json_path) == good
    assert _files(model.parent) == ["m.json", "m.onnx"]


def test_missing_onnx_file_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_sidecar(tmp_path / "absent.onnx", {"task": "segmentation", "inputs": INPUTS})
    assert _files(tmp_path) == []


def test_replace_is_atomic_and_leaves_no_temporary_file(model, monkeypatch):
    json_path = model.with_suffix(".json")
    first = write_sidecar(model, {"task": "segmentation", "inputs": INPUTS, "metrics": {"iou": 0.1}})
    second = write_sidecar(model, {"task": "segmentation", "inputs": INPUTS, "metrics": {"iou": 0.9}})
    assert load_metadata(json_path)["metrics"] == {"iou": 0.9} and first["sha256"] == second["sha256"]
    assert _files(model.parent) == ["m.json", "m.onnx"]

    # the file appears through one os.replace of a temporary file in the same folder
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        with open(src, encoding="utf-8") as f:
            calls.append((str(src), str(dst), json.load(f)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_sidecar(model, {"task": "segmentation", "inputs": INPUTS, "metrics": {"iou": 0.5}})
    ((src, dst, content),) = calls
    assert dst == str(json_path) and os.path.dirname(src) == str(model.parent) and src != dst
    assert content["metrics"] == {"iou": 0.5}

    # a failing replace: the old sidecar stays whole, the temporary file is removed
    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_sidecar(model, {"task": "segmentation", "inputs": INPUTS, "metrics": {"iou": 0.7}})
    assert load_metadata(json_path)["metrics"] == {"iou": 0.5}
    assert _files(model.parent) == ["m.json", "m.onnx"]


def test_load_metadata_refusals(tmp_path):
    with pytest.raises(ModelError, match="model metadata file not found"):
        load_metadata(tmp_path / "none.json")
    path = tmp_path / "m.json"
    path.write_text("[1, 2]")
    with pytest.raises(ModelError, match="must be a JSON object; got list"):
        load_metadata(path)
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_metadata(path)
    path.write_text(json.dumps({"task": "segmentation", "inputs": INPUTS, "sha256": "G" * 64}))
    with pytest.raises(ModelError, match="`sha256` must be the 64-hex-digit digest"):
        load_metadata(path)
    path.write_text(json.dumps({"task": "segmentation", "inputs": INPUTS, "sha256": "AB" * 32}))
    assert load_metadata(path)["sha256"] == "AB" * 32  # hex digits in either case


def test_sha256_of_follows_the_file(tmp_path):
    path = tmp_path / "f.bin"
    data = os.urandom(3 << 20)  # over the 1 MiB read chunk
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()
    assert sha256_of(str(path)) == sha256_of(path)
    path.write_bytes(b"other")
    assert sha256_of(path) == hashlib.sha256(b"other").hexdigest()  # not a stale cached digest


def test_props_in_decodes_the_segen_keys():
    assert PROPS_PREFIX == "segen." and TASKS == ("segmentation", "generation", "classification")
    props = {
        "segen.classes": json.dumps(["background", "cell"]),
        "segen.input_size": "[64, 64]",
        "segen.task": '"segmentation"',
        "producer": "not json, not ours",
        "segenfoo": "{",
    }
    assert props_in(props, "m.onnx") == {
        "classes": ["background", "cell"],
        "input_size": [64, 64],
        "task": "segmentation",
    }
    assert props_in({}, "m.onnx") == {}


def test_props_in_refuses_non_json_naming_the_file_and_key():
    with pytest.raises(
        ModelError, match=r"^m\.onnx: metadata_props 'segen.classes' is not JSON: 'background'"
    ):
        props_in({"segen.classes": "background"}, "m.onnx")
