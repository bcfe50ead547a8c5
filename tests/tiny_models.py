"""Tiny ONNX models with their sidecars, built with onnx.helper (needs the test extra's onnx): shared by the
tests of segen.onnx, the CLI and the plugins."""

from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import onnx
import segen
from onnx import TensorProto, helper, numpy_helper


def _save(model, path: pathlib.Path, meta: dict, props: dict | None = None) -> pathlib.Path:
    for k, v in (props or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, json.dumps(v)
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    meta = {**meta, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def _opset():
    return [helper.make_opsetid("", 17)]


def make_segmenter_model(
    folder: pathlib.Path, name: str = "tiny-seg", *, size=(16, 16), props=None
) -> pathlib.Path:
    """(1, 1, H, W) grey -> (1, 2, H, W) scores [0.5 - x, x - 0.5]: class 1 where x > 0.5."""
    h, w = size
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, h, w])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2, h, w])
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    nodes = [
        helper.make_node("Sub", ["half", "image"], ["bg"]),
        helper.make_node("Sub", ["image", "half"], ["fg"]),
        helper.make_node("Concat", ["bg", "fg"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(nodes, "tiny_seg", [x], [y], initializer=[half])
    model = helper.make_model(graph, opset_imports=_opset(), producer_name="segen-tests", ir_version=8)
    meta = {
        "name": name,
        "task": "segmentation",
        "summary": "tiny test segmenter: bright pixels",
        "inputs": {"image": {"shape": ["N", 1, h, w], "dtype": "float32"}},
        "input_size": [h, w],
        "channels": 1,
        "mean": [0.0],
        "std": [1.0],
        "classes": ["background", "bright"],
        "training": {"data": "none (hand-made graph)", "epochs": 0, "seed": 0},
        "metrics": {"iou": 1.0},
        "segen_version": segen.__version__,
    }
    return _save(model, folder / f"{name}.onnx", meta, props)


def make_generator_model(
    folder: pathlib.Path,
    name: str = "tiny-gen",
    *,
    conditional: bool = False,
    latent: int = 4,
    size=(8, 8),
    batch="N",
) -> pathlib.Path:
    """z (N, latent) [+ labels (N,) int64] -> tanh(z @ W [+ E[labels] @ W]) reshaped to (N, 1, H, W)."""
    h, w = size
    rng = np.random.default_rng(0)
    W = numpy_helper.from_array(rng.normal(size=(latent, h * w)).astype(np.float32), "W")
    shape = numpy_helper.from_array(np.array([-1, 1, h, w], np.int64), "shape")
    inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, [batch, latent])]
    inits = [W, shape]
    nodes = []
    src = "z"
    if conditional:
        inputs.append(helper.make_tensor_value_info("labels", TensorProto.INT64, [batch]))
        inits.append(numpy_helper.from_array((3 * rng.normal(size=(10, latent))).astype(np.float32), "E"))
        nodes += [
            helper.make_node("Gather", ["E", "labels"], ["emb"], axis=0),
            helper.make_node("Add", ["z", "emb"], ["zc"]),
        ]
        src = "zc"
    nodes += [
        helper.make_node("MatMul", [src, "W"], ["flat"]),
        helper.make_node("Tanh", ["flat"], ["t"]),
        helper.make_node("Reshape", ["t", "shape"], ["images"]),
    ]
    y = helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 1, h, w])
    graph = helper.make_graph(nodes, "tiny_gen", inputs, [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=_opset(), producer_name="segen-tests", ir_version=8)
    meta = {
        "name": name,
        "task": "generation",
        "summary": "tiny test generator",
        "inputs": {"z": {"shape": [batch, latent], "dtype": "float32"}},
        "latent_size": latent,
        "output_size": [h, w],
        "channels": 1,
        "output_range": [-1, 1],
        "training": {"data": "none", "epochs": 0, "seed": 0},
        "metrics": {"fid": 0.0},
    }
    if conditional:
        meta["inputs"]["labels"] = {"shape": [batch], "dtype": "int64"}
        meta["num_classes"] = 10
    return _save(model, folder / f"{name}.onnx", meta)
