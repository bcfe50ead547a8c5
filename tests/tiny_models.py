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
    folder: pathlib.Path,
    name: str = "tiny-seg",
    *,
    size=(16, 16),
    props=None,
    out_channels: int = 2,
    pool: bool = False,
    log: bool = False,
) -> pathlib.Path:
    """(1, 1, H, W) grey -> (1, 2, H, W) scores [0.5 - x, x - 0.5]: class 1 where x > 0.5.

    Hostile variants, with the same sidecar (2 classes): `out_channels` 1 gives the ``fg`` score alone,
    more than 2 repeat it; `pool` halves H and W (2 x 2 average pooling); `log` takes the log of the scores (NaN where a
    score is negative)."""
    h, w = size
    oh, ow = [(d // 2 if isinstance(d, int) else f"{d}_half") if pool else d for d in (h, w)]
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, h, w])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", out_channels, oh, ow])
    half = numpy_helper.from_array(np.array(0.5, np.float32), "half")
    parts = ["fg"] if out_channels == 1 else ["bg", "fg"] + ["fg"] * (out_channels - 2)
    last = "scores" if not (pool or log) else "raw"
    nodes = [
        helper.make_node("Sub", ["half", "image"], ["bg"]),
        helper.make_node("Sub", ["image", "half"], ["fg"]),
        helper.make_node("Concat", parts, [last], axis=1),
    ]
    if pool:
        nodes.append(
            helper.make_node(
                "AveragePool",
                [last],
                ["scores" if not log else "pooled"],
                kernel_shape=[2, 2],
                strides=[2, 2],
            )
        )
        last = "pooled"
    if log:
        nodes.append(helper.make_node("Log", [last], ["scores"]))
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
    channels: int = 1,
    nan: bool = False,
    meta: dict | None = None,
) -> pathlib.Path:
    """z (N, latent) [+ labels (N,) int64] -> tanh(z @ W [+ E[labels] @ W]) reshaped to (N, C, H, W).

    `channels` sets C (the sidecar's ``channels`` is C when C is 1 or 3, else 1); `nan` makes the first half of W NaN (half of every image NaN); `meta` overrides sidecar keys."""
    h, w = size
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(latent, channels * h * w)).astype(np.float32)
    if nan:
        weights[:, : weights.shape[1] // 2] = np.nan
    W = numpy_helper.from_array(weights, "W")
    shape = numpy_helper.from_array(np.array([-1, channels, h, w], np.int64), "shape")
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
    y = helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, channels, h, w])
    graph = helper.make_graph(nodes, "tiny_gen", inputs, [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=_opset(), producer_name="segen-tests", ir_version=8)
    sidecar = {
        "name": name,
        "task": "generation",
        "summary": "tiny test generator",
        "inputs": {"z": {"shape": [batch, latent], "dtype": "float32"}},
        "latent_size": latent,
        "output_size": [h, w],
        "channels": channels if channels in (1, 3) else 1,
        "output_range": [-1, 1],
        "training": {"data": "none", "epochs": 0, "seed": 0},
        "metrics": {"fid": 0.0},
    }
    if conditional:
        sidecar["inputs"]["labels"] = {"shape": [batch], "dtype": "int64"}
        sidecar["num_classes"] = 10
    return _save(model, folder / f"{name}.onnx", {**sidecar, **(meta or {})})


def digest_v1(onnx_bytes: bytes, external: dict[str, bytes]) -> str:
    """The sidecar digest of a model with external data, computed here from segen.onnx.sidecar's documented
    scheme (independently of segen's code)."""
    h = hashlib.sha256(b"segen-model-digest-v1\0")
    pieces = [onnx_bytes]
    for name in sorted(external):
        pieces += [name.encode(), external[name]]
    for piece in pieces:
        h.update(len(piece).to_bytes(8, "little"))
        h.update(piece)
    return h.hexdigest()


def external_tensor(name: str, array: np.ndarray, location: str, offset: int = 0) -> onnx.TensorProto:
    """A TensorProto whose data is stored in file `location` at `offset` (the file is not written)."""
    t = numpy_helper.from_array(array, name)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(array.nbytes))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return t


def make_external_segmenter(
    folder: pathlib.Path, name: str = "ext-seg", *, location: str | None = None, write: bool = True
) -> pathlib.Path:
    """:func:`make_segmenter_model`'s graph (16 x 16) with its constant ``half`` (0.5) stored in the external
    file `location` (default ``<name>.bin`` beside the model; written when `write`); the sidecar's digest
    covers both files."""
    location = location or f"{name}.bin"
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 16, 16])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2, 16, 16])
    half = np.array([0.5], np.float32)
    nodes = [
        helper.make_node("Sub", ["half", "image"], ["bg"]),
        helper.make_node("Sub", ["image", "half"], ["fg"]),
        helper.make_node("Concat", ["bg", "fg"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "ext_seg", [x], [y], initializer=[external_tensor("half", half, location)]
    )
    model = helper.make_model(graph, opset_imports=_opset(), producer_name="segen-tests", ir_version=8)
    path = folder / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    if write:
        (folder / location).write_bytes(half.tobytes())
    meta = {
        "name": name,
        "task": "segmentation",
        "inputs": {"image": {"shape": ["N", 1, 16, 16], "dtype": "float32"}},
        "input_size": [16, 16],
        "channels": 1,
        "classes": ["background", "bright"],
        "sha256": digest_v1(path.read_bytes(), {location: half.tobytes()}),
    }
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def _noisy_nodes(src: str, dst: str) -> list:
    return [
        helper.make_node("RandomNormalLike", [src], [dst + "_eps"]),
        helper.make_node("Add", [src, dst + "_eps"], [dst]),
    ]


def _branch(name: str, nodes: list, out: str) -> onnx.GraphProto:
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])


