"""segen-gan: DCGAN and conditional-GAN generators of 16x16 handwritten digits (shipped ONNX models) and
the ``segen train dcgan|cgan`` recipes.

Hook implementations only: the networks (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the generators run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen

#: Shipped models: name -> summary.
MODELS = {
    "dcgan-digits": "DCGAN of 16x16 handwritten digits (scikit-learn digits, train split)",
    "cgan-digits": "conditional GAN of 16x16 handwritten digits; labels 0-9 choose the digit",
}


@segen.hookimpl
def register_generators(register):
    from segen.plugins import register_shipped_models

    register_shipped_models(register, __name__, MODELS, kind="generator")


def _trainer(recipe: str, doc: str):
    def train(output, **params):
        from .train import train as run

        return run(output, recipe=recipe, **params)

    train.__doc__ = doc
    return train


@segen.hookimpl
def register_trainers(register):
    register(
        "dcgan",
        _trainer("dcgan", "train a DCGAN on 16x16 handwritten digits"),
        extra="train",
        summary="train a DCGAN on 16x16 handwritten digits (non-saturating loss, Adam 2e-4, beta1 0.5)",
    )
    register(
        "cgan",
        _trainer("cgan", "train a conditional GAN on 16x16 handwritten digits"),
        extra="train",
        summary="train a conditional GAN (class embedding in G and D) on 16x16 handwritten digits",
    )
