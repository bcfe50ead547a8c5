"""segen-gan: DCGAN and conditional-GAN generators of 16x16 handwritten digits (shipped ONNX models) and
the ``segen train dcgan|cgan`` recipes.

Hook implementations only: the networks (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the generators run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models

#: Shipped models: name -> summary.
MODELS = {
    "dcgan-digits": "DCGAN of 16x16 handwritten digits (scikit-learn digits, train split)",
    "cgan-digits": "conditional GAN of 16x16 handwritten digits; labels 0-9 choose the digit",
}


#: Training recipes: name -> summary (one recipe function, told which one to run).
RECIPES = {
    "dcgan": "train a DCGAN on 16x16 handwritten digits (non-saturating loss, Adam 2e-4, beta1 0.5)",
    "cgan": "train a conditional GAN (class embedding in G and D) on 16x16 handwritten digits",
}


@segen.hookimpl
def register_generators(register):
    register_shipped_models(register, __name__, MODELS, kind="generator")


@segen.hookimpl
def register_trainers(register):
    for recipe, summary in RECIPES.items():
        register(recipe, lazy(f"{__name__}.train:train", recipe=recipe), extra="train", summary=summary)
