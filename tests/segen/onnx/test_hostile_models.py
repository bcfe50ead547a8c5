"""Hostile and broken ONNX models and sidecars (RELIABILITY.md 3.4, M1-M10, M12): integrity of the model and
its external data on the bytes loaded, sidecar bounds, output checks, non-finite data, hidden random ops."""

from __future__ import annotations

import hashlib
import json
import os
import re

import numpy as np
import pytest
from segen.errors import (
    InvalidArgumentError,
    ModelError,
    ModelIntegrityError,
    ModelSignatureError,
    UnsafeModelError,
)
from segen.onnx import (
    DenseSegmenter,
    OnnxGenerator,
    OnnxModel,
    OnnxSegmenter,
    _proto,
    load_metadata,
    random_ops,
    read_model,
    sha256_of,
)
from tiny_models import (
    digest_v1,
    make_external_segmenter,
    make_generator_model,
    make_hidden_random_generator,
    make_looping_segmenter,
    make_segmenter_model,
)

onnx = pytest.importorskip("onnx")

from helpers import ROOT, run_python  # noqa: E402

X = np.full((1, 1, 16, 16), 0.75, np.float32)


def _edit_json(path, **change):
    meta = json.loads(path.with_suffix(".json").read_text())
    meta.update(change)
    path.with_suffix(".json").write_text(json.dumps(meta))


# ---- integrity: one digest over the model and its external data, on the bytes loaded (M1, M2, M4) ------------


def test_external_data_model_loads_from_memory_and_runs(tmp_path, monkeypatch):
    path = make_external_segmenter(tmp_path)
    monkeypatch.chdir(ROOT)  # ONNX Runtime would resolve a relative location against the working directory
    (scores,) = OnnxModel(path).run(X)
    np.testing.assert_allclose(scores[0, :, 0, 0], [-0.25, 0.25])
    loaded = read_model(path)
    assert set(loaded.files) == {"ext-seg.bin"}
    assert _proto.scan(loaded.session_bytes()).external == []  # ONNX Runtime gets no file to open


def test_digest_scheme_covers_external_data_and_keeps_plain_sha256(tmp_path):
    path = make_external_segmenter(tmp_path)
    onnx_bytes, weights = path.read_bytes(), (tmp_path / "ext-seg.bin").read_bytes()
    assert sha256_of(path) == digest_v1(onnx_bytes, {"ext-seg.bin": weights})
    assert sha256_of(path) != hashlib.sha256(onnx_bytes).hexdigest()
    plain = make_segmenter_model(tmp_path)  # self-contained: the plain sha256, as every older sidecar has
    assert sha256_of(plain) == hashlib.sha256(plain.read_bytes()).hexdigest()


def test_shipped_sidecars_verify_under_the_digest_scheme():
    paths = sorted(ROOT.glob("plugins/*/models/*.onnx"))
    assert len(paths) >= 10
    for path in paths:
        assert sha256_of(path) == load_metadata(path.with_suffix(".json"))["sha256"], path


def test_tampered_external_weights_are_refused(tmp_path):
    path = make_external_segmenter(tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "ext-seg.bin").write_bytes(np.array([0.1], np.float32).tobytes())  # same size, new weights
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the .onnx alone did not change
    with pytest.raises(ModelIntegrityError, match="external data file.*does not match its metadata"):
        OnnxModel(path)


def test_missing_or_short_external_file(tmp_path):
    path = make_external_segmenter(tmp_path)
    (tmp_path / "ext-seg.bin").write_bytes(b"\0\0")  # 2 of the 4 bytes the tensor needs
    with pytest.raises(ModelIntegrityError, match="reads bytes 0..4 of external data file 'ext-seg.bin'"):
        OnnxModel(path)
    (tmp_path / "ext-seg.bin").unlink()
    with pytest.raises(ModelIntegrityError, match="not found"):
        OnnxModel(path)


def test_max_bytes_counts_external_data(tmp_path):
    path = make_external_segmenter(tmp_path)
    size = path.stat().st_size
    OnnxModel(path, max_bytes=size + 4)
    with pytest.raises(ModelError, match="max_bytes"):
        OnnxModel(path, max_bytes=size + 3)


