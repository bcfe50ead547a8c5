"""From torch to a checked ONNX file: export, metadata properties, parity with ONNX Runtime, int8.

Every segen export goes through :func:`to_onnx` (opset 17, the TorchScript exporter, dynamic batch) and
:func:`finish_onnx` (``segen.*`` metadata properties, full onnx.checker pass), and is compared with its
torch module through ONNX Runtime by :func:`onnx_parity`. :func:`quantize_static_int8` is the int8
machinery of the segmenters (static QDQ quantization; narrow convolutions stay float, :func:`narrow_convs`).

This module imports torch: only training code imports it (never :mod:`segen` itself nor inference).
"""

from __future__ import annotations

import json
import pathlib
import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np
import onnx
import onnxruntime as ort
import torch

__all__ = [
    "export_onnx",
    "finish_onnx",
    "narrow_convs",
    "onnx_parity",
    "parity",
    "quantize_static_int8",
    "to_onnx",
]


def to_onnx(
    model: torch.nn.Module,
    dummy: tuple,
    path,
    *,
    inputs: Sequence[str],
    outputs: Sequence[str],
    dynamic_axes: dict | None = None,
    props: dict | None = None,
) -> None:
    """Export ``model(*dummy)`` to `path` (opset 17) with the given input and output names, then
    :func:`finish_onnx`. `dynamic_axes` defaults to a free batch dimension ``N`` of every input and output."""
    model.eval()
    if dynamic_axes is None:
        dynamic_axes = {name: {0: "N"} for name in (*inputs, *outputs)}
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of the dynamo one, which needs onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            dummy,
            str(path),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=dynamic_axes,
            opset_version=17,
            dynamo=False,
        )
    finish_onnx(path, props)


def export_onnx(model, path: pathlib.Path, *, channels: int, size: int, props: dict | None = None) -> None:
    """Export a segmenter ``image (N, C, H, W) -> logits (N, K, H, W)`` with dynamic batch, height and
    width; run onnx.checker; store ``segen.*`` props."""
    _export(model, torch.zeros(1, channels, size, size), path, props)


def _export(model, dummy, path, props=None):
    spatial = {0: "N", 2: "H", 3: "W"}
    to_onnx(
        model,
        (dummy,),
        path,
        inputs=["image"],
        outputs=["logits"],
        dynamic_axes={"image": spatial, "logits": spatial},
        props=props,
    )


def finish_onnx(path, props: dict | None = None) -> None:
    """Store `props` in an exported ONNX file as ``segen.<key>`` metadata properties (JSON values) and run
    onnx.checker on it (full check); shared by every segen export."""
    proto = onnx.load(str(path))
    for key, value in (props or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = f"segen.{key}", json.dumps(value)
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))


@torch.no_grad()
def onnx_parity(model: torch.nn.Module, path, feeds: Iterable[Mapping[str, np.ndarray]]) -> float:
    """Largest absolute difference between the outputs of ``model(*feed.values())`` in torch and of the
    ONNX file `path` in ONNX Runtime, over all outputs and all `feeds` (input name -> array)."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    worst = 0.0
    for feed in feeds:
        ref = model(*(torch.from_numpy(np.asarray(v)) for v in feed.values()))
        ref = ref if isinstance(ref, (tuple, list)) else (ref,)
        got = sess.run(None, dict(feed))
        worst = max(worst, *(float(np.abs(r.numpy() - g).max()) for r, g in zip(ref, got)))
    return worst


def parity(model, path: pathlib.Path, shapes, *, channels: int, seed: int = 0) -> float:
    """Largest absolute difference between torch and ONNX Runtime logits over inputs of `shapes`."""
    rng = np.random.default_rng(seed)
    feeds = [{"image": rng.normal(0, 1, (n, channels, h, w)).astype(np.float32)} for n, h, w in shapes]
    return onnx_parity(model, path, feeds)


def narrow_convs(model, min_channels: int = 8) -> list[str]:
    """Names of the Conv / ConvTranspose nodes of an ONNX `model` with fewer than `min_channels` input or
    output channels (the first convolution on 1 or 3 image channels, the class-score convolutions).

    ONNX Runtime's int8 convolutions (im2col + an int8 GEMM per tile) pay off only for wide enough layers:
    measured on the shipped FCN at 1024 x 1024, the 3 -> 16 first convolution takes 75 ms as QLinearConv
    against 34 ms in float and the 16 -> 5 score convolution 21 ms against 8 ms, while the 16 -> 16 ... 128
    convolutions run 1.7 - 4x faster in int8. :func:`quantize_static_int8` leaves these nodes in float.
    """
    weights = {init.name: list(init.dims) for init in model.graph.initializer}
    for node in model.graph.node:  # the exporter shares equal weights through Identity nodes
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    names = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose") or len(node.input) < 2:
            continue
        dims = weights.get(node.input[1])
        if dims is None or len(dims) != 4:
            continue
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if node.op_type == "Conv":
            cout, cin = dims[0], dims[1] * group
        else:
            cin, cout = dims[0], dims[1] * group
        if min(cin, cout) < min_channels:
            names.append(node.name)
    return names


def quantize_static_int8(src, dst, calibration: Sequence[Mapping[str, np.ndarray]], *, min_channels: int = 8):
    """Write `dst`: ONNX Runtime's static quantization of `src` in the QDQ format (int8 per-channel weights,
    uint8 activations) calibrated on the `calibration` feeds, with `src`'s metadata properties.
    Convolutions with fewer than `min_channels` input or output channels stay in float (:func:`narrow_convs`:
    int8 is slower there). Returns the names of those float nodes."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(calibration)

        def get_next(self):
            return next(self._it, None)

    src, dst = pathlib.Path(src), pathlib.Path(dst)
    pre = src.with_suffix(".pre.onnx")
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    in_float = narrow_convs(onnx.load(str(pre)), min_channels)
    quantize_static(
        str(pre),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=in_float,
    )
    pre.unlink()
    proto = onnx.load(str(dst))
    del proto.metadata_props[:]
    for p in onnx.load(str(src)).metadata_props:
        proto.metadata_props.add(key=p.key, value=p.value)
    onnx.save(proto, str(dst))
    return in_float
