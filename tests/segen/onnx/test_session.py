"""segen.onnx.OnnxModel and the ONNX segmenter/generator bases, on tiny graphs built with onnx.helper."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import segen
from segen.errors import DTypeError, InvalidArgumentError, ModelError
from segen.onnx import OnnxGenerator, OnnxModel, OnnxSegmenter, load_metadata
from tiny_models import _opset, _save, make_generator_model, make_segmenter_model

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


@pytest.fixture
def seg_path(tmp_path):
    return make_segmenter_model(tmp_path)


# ---- OnnxModel ---------------------------------------------------------------------------------------------


def test_model_runs_lazily_and_matches_numpy(seg_path, rng):
    model = OnnxModel(seg_path, threads=1)
    assert model._session is None and "not loaded" in repr(model)  # no session until first use
    x = rng.random((2, 1, 16, 16), dtype=np.float32)
    (scores,) = model.run({"image": x})
    np.testing.assert_allclose(scores, np.concatenate([0.5 - x, x - 0.5], axis=1), atol=1e-6)
    assert model.session.get_session_options().intra_op_num_threads == 1
    assert model.session.get_providers() == ["CPUExecutionProvider"]
    (again,) = model(x)  # a single array for a one-input model
    np.testing.assert_array_equal(again, scores)


def test_model_uses_segen_thread_count(seg_path):
    old = segen.get_num_threads()
    segen.set_num_threads(2)
    try:
        assert OnnxModel(seg_path).session.get_session_options().intra_op_num_threads == 2
    finally:
        segen.set_num_threads(old)


def test_missing_files(tmp_path, seg_path):
    with pytest.raises(ModelError, match="model file not found"):
        OnnxModel(tmp_path / "nope.onnx")
    seg_path.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="metadata file not found"):
        OnnxModel(seg_path)


def test_truncated_model_is_refused_before_parsing(seg_path):
    data = seg_path.read_bytes()
    seg_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        OnnxModel(seg_path)
    seg_path.write_bytes(b"")
    with pytest.raises(ModelError, match="empty"):
        OnnxModel(seg_path)


def test_size_limit(seg_path):
    with pytest.raises(ModelError, match="max_bytes"):
        OnnxModel(seg_path, max_bytes=10)


def test_corrupt_model_with_matching_hash_fails_with_model_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a protobuf" * 10)
    meta = {
        "task": "segmentation",
        "inputs": {"x": {"shape": [1], "dtype": "float32"}},
        "sha256": hashlib.sha256(bad.read_bytes()).hexdigest(),
    }
    bad.with_suffix(".json").write_text(json.dumps(meta))
    model = OnnxModel(bad)  # the file checks pass; the protobuf is read on first use
    with pytest.raises(ModelError, match="cannot load model .*not an ONNX protobuf"):
        model.session


def test_model_onnx_runtime_refuses_fails_with_its_message_chained(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("NoSuchOp", ["x"], ["y"], domain="no.such")], "g", [x], [x])
    model = helper.make_model(graph, opset_imports=_opset(), ir_version=8)
    path = tmp_path / "unknown-op.onnx"
    path.write_bytes(model.SerializeToString())
    meta = {"task": "classification", "inputs": {"x": {"shape": [1], "dtype": "float32"}}}
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="ONNX Runtime cannot load") as info:
        OnnxModel(path).session
    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    "change, match",
    [
        ({"task": "painting"}, "task"),
        ({"sha256": "abc"}, "sha256"),
        ({"inputs": {}}, "inputs"),
        ({"inputs": {"image": {"shape": "N,1"}}}, "shape"),
        ({"inputs": {"image": {"shape": [1], "dtype": "banana"}}}, "dtype"),
    ],
)
def test_invalid_metadata(seg_path, change, match):
    path = seg_path.with_suffix(".json")
    meta = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=match):
        OnnxModel(seg_path)


def test_metadata_not_json(seg_path):
    seg_path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_metadata(seg_path.with_suffix(".json"))


def test_metadata_disagreeing_with_the_model(seg_path):
    path = seg_path.with_suffix(".json")
    meta = json.loads(path.read_text())
    meta["inputs"] = {"pixels": meta["inputs"]["image"]}
    path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="inputs are"):
        OnnxModel(seg_path).session
    meta["inputs"] = {"image": {"shape": ["N", 3, 16, 16], "dtype": "float32"}}
    path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="shape"):
        OnnxModel(seg_path).session
    meta["inputs"] = {"image": {"shape": ["N", 1, 16, 16], "dtype": "float64"}}
    path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="tensor\\(float\\)"):
        OnnxModel(seg_path).session


def test_metadata_props_inside_the_onnx_must_agree(tmp_path):
    ok = make_segmenter_model(tmp_path, "agree", props={"segen.classes": ["background", "bright"]})
    OnnxModel(ok).session
    bad = make_segmenter_model(tmp_path, "differ", props={"segen.classes": ["background", "cell"]})
    with pytest.raises(ModelError, match="'classes' differs"):
        OnnxModel(bad).session


def test_input_validation(seg_path):
    model = OnnxModel(seg_path)
    with pytest.raises(DTypeError, match="image"):
        model.run({"image": np.zeros((1, 1, 16, 16), np.float64)})
    with pytest.raises(InvalidArgumentError, match="image"):
        model.run({"image": np.zeros((1, 1, 8, 16), np.float32)})
    with pytest.raises(InvalidArgumentError, match="image"):
        model.run({"image": np.zeros((1, 16, 16), np.float32)})
    with pytest.raises(InvalidArgumentError, match="lacks 'image'"):
        model.run({})
    with pytest.raises(InvalidArgumentError, match="unknown names"):
        model.run({"image": np.zeros((1, 1, 16, 16), np.float32), "extra": np.zeros(1)})
    assert model._session is None  # bad input never reached ONNX Runtime


def test_bad_constructor_arguments(seg_path):
    with pytest.raises(InvalidArgumentError, match="providers"):
        OnnxModel(seg_path, providers="CPUExecutionProvider")
    with pytest.raises(InvalidArgumentError, match="threads"):
        OnnxModel(seg_path, threads=0)
    with pytest.raises(InvalidArgumentError, match="`threads` must be <= 1024"):
        OnnxModel(seg_path, threads=10**6)  # once a SIGSEGV inside ONNX Runtime
    with pytest.raises(InvalidArgumentError, match="metadata"):
        OnnxModel(seg_path, metadata=3)


# ---- ONNX segmenter and generator bases --------------------------------------------------------------------


def test_onnx_segmenter_on_a_photo(seg_path, camera):
    seg = OnnxSegmenter(seg_path)
    assert seg.info.classes == ("background", "bright") and seg.info.metrics == {"iou": 1.0}
    img = camera[::8, ::8]  # 64 x 64, resized to 16 x 16 inside and back
    labels = seg.segment(img)
    assert labels.shape == img.shape and labels.dtype == np.int32
    assert set(np.unique(labels)) == {0, 1}
    # at the model's own size the result is exactly the threshold at 0.5
    small = camera[::32, ::32]
    np.testing.assert_array_equal(seg.segment(small), (small / 255.0 > 0.5).astype(np.int32))
    # RGB input is made grey
    rgb = np.stack([small] * 3, axis=-1)
    np.testing.assert_array_equal(seg.segment(rgb), seg.segment(small))


def test_onnx_segmenter_rejects_a_generator_model(tmp_path):
    with pytest.raises(ModelError, match="generation model"):
        OnnxSegmenter(make_generator_model(tmp_path))


def test_onnx_generator_is_seeded_and_uint8(tmp_path):
    gen = OnnxGenerator(make_generator_model(tmp_path))
    a = gen.generate(5, seed=3)
    assert a.shape == (5, 8, 8) and a.dtype == np.uint8 and a.std() > 10
    np.testing.assert_array_equal(a, gen.generate(5, seed=3))
    assert not np.array_equal(a, gen.generate(5, seed=4))
    z = np.zeros((2, 4), np.float32)
    np.testing.assert_array_equal(gen.generate(2, z=z), np.full((2, 8, 8), 128, np.uint8))
    with pytest.raises(InvalidArgumentError, match="`z`"):
        gen.generate(3, z=z)
    with pytest.raises(InvalidArgumentError, match="labels"):
        gen.generate(2, labels=[0, 1])
    with pytest.raises(InvalidArgumentError, match="`n`"):
        gen.generate(0)


def test_conditional_generator_with_a_fixed_batch(tmp_path):
    gen = OnnxGenerator(make_generator_model(tmp_path, conditional=True, batch=4))
    assert gen.info.num_classes == 10
    a = gen.generate(6, seed=0, labels=[0, 1, 2, 3, 4, 5])  # two runs of 4, the last padded
    b = gen.generate(6, seed=0, labels=[0, 1, 2, 3, 4, 9])
    assert a.shape == (6, 8, 8)
    np.testing.assert_array_equal(a[:5], b[:5])
    assert not np.array_equal(a[5], b[5])
    np.testing.assert_array_equal(gen.generate(6, seed=0), a)  # default labels: 0, 1, 2, ...
    with pytest.raises(InvalidArgumentError, match="labels"):
        gen.generate(2, labels=[0, 10])
    with pytest.raises(InvalidArgumentError, match="labels"):
        gen.generate(3, labels=[0, 1])


# ---- random operators (RELIABILITY M9) ---------------------------------------------------------------------


def _noisy_graph(folder, task):
    """z (N, 4) -> z + RandomNormalLike(z): a different result on every run."""
    x = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 4])
    nodes = [
        helper.make_node("RandomNormalLike", ["z"], ["eps"]),
        helper.make_node("Add", ["z", "eps"], ["images"]),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "noisy", [x], [y]),
        opset_imports=_opset(),
        producer_name="segen-tests",
        ir_version=8,
    )
    meta = {"name": "noisy", "task": task, "inputs": {"z": {"shape": ["N", 4], "dtype": "float32"}}}
    return _save(model, folder / f"noisy-{task}.onnx", meta)


def test_random_operators_are_found_and_refused_in_generators(tmp_path, seg_path):
    from segen.onnx import random_ops

    assert random_ops(_noisy_graph(tmp_path, "generation")) == ["RandomNormalLike"]
    assert random_ops(seg_path) == []
    with pytest.raises(ModelError, match="RandomNormalLike.*latent noise as an input"):
        OnnxModel(tmp_path / "noisy-generation.onnx").run({"z": np.zeros((1, 4), np.float32)})
    with pytest.warns(RuntimeWarning, match="random numbers inside the graph"):
        OnnxModel(_noisy_graph(tmp_path, "classification")).session


def test_session_is_made_once_when_many_threads_ask_first(seg_path, monkeypatch):
    import threading
    import time

    model = OnnxModel(seg_path)
    made, real = [], OnnxModel._make_session

    def slow_make(self):
        made.append(1)
        time.sleep(0.05)  # widen the window two threads would both enter without the lock
        return real(self)

    monkeypatch.setattr(OnnxModel, "_make_session", slow_make)
    barrier, sessions = threading.Barrier(8), []

    def first_use():
        barrier.wait()
        sessions.append(model.session)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len(sessions) == 8 and all(s is sessions[0] for s in sessions)