@pytest.mark.parametrize(
    "location", ["../outside.bin", "/etc/passwd", "sub/../../outside.bin", "C:/w.bin", "a\\..\\b.bin", "."]
)
def test_external_locations_outside_the_folder_are_unsafe(tmp_path, location):
    folder = tmp_path / "models"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(np.array([0.5], np.float32).tobytes())
    path = make_external_segmenter(folder, location=location, write=False)
    with pytest.raises(UnsafeModelError, match="external data location"):
        OnnxModel(path)


def test_external_symlink_leaving_the_folder_is_unsafe(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(np.array([0.5], np.float32).tobytes())
    os.symlink(tmp_path / "outside.bin", folder / "ext-seg.bin")
    path = make_external_segmenter(folder, write=False)
    with pytest.raises(UnsafeModelError, match="outside the model's folder"):
        OnnxModel(path)
    # also with a relative model path, whose folder is "" (the containment check is not a no-op there)
    monkeypatch.chdir(folder)
    with pytest.raises(UnsafeModelError, match="outside the model's folder"):
        OnnxModel("ext-seg.onnx")


def test_same_size_rewrite_with_the_same_mtime_is_caught(tmp_path):
    path = make_generator_model(tmp_path)
    OnnxModel(path).session  # digest computed (once cached by path, size and mtime)
    st = path.stat()
    data = bytearray(path.read_bytes())
    i = data.index(np.float32(np.random.default_rng(0).normal()).tobytes())  # inside W's raw data
    data[i] ^= 0x40
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert sha256_of(path) != load_metadata(path.with_suffix(".json"))["sha256"]
    with pytest.raises(ModelIntegrityError, match="does not match its metadata"):
        OnnxModel(path)


def test_model_swapped_after_construction_is_refused_at_session(tmp_path):
    path = make_segmenter_model(tmp_path)
    model = OnnxModel(path)  # checked here ...
    other = make_segmenter_model(tmp_path, "other", props={"segen.note": "swapped"})
    os.replace(other, path)  # ... and the file is replaced before the session is made
    with pytest.raises(ModelIntegrityError, match="does not match its metadata"):
        model.session
    assert model._session is None


def test_session_is_made_from_the_bytes_verified(tmp_path, monkeypatch):
    """The session runs the bytes whose digest was checked: read_model is called once per session and ONNX
    Runtime is handed its bytes, never the path."""
    import onnxruntime as ort
    from segen.onnx import session as session_module

    path = make_segmenter_model(tmp_path)
    model = OnnxModel(path)
    reads, given = [], []
    real_read, real_session = session_module.read_model, ort.InferenceSession
    monkeypatch.setattr(
        session_module, "read_model", lambda *a, **k: reads.append(real_read(*a, **k)) or reads[-1]
    )
    monkeypatch.setattr(
        ort, "InferenceSession", lambda model, **k: given.append(model) or real_session(model, **k)
    )
    model.session
    assert len(reads) == 1 and given == [reads[0].data]


# ---- sidecar validation (M6, M8) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, match",
    [
        ('"std": [0.0]', "`std` must be > 0"),
        ('"std": [NaN]', "`std` must be finite"),
        ('"std": [Infinity]', "`std` must be finite"),
        ('"std": [-1.0]', "`std` must be > 0"),
        ('"std": [1.0, 1.0]', "`std` must be a number or a list of one per channel"),
        ('"mean": [NaN]', "`mean` must be finite"),
        ('"mean": [-Infinity]', "`mean` must be finite"),
        ('"mean": "0.5"', "`mean` must be a number"),
        ('"channels": 5', "`channels` must be 1 or 3"),
        ('"classes": []', "`classes` must be a list of 1..65536"),
        ('"classes": [1, 2]', "`classes` must be a list"),
        ('"input_size": [1000000000, 16]', "`input_size` must be"),
        ('"input_size": [16384, 16384]', "`input_size` .* is over"),
        ('"stride": 1000000000', "`stride` must be an int in 1..1024"),
        ('"min_size": 0', "`min_size` must be an int"),
        ('"threshold": NaN', "`threshold` must be a finite number"),
        (
            '"outputs": {"scores": {"shape": ["N", 3, "H", "W"], "dtype": "float32"}}',
            "3 channels but `classes`",
        ),
        ('"inputs": {"image": {"shape": ["N", 1, 16, 1000000000000], "dtype": "float32"}}', "list of ints"),
        ('"inputs": {"image": {"shape": ["N", 1, -16, 16], "dtype": "float32"}}', "list of ints"),
        ('"inputs": {"image": {"shape": ["N", true, 16, 16], "dtype": "float32"}}', "list of ints"),
    ],
)
def test_segmenter_sidecar_refusals_name_the_field(tmp_path, change, match):
    path = make_segmenter_model(tmp_path)
    text = path.with_suffix(".json").read_text()
    key = change.split(":")[0]
    meta = json.loads(text)
    meta.pop(key.strip('"'), None)
    path.with_suffix(".json").write_text(json.dumps(meta)[:-1] + ", " + change + "}")
    with pytest.raises(ModelError, match=match):
        load_metadata(path.with_suffix(".json"))
    with pytest.raises(ModelError, match=match):
        OnnxSegmenter(path)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"output_range": [1, 1]}, "`output_range` must be \\[low, high\\]"),
        ({"output_range": [1, -1]}, "`output_range`"),
        ({"output_range": [0]}, "`output_range`"),
        ({"output_range": [0, 1e400]}, "`output_range`"),
        ({"latent_size": 10**9}, "`latent_size` must be an int in 1..65536"),
        ({"latent_size": 0}, "`latent_size`"),
        ({"latent_size": True}, "`latent_size`"),
        ({"latent_size": 4.0}, "`latent_size`"),
        ({"num_classes": 10**9}, "`num_classes` must be an int in 1..65536"),
        ({"output_size": [10**9, 10**9]}, "`output_size`"),
        ({"classes": ["x"] * 70000}, "`classes` must be a list of 1..65536 names; got 70000"),
    ],
)
def test_generator_sidecar_refusals_name_the_field(tmp_path, change, match):
    path = make_generator_model(tmp_path)
    _edit_json(path, **change)
    with pytest.raises(ModelError, match=match):
        OnnxGenerator(path)


