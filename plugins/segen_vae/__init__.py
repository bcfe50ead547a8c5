"""segen-vae: variational autoencoders of handwritten digits (shipped ONNX models) and the ``segen train
vae`` / ``segen train cvae`` recipes.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the generators (:class:`segen_vae.model.VaeGenerator`) run the ONNX files in
``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen

#: Shipped models: name -> summary.
MODELS = {
    "vae-digits": "VAE (16-d latent, discretised logistic likelihood) of 16x16 handwritten digits; "
    "encode/reconstruct",
    "cvae-digits": "conditional VAE (class labels 0-9) of 16x16 handwritten digits; encode/reconstruct",
}


def _make(path, **options):
    from .model import VaeGenerator

    return VaeGenerator(path, **options)


@segen.hookimpl
def register_generators(register):
    from segen.plugins import register_shipped_models

    register_shipped_models(register, __name__, MODELS, kind="generator", make=_make)


def _train(output, **params):
    from .train import train

    return train(output, **params)


def _train_conditional(output, **params):
    from .train import train

    params.setdefault("conditional", True)
    return train(output, **params)


@segen.hookimpl
def register_trainers(register):
    register(
        "vae",
        _train,
        extra="train",
        summary="train a VAE on the handwritten digits (--conditional true: a CVAE)",
    )
    register(
        "cvae", _train_conditional, extra="train", summary="train a conditional VAE on the handwritten digits"
    )
