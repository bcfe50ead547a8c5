"""segen-gan: DCGAN and conditional-GAN generators of 16x16 handwritten digits (shipped ONNX models) and
the ``segen train dcgan|cgan`` recipes.

Hook implementations only: the networks (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the generators run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models
from segen.plugins.options import TrainOption

#: Shipped models: name -> summary.
MODELS = {
    "dcgan-digits": "DCGAN of 16x16 handwritten digits (scikit-learn digits, train split)",
    "cgan-digits": "conditional GAN of 16x16 handwritten digits; labels 0-9 choose the digit",
    "cgan-textures": "conditional GAN of 64x64 grey texture patches (scikit-image photographs); labels 0-3: "
    "brick, grass, gravel, immunohistochemistry",
}


#: Training recipes: name -> summary (one recipe function, told which one to run).
RECIPES = {
    "dcgan": "train a DCGAN on 16x16 handwritten digits, or on a folder of images (--data DIR --size N)",
    "cgan": "train a conditional GAN (class embedding in G and D) on 16x16 handwritten digits, or on a folder "
    "with one sub-folder of images per class (--data DIR --size N)",
}

_O = TrainOption
#: The options both recipes declare (``segen train dcgan --help``); defaults as in ``segen_gan.train``.
OPTIONS = {
    "data": _O(None, "folder of images (sub-folders = classes) to train on; default: the digits", str),
    "size": _O(None, "--data: image side, 32, 64 or 128 (default 64)", int),
    "channels": _O(None, "--data: 1 (grey) or 3 (RGB); default: those of the first image", int),
    "crop": _O(
        "center", "--data: window after the short side is resized to --size", choices=("center", "random")
    ),
    "skip_bad": _O(False, "--data: skip unreadable files with a warning instead of stopping"),
    "device": _O("auto", "auto (CUDA when torch sees a GPU), cpu or cuda", choices=("auto", "cpu", "cuda")),
    "epochs": _O(None, "passes over the data (default 800 dcgan / 400 cgan on digits, 100 on --data)", int),
    "seed": _O(0, "seed of the weights, shuffling, latents and labels"),
    "latent_size": _O(32, "length of the latent vector z"),
    "width": _O(32, "G's base channels (doubled per stage towards 4x4, at most 8x)"),
    "d_width": _O(None, "D's base channels (default: --width)", int),
    "embed_size": _O(16, "cgan: length of the class embedding in G"),
    "discriminator": _O("channel", "cgan: how D sees the label", choices=("channel", "projection")),
    "batch_size": _O(64, "images per step (the last partial batch is dropped)"),
    "lr": _O(2e-4, "Adam learning rate of G (and D unless --d-lr)"),
    "d_lr": _O(None, "Adam learning rate of D", float),
    "d_steps": _O(1, "D updates per G update"),
    "beta1": _O(0.5, "Adam beta1"),
    "beta2": _O(0.999, "Adam beta2"),
    "d_norm": _O("spectral", "D's normalisation", choices=("spectral", "batch", "none")),
    "smooth": _O(0.9, "target of real images (1: no one-sided label smoothing)"),
    "ema": _O(0.999, "decay of the exported moving average of G's weights (0: the live G)"),
    "aux": _O(
        None, "dcgan: weight of the auxiliary-classifier terms (default 1 on digits, 0 on --data)", float
    ),
    "r1": _O(0.0, "weight of an R1 penalty on real images"),
    "minibatch_std": _O(0, "group of a minibatch-std feature in D (0: none)"),
    "threads": _O(1, "torch intra-op threads"),
    "grid_every": _O(10, "epochs between sample grids and checkpoints"),
    "name": _O(None, "file names of the outputs (default <recipe>-digits or <recipe>-<folder>)", str),
    "resume": _O(False, "continue from <name>.ckpt.pt"),
    "evaluate": _O(True, "digits: score the exported model with the judge"),
    "progress": _O(True, "draw progress bars"),
}


@segen.hookimpl
def register_generators(register):
    register_shipped_models(register, __name__, MODELS, kind="generator")


@segen.hookimpl
def register_trainers(register):
    for recipe, summary in RECIPES.items():
        make = lazy(f"{__name__}.train:train", recipe=recipe)
        register(recipe, make, extra="train", summary=summary, options=OPTIONS)