def test_latent_input_disagreeing_with_latent_size(tmp_path):
    with pytest.raises(ModelSignatureError, match="has size 4 but the metadata's `latent_size` is 8"):
        OnnxGenerator(make_generator_model(tmp_path, meta={"latent_size": 8}))


# ---- output checks on the first call (M7, M8) ----------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 5])
def test_segmenter_output_channels_must_match_the_classes(tmp_path, k):
    classes = ["a", "b", "c"] if k == 1 else ["background", "bright"]
    path = make_segmenter_model(tmp_path, out_channels=k)
    _edit_json(path, classes=classes)
    seg = OnnxSegmenter(path)
    with pytest.raises(ModelSignatureError, match=f"output has {k} channels but the metadata names"):
        seg.segment(np.zeros((16, 16), np.uint8))


def test_one_channel_score_for_two_classes_is_accepted(tmp_path):
    path = make_segmenter_model(tmp_path, out_channels=1)  # fg only: the foreground-score form
    labels = OnnxSegmenter(path).segment(np.full((16, 16), 200, np.uint8))
    assert (labels == 1).all()


def test_segmenter_output_size_must_follow_the_input(tmp_path):
    seg = OnnxSegmenter(make_segmenter_model(tmp_path, pool=True))
    with pytest.raises(ModelSignatureError, match="output must be \\(1, K, 16, 16\\)"):
        seg.segment(np.zeros((16, 16), np.uint8))


def test_dense_segmenter_checks_channels_and_size(tmp_path):
    path = make_segmenter_model(tmp_path, size=("H", "W"), out_channels=3)
    _edit_json(path, stride=8, input_size=None)
    seg = DenseSegmenter(path)
    with pytest.raises(ModelSignatureError, match="output has 3 channels"):
        seg.segment(np.zeros((16, 24), np.uint8))
    path = make_segmenter_model(tmp_path, "pooled", size=("H", "W"), pool=True)
    _edit_json(path, stride=8, input_size=None)
    with pytest.raises(ModelSignatureError, match="for an input of 16 x 24"):
        DenseSegmenter(path).segment(np.zeros((16, 24), np.uint8))


def test_outputs_listed_in_the_sidecar_are_checked_against_named_input_sizes(tmp_path):
    path = make_segmenter_model(tmp_path, size=("H", "W"), pool=True)
    outputs = {"scores": {"shape": ["N", 2, "H", "W"], "dtype": "float32"}}
    _edit_json(path, input_size=None, outputs=outputs)
    model = OnnxModel(path)
    with pytest.raises(ModelSignatureError, match="output 'scores' has shape \\(1, 2, 4, 4\\).*'H=8'"):
        model.run(np.zeros((1, 1, 8, 8), np.float32))
    _edit_json(path, outputs={"logits": outputs["scores"]})
    with pytest.raises(ModelSignatureError, match="lists output 'logits'"):
        OnnxModel(path).session


