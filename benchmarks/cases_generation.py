"""Benchmark cases for the shipped generators: 1,000 images with ONNX Runtime (``Generator.generate``)
against torch eager running the same network (built from the model JSON's ``architecture``; the VAE decoders
with their shipped weights read back from the ONNX files; eval mode, ``torch.inference_mode``), at the
harness's thread counts.

Both sides do the same work: draw the latents with ``numpy.random.default_rng(0)``, run the network on
one batch of 1,000 and map the output to uint8 (segen: :class:`segen.onnx.OnnxGenerator` on the same
file, so the VAEs sample N(0, I) here rather than their fitted prior). Table-driven: :data:`GENERATORS` maps a shipped model to
its ``.onnx`` and a function building its torch network from the JSON; adding a generator (e.g. the VAE
decoder) is one entry. Needs torch (the ``train`` extra) for the peer; models not in this checkout are
skipped.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
from _harness import Case, per_thread_count

ROOT = pathlib.Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
N = 1000


def _gan_net(meta, path):
    from segen_gan.net import build_generator

    return build_generator(meta["architecture"])


def _vae_decoder(meta, path):
    from segen_vae.net import DecoderImages, load_onnx

    return DecoderImages(load_onnx(path).decoder)


#: shipped generator -> (its .onnx, build(meta, path) -> the torch network ``(z[, labels]) -> images``)
GENERATORS = {
    "dcgan-digits": (PLUGINS / "segen_gan" / "models" / "dcgan-digits.onnx", _gan_net),
    "cgan-digits": (PLUGINS / "segen_gan" / "models" / "cgan-digits.onnx", _gan_net),
    "vae-digits": (PLUGINS / "segen_vae" / "models" / "vae-digits.onnx", _vae_decoder),
    "cvae-digits": (PLUGINS / "segen_vae" / "models" / "cvae-digits.onnx", _vae_decoder),
}


def _ort(path):
    from segen.onnx import OnnxGenerator

    return per_thread_count(
        lambda t: OnnxGenerator(path, threads=t), lambda gen, labels: gen.generate(N, seed=0, labels=labels)
    )


def _eager(net, meta):
    import segen
    import torch

    lo, hi = meta.get("output_range", [-1.0, 1.0])
    latent = meta["latent_size"]

    def run(labels):
        torch.set_num_threads(segen.get_num_threads())
        z = np.random.default_rng(0).standard_normal((N, latent)).astype(np.float32)
        with torch.inference_mode():
            args = (torch.from_numpy(z),) + (() if labels is None else (torch.from_numpy(labels),))
            y = net(*args).numpy()
        y = np.clip((y - lo) / (hi - lo), 0, 1)
        return (y * 255).round().astype(np.uint8)

    return run


def cases():
    import torch  # noqa: F401 - the peer; a missing torch skips the area

    sys.path.insert(0, str(PLUGINS))
    out = []
    for name, (path, build) in GENERATORS.items():
        if not path.is_file():
            continue
        meta = json.loads(path.with_suffix(".json").read_text())
        net = build(meta, path).eval()
        k = meta.get("num_classes")

        def args(k=k):
            return (None if not k else (np.arange(N) % k).astype(np.int64),)

        out.append(
            Case(
                f"{name} generate {N} onnxruntime",
                args,
                _ort(path),
                {"torch": _eager(net, meta)},
                {"torch": 1.0},
            )
        )
    return out
