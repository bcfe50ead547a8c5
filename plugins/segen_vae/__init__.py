"""segen-vae: variational autoencoders of handwritten digits (shipped ONNX models) and the ``segen train
vae`` / ``segen train cvae`` recipes.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the generators (:class:`segen_vae.model.VaeGenerator`) run the ONNX files in
``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models
from segen.plugins.options import TrainOption

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
def register_model_loaders(register):
    # the decoders `segen train vae|cvae` writes (sidecar "loader": "segen-vae"), given by path or kept in a
    # user model folder, load with their fitted prior and their encoder
    register("segen-vae", lazy(f"{__name__}.model:VaeGenerator"), summary="VAE decoder + prior + encoder")


def _o(default, help, type=None, choices=()):
    return TrainOption(default, help, type, tuple(choices))


#: The options of ``segen train vae|cvae`` (the defaults of ``segen_vae.train.train``).
OPTIONS = {
    "data": _o(None, "folder of images (sub-folders = classes) to train on instead of the digits", str),
    "size": _o(None, "--data: side the images are brought to (default 64)", int, (32, 64, 128)),
    "channels": _o(None, "--data: 1 (grey) or 3 (RGB); default: those of the first image", int, (1, 3)),
    "crop": _o("center", "--data: after resizing the short side, the centre or a random window", None,
               ("center", "random")),
    "val_fraction": _o(0.1, "--data: fraction of each class's files held out for the reported numbers"),
    "skip_bad": _o(False, "--data: skip unreadable files (counted, with a warning) instead of stopping"),
    "epochs": _o(100, "passes over the training data"),
    "seed": _o(0, "seed of the weights, the split, the batches and the latents"),
    "latent_size": _o(16, "length of the latent vector z"),
    "width": _o(32, "channels of the first convolution (doubling per down-sampling, at most 8x)"),
    "batch_size": _o(64, "images per optimisation step"),
    "lr": _o(2e-3, "Adam learning rate (cosine decay to lr/20)"),
    "beta": _o(1.0, "weight of the KL term while training"),
    "kl_warmup": _o(10, "epochs of linear KL warm-up"),
    "shift": _o(None, "random shift in pixels (default: 1 for the digits, 0 for --data)", int),
    "prior_components": _o(None, "Gaussian-mixture prior components (default 10; 3 per class for a CVAE)",
                           int),
    "threads": _o(1, "torch CPU threads while training"),
    "device": _o("auto", "auto (CUDA when torch sees a GPU), cpu or cuda", None, ("auto", "cpu", "cuda")),
    "name": _o(None, "file name of the model (default: vae-digits / vae-<data folder>)", str),
    "sample_every": _o(10, "epochs between progress grids and checkpoints"),
    "resume": _o(False, "continue an interrupted run from <name>.ckpt.pt (same settings)"),
    "importance_samples": _o(500, "importance samples of the held-out log-likelihood (0: skip it)"),
    "elbo_samples": _o(16, "z draws per image of the reported negative ELBO"),
    "judge": _o(True, "digits: score the model with the digit judge"),
    "progress": _o(True, "show progress bars"),
}  # fmt: skip


@segen.hookimpl
def register_trainers(register):
    train = f"{__name__}.train:train"
    summary = "train a VAE on the handwritten digits or a folder of images (--data DIR --size N)"
    options = {"conditional": _o(False, "a conditional VAE (labels = the classes)"), **OPTIONS}
    register("vae", lazy(train), extra="train", summary=summary, options=options)
    summary = (
        "train a conditional VAE on the handwritten digits or a folder of images (sub-folders = classes)"
    )
    register("cvae", lazy(train, conditional=True), extra="train", summary=summary, options=OPTIONS)