@pytest.mark.parametrize("channels", [2, 5])
def test_generator_images_must_have_1_or_3_channels(tmp_path, channels):
    gen = OnnxGenerator(make_generator_model(tmp_path, channels=channels))
    with pytest.raises(ModelSignatureError, match=f"the model gives {channels}"):
        gen.generate(2, seed=0)


def test_rgb_generator_and_declared_channels(tmp_path):
    gen = OnnxGenerator(make_generator_model(tmp_path, channels=3))
    assert gen.generate(2, seed=0).shape == (2, 8, 8, 3)
    gen = OnnxGenerator(make_generator_model(tmp_path, "decl", channels=3, meta={"channels": 1}))
    with pytest.raises(ModelSignatureError, match="must have 1 channel.s.; the model gives 3"):
        gen.generate(1, seed=0)


def test_generator_output_size_must_match_the_sidecar(tmp_path):
    gen = OnnxGenerator(make_generator_model(tmp_path, meta={"output_size": [16, 16]}))
    with pytest.raises(ModelSignatureError, match="must be 16 x 16 .*gives 8 x 8"):
        gen.generate(1, seed=0)


# ---- non-finite data (M10) -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300])
def test_non_finite_pixels_are_refused_by_name(tmp_path, bad):
    img = np.full((16, 16), 0.5)
    img[3, 4] = bad
    with pytest.raises(InvalidArgumentError, match="`image` must be finite"):
        OnnxSegmenter(make_segmenter_model(tmp_path)).segment(img)
    fcn = ROOT / "plugins" / "segen_fcn" / "models" / "fcn-shapes.onnx"
    if fcn.is_file():
        seg = DenseSegmenter(fcn, tile=16)
        rgb = np.repeat(img[..., None], 3, axis=2)
        with pytest.raises(InvalidArgumentError, match="`image` must be finite"):
            seg.segment(rgb)
        with pytest.raises(InvalidArgumentError, match="`image` must be finite"):
            seg.segment(np.pad(rgb, ((0, 48), (0, 48), (0, 0))))  # tiled
        with pytest.raises(InvalidArgumentError, match="`image` must be finite"):
            seg.logits(rgb)


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e300])
def test_non_finite_latents_are_refused_by_name(tmp_path, bad):
    gen = OnnxGenerator(make_generator_model(tmp_path))
    z = np.zeros((2, 4))
    z[1, 2] = bad
    with pytest.raises(InvalidArgumentError, match="`z` must be finite"):
        gen.generate(2, z=z)  # and no RuntimeWarning from the float32 cast of 1e300 first (errors here)
    with pytest.raises(InvalidArgumentError, match="`z` must be a real array"):
        gen.generate(2, z=z.astype(complex))


def test_generator_with_nan_output_is_a_model_error_not_noise(tmp_path):
    gen = OnnxGenerator(make_generator_model(tmp_path, nan=True))
    with pytest.raises(ModelError, match="output 'images' holds NaN or infinite values"):
        gen.generate(2, seed=0)


def test_segmenter_with_nan_logits_is_a_model_error(tmp_path):
    seg = OnnxSegmenter(make_segmenter_model(tmp_path, log=True))  # log of negative scores
    with pytest.raises(ModelError, match="holds NaN or infinite values"):
        seg.segment(np.full((16, 16), 200, np.uint8))


def test_model_run_refuses_non_finite_inputs_and_disagreeing_batch(tmp_path):
    model = OnnxModel(make_segmenter_model(tmp_path))
    with pytest.raises(InvalidArgumentError, match="`image` must be finite"):
        model.run(np.full((1, 1, 16, 16), np.nan, np.float32))
    gen = OnnxModel(make_generator_model(tmp_path, "cond", conditional=True))
    with pytest.raises(InvalidArgumentError, match="`labels` has N = 3 but `z` has N = 2"):
        gen.run({"z": np.zeros((2, 4), np.float32), "labels": np.zeros(3, np.int64)})


# ---- random operators anywhere in the model (M9) -------------------------------------------------------------