def _if_noisy(out: str, branch_out: str, then: list | None = None):
    """If(cond): `then` nodes (default: z plus noise) giving `branch_out`, else z; the result is `out`."""
    return helper.make_node(
        "If",
        ["cond"],
        [out],
        then_branch=_branch(f"then_{out}", then or _noisy_nodes("z", branch_out), branch_out),
        else_branch=_branch(f"else_{out}", [helper.make_node("Identity", ["z"], [f"{out}_e"])], f"{out}_e"),
    )


def make_hidden_random_generator(folder: pathlib.Path, where: str) -> pathlib.Path:
    """A generator z (N, 4) -> (N, 1, 2, 2) adding noise drawn inside the graph, hidden: ``"if"`` in an If
    branch, ``"nested"`` in an If inside an If branch, ``"function"`` in a model-local function, ``"dropout"``
    as a Dropout with training_mode true."""
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 1, 2, 2])
    inits = [
        numpy_helper.from_array(np.array([-1, 1, 2, 2], np.int64), "shape"),
        numpy_helper.from_array(np.array(True), "cond"),
    ]
    functions, opsets = [], _opset()
    if where in ("if", "nested"):
        then = [_if_noisy("t", "t_in")] if where == "nested" else _noisy_nodes("z", "t")
        nodes = [_if_noisy("noisy", "t", then)]
    elif where == "function":
        fn = helper.make_function("segen.tests", "AddNoise", ["x"], ["y"], _noisy_nodes("x", "y"), _opset())
        functions.append(fn)
        opsets = [*opsets, helper.make_opsetid("segen.tests", 1)]
        nodes = [helper.make_node("AddNoise", ["z"], ["noisy"], domain="segen.tests")]
    elif where == "dropout":
        inits += [
            numpy_helper.from_array(np.array(0.5, np.float32), "ratio"),
            numpy_helper.from_array(np.array(True), "train"),
        ]
        nodes = [helper.make_node("Dropout", ["z", "ratio", "train"], ["noisy"])]
    else:
        raise ValueError(where)
    nodes.append(helper.make_node("Reshape", ["noisy", "shape"], ["images"]))
    graph = helper.make_graph(nodes, f"hidden_{where}", [z], [y], initializer=inits)
    model = helper.make_model(
        graph, opset_imports=opsets, producer_name="segen-tests", ir_version=8, functions=functions
    )
    meta = {
        "name": f"hidden-{where}",
        "task": "generation",
        "inputs": {"z": {"shape": ["N", 4], "dtype": "float32"}},
        "latent_size": 4,
        "output_size": [2, 2],
        "channels": 1,
    }
    return _save(model, folder / f"hidden-{where}.onnx", meta)


def make_looping_segmenter(
    folder: pathlib.Path, name: str = "loop-seg", *, iterations: int = 2**62
) -> pathlib.Path:
    """:func:`make_segmenter_model`'s scores for any (N, 1, H, W), after a Loop of `iterations` steps that
    adds 1 to a counter (its result times 0 is added to the scores): 2**62 steps never end, the way a hostile
    model would hold a CPU for ever on a tiny input."""
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, "H", "W"])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2, "H", "W"])
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["count_in", "one"], ["count_out"]),
        ],
        "count",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("count_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("count_out", TensorProto.FLOAT, [1]),
        ],
        [numpy_helper.from_array(np.array([1.0], np.float32), "one")],
    )
    inits = [
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array([0.0], np.float32), "start"),
        numpy_helper.from_array(np.array(iterations, np.int64), "trips"),
        numpy_helper.from_array(np.array(True), "go"),
    ]
    nodes = [
        helper.make_node("Loop", ["trips", "go", "start"], ["count"], body=body),
        helper.make_node("Mul", ["count", "zero"], ["nothing"]),
        helper.make_node("Sub", ["half", "image"], ["bg"]),
        helper.make_node("Sub", ["image", "half"], ["fg"]),
        helper.make_node("Concat", ["bg", "fg"], ["raw"], axis=1),
        helper.make_node("Add", ["raw", "nothing"], ["scores"]),
    ]
    graph = helper.make_graph(nodes, "loop_seg", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=_opset(), producer_name="segen-tests", ir_version=8)
    meta = {
        "name": name,
        "task": "segmentation",
        "inputs": {"image": {"shape": ["N", 1, "H", "W"], "dtype": "float32"}},
        "input_size": [16, 16],
        "channels": 1,
        "classes": ["background", "bright"],
    }
    return _save(model, folder / f"{name}.onnx", meta)
