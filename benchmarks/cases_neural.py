"""Benchmark cases for the neural segmenters: ONNX Runtime fp32 and int8 (static QDQ) against torch eager,
batch 1, on 256 x 256 and 1024 x 1024 inputs (the shipped models' own network; torch runs the same
architecture, built from the model's JSON, in eval mode under ``torch.inference_mode``).

The int8 cases are timed against the fp32 session alone (their target): with torch as a third peer, its
OpenMP workers, still spinning after each torch call, slowed whichever ONNX Runtime run came next, and on
a shared 2-core CPU that alone moved the int8/fp32 ratio at 2 threads from about 1.5 to 1.2. torch is
compared with the fp32 session in the fp32 cases.

The segen side times the network only (``OnnxModel.run`` on a prepared tensor), as torch does; sessions
are made per thread count with ``segen.get_num_threads()``. Needs torch (the ``train`` extra) for the peer.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
from _harness import Case, per_thread_count

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = {
    "unet-textures": ROOT / "plugins" / "segen_unet" / "models" / "unet-textures.onnx",
    "fcn-shapes": ROOT / "plugins" / "segen_fcn" / "models" / "fcn-shapes.onnx",
}


def _torch_net(meta):
    sys.path.insert(0, str(ROOT / "plugins"))
    arch = dict(meta["architecture"])
    kind = arch.pop("type")
    if kind == "unet":
        from segen_unet.net import UNet

        return UNet(meta["channels"], len(meta["classes"]), depth=arch["depth"], width=arch["width"])
    from segen_fcn.net import FCN

    return FCN(
        meta["channels"],
        len(meta["classes"]),
        stages=arch["stages"],
        width=arch["width"],
        convs=arch.get("convs", 2),
        skips=arch.get("skips", 3),
        decoder=arch.get("decoder", 0),
        upsample=arch.get("upsample", "bilinear"),
    )


def _ort(path):
    from segen.onnx import OnnxModel

    return per_thread_count(lambda t: OnnxModel(path, threads=t), lambda model, x: model.run({"image": x}))


def cases():
    import segen
    import torch

    out = []
    for name, path in MODELS.items():
        if not path.is_file():
            continue
        meta = json.loads(path.with_suffix(".json").read_text())
        net = _torch_net(meta).eval()
        q = path.with_name(f"{name}-int8.onnx")

        def eager(x, net=net):
            torch.set_num_threads(segen.get_num_threads())
            with torch.inference_mode():
                return net(torch.from_numpy(x))

        for size in (256, 1024):

            def args(size=size, c=meta["channels"]):
                return (np.random.default_rng(0).normal(0, 1, (1, c, size, size)).astype(np.float32),)

            out.append(
                Case(
                    f"{name} fp32 onnxruntime {size}x{size}",
                    args,
                    _ort(path),
                    {"torch": eager},
                    {"torch": 1 / 1.5},
                    repeat=5 if size == 1024 else None,
                )
            )
            if q.is_file():
                out.append(
                    Case(
                        f"{name} int8 onnxruntime {size}x{size}",
                        args,
                        _ort(q),
                        {"onnxruntime-fp32": _ort(path)},
                        {"onnxruntime-fp32": 1 / 1.3},
                        repeat=5 if size == 1024 else None,
                    )
                )
    return out