@pytest.mark.parametrize(
    "where, op",
    [
        ("if", "RandomNormalLike"),
        ("nested", "RandomNormalLike"),
        ("function", "RandomNormalLike"),
        ("dropout", "Dropout(training_mode)"),
    ],
)
def test_random_ops_hidden_in_subgraphs_and_functions_are_refused(tmp_path, where, op):
    path = make_hidden_random_generator(tmp_path, where)
    assert random_ops(path) == [op]
    gen = OnnxGenerator(path)
    with pytest.raises(ModelError, match=re.escape(f"draws random numbers inside the graph ({op})")):
        gen.generate(2, seed=0)


def test_random_op_names_in_tensor_bytes_are_not_operators(tmp_path):
    # the previous byte search flagged any b'"\rRandomUniform' in the file, e.g. inside a tensor's bytes
    path = make_segmenter_model(tmp_path)
    model = onnx.load(str(path))
    blob = np.frombuffer(b'"\rRandomUniform', np.uint8)
    model.graph.initializer.append(onnx.numpy_helper.from_array(blob, "blob"))
    path.write_bytes(model.SerializeToString())
    _edit_json(path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    assert b'"\rRandomUniform' in path.read_bytes()
    assert random_ops(path) == []
    OnnxModel(path).session  # no warning


# ---- the protobuf reader -------------------------------------------------------------------------------------


def test_reader_sees_the_nodes_onnx_sees_in_the_shipped_models():
    for path in sorted(ROOT.glob("plugins/*/models/*.onnx")):
        model = onnx.load(str(path))
        found = _proto.scan(path.read_bytes())
        assert [(d, op) for d, op, _ in found.nodes] == [(n.domain, n.op_type) for n in model.graph.node]
        assert found.external == []


@pytest.mark.parametrize(
    "data, match",
    [
        (b"\x3a\x05abc", "runs past the end"),  # graph (field 7) of 5 bytes, 3 there
        (b"\x0b\x0c", "wire type 3"),  # a group
        (b"\x08" + b"\xff" * 11, "varint longer"),
        (b"\x08", "truncated varint"),
        (b"\x00\x01", "field number 0"),
        (b"\x3a\x02\x0a\x00" + b"\x08\x08", None),  # a graph with an empty node, ir_version 8: fine
    ],
)
def test_reader_refuses_malformed_protobuf(data, match):
    if match is None:
        assert _proto.scan(data).nodes == [("", "", ())]
        return
    with pytest.raises(_proto.ProtoError, match=match):
        _proto.scan(data)


def test_deeply_nested_subgraphs_are_refused_before_onnx_runtime():
    # written by hand: the onnx package's own protobuf refuses to build it (depth limit 100)
    def field(number: int, payload: bytes) -> bytes:
        return _proto._encode_varint(number << 3 | 2) + _proto._encode_varint(len(payload)) + payload

    graph = field(1, field(4, b"Identity"))
    for _ in range(40):  # 3 message levels each: graph -> node -> attribute -> graph
        attribute = field(1, b"then_branch") + field(6, graph)
        graph = field(1, field(4, b"If") + field(5, attribute))
    with pytest.raises(_proto.ProtoError, match="nested deeper than 100"):
        _proto.scan(field(7, graph))
    shallow = field(1, field(4, b"Identity"))
    for _ in range(30):
        shallow = field(1, field(4, b"If") + field(5, field(1, b"then_branch") + field(6, shallow)))
    assert len(_proto.scan(field(7, shallow)).nodes) == 31


@pytest.mark.parametrize(
    "entries, match",
    [
        ([("location", "w.bin"), ("offset", "0x10")], "offset must be a non-negative integer"),
        ([("location", "w.bin"), ("length", "-4")], "length must be"),
        ([("location", "w.bin"), ("location", "x.bin")], "given twice"),
        ([("location", "w.bin"), ("sneaky", "1")], "unknown external_data key"),
        ([("offset", "0")], "no location"),
    ],
)
def test_bad_external_data_entries_are_refused(tmp_path, entries, match):
    path = make_external_segmenter(tmp_path)
    model = onnx.load(str(path), load_external_data=False)
    t = model.graph.initializer[0]
    del t.external_data[:]
    for key, value in entries:
        e = t.external_data.add()
        e.key, e.value = key, value
    path.write_bytes(model.SerializeToString())
    with pytest.raises(_proto.ProtoError, match=match):
        _proto.scan(path.read_bytes())
    _edit_json(path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(ModelError, match="not an ONNX protobuf segen can read"):
        OnnxModel(path).session


# ---- sidecar types and the model's signature (found by tests/fuzz/fuzz_onnx.py) ------------------------------


@pytest.mark.parametrize(
    "change, match",
    [
        ({"classes": None}, "`classes` is null"),
        ({"threshold": None}, "`threshold` is null"),
        ({"receptive_margin": None}, "`receptive_margin` is null"),
        ({"metrics": True}, "`metrics` must be an object"),
        ({"metrics": [1, 1]}, "`metrics` must be an object"),
        ({"name": 5}, "`name` must be a string"),
        ({"inputs": {"image": {"shape": ["N", 1, 16, 16], "dtype": "O"}}}, "not a numpy dtype segen runs"),
    ],
)
def test_sidecar_types_segen_reads_with_defaults(tmp_path, change, match):
    path = make_segmenter_model(tmp_path)
    _edit_json(path, **change)
    with pytest.raises(ModelError, match=match):
        OnnxSegmenter(path)


def test_segmenter_input_contradicting_its_sidecar(tmp_path):
    path = make_segmenter_model(tmp_path)
    for spec, match in [
        ({"shape": ["N", 3, 16, 16], "dtype": "float32"}, "must be float32 \\(N, 1, H, W\\)"),
        ({"shape": ["N", 1, 16, 16], "dtype": "uint8"}, "the metadata says uint8"),
        ({"shape": [4, 1, 16, 16], "dtype": "float32"}, "free or 1 batch"),
        ({"shape": ["N", 1, 8, 16], "dtype": "float32"}, "`input_size` \\[16, 16\\] contradicts"),
    ]:
        _edit_json(path, inputs={"image": spec})
        with pytest.raises(ModelSignatureError, match=match):
            OnnxSegmenter(path)
    _edit_json(path, inputs={"image": {"shape": ["N", 1, 16, 16], "dtype": "float32"}}, stride=8)
    with pytest.raises(ModelSignatureError, match="must have free H and W"):
        DenseSegmenter(path)


def test_deeply_nested_json_in_metadata_props_is_a_model_error(tmp_path):
    path = make_segmenter_model(tmp_path)
    model = onnx.load(str(path))
    model.metadata_props.add(key="segen.classes", value="[" * 100000)
    path.write_bytes(model.SerializeToString())
    _edit_json(path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(ModelError, match="metadata_props 'segen.classes' is not JSON"):
        OnnxModel(path).session


# ---- runs that do not end (M6: a graph holding the CPU for ever on a tiny input) ------------------------------


def test_a_run_past_its_timeout_is_stopped(tmp_path):
    import time

    model = OnnxModel(make_looping_segmenter(tmp_path), timeout=0.5)  # a Loop of 2**62 steps
    start = time.perf_counter()
    with pytest.raises(ModelError, match=r"stopped after its timeout of 0\.5 s"):
        model.run({"image": np.zeros((1, 1, 8, 8), np.float32)})
    assert time.perf_counter() - start < 5
    # a run that ends in time goes through the watched path and gives the model's result
    quick = OnnxModel(make_looping_segmenter(tmp_path, "quick", iterations=3), timeout=30)
    img = np.random.default_rng(0).random((1, 1, 8, 8), dtype=np.float32)
    (scores,) = quick.run({"image": img})
    np.testing.assert_allclose(scores[:, 1], img[:, 0] - 0.5, atol=1e-6)
    quick.timeout = None
    np.testing.assert_array_equal(quick.run({"image": img})[0], scores)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", True])
def test_a_bad_timeout_is_refused_by_name(tmp_path, bad):
    with pytest.raises(InvalidArgumentError, match="`timeout`"):
        OnnxModel(make_segmenter_model(tmp_path), timeout=bad)


@pytest.mark.skipif(not hasattr(os, "kill"), reason="sends SIGINT to itself")
def test_ctrl_c_stops_a_long_onnx_run(tmp_path):
    path = make_looping_segmenter(tmp_path)
    code = f"""
import os, signal, threading, time
import numpy as np
from segen.onnx import OnnxModel
model = OnnxModel({str(path)!r})
img = np.zeros((1, 1, 256, 256), np.float32)  # large enough to be watched on the main thread
start = time.perf_counter()
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    model.run({{"image": img}})
    print("finished", time.perf_counter() - start)
except KeyboardInterrupt:
    print("interrupted", time.perf_counter() - start)
"""
    out = run_python(code, timeout=120).split()
    assert out[0] == "interrupted", out
    assert float(out[1]) < 0.3 + 1.5, out
