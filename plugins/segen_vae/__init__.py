"""segen-vae: variational autoencoders of handwritten digits (shipped ONNX models) and the ``segen train
vae`` / ``segen train cvae`` recipes.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the generators (:class:`segen_vae.model.VaeGenerator`) run the ONNX files in
``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models

#: Shipped models: name -> summary.
MODELS = {
    "vae-digits": "VAE (16-d latent, discretised logistic likelihood) of 16x16 handwritten digits; "
    "encode/reconstruct",
    "cvae-digits": "conditional VAE (class labels 0-9) of 16x16 handwritten digits; encode/reconstruct",
}


@segen.hookimpl
def register_generators(register):
    make = lazy(f"{__name__}.model:VaeGenerator")  # numpy and ONNX Runtime only when a model is made
    register_shipped_models(register, __name__, MODELS, kind="generator", make=make)


@segen.hookimpl
def register_trainers(register):
    train = f"{__name__}.train:train"
    summary = "train a VAE on the handwritten digits (--conditional true: a CVAE)"
    register("vae", lazy(train), extra="train", summary=summary)
    summary = "train a conditional VAE on the handwritten digits"
    register("cvae", lazy(train, conditional=True), extra="train", summary=summary)
