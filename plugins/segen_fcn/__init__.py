"""segen-fcn: FCN segmenters (shipped ONNX models) and the ``segen train fcn`` recipe.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the segmenters run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models
from segen.plugins.options import SEGMENTER_OPTIONS, TrainOption

#: Shipped models: name -> summary.
MODELS = {
    "fcn-shapes": "FCN-8s-style net for shapes: background, circle, square, triangle, ring",
    "fcn-textures": "FCN-8s-style net for 4-texture mosaics: brick, grass, gravel, immunohistochemistry",
}


@segen.hookimpl
def register_segmenters(register):
    register_shipped_models(register, __name__, MODELS)


@segen.hookimpl
def register_trainers(register):
    summary = "train an FCN-8s-style network on a folder of images + masks (--data DIR), shapes or textures"
    options = {
        **SEGMENTER_OPTIONS,
        "dataset": TrainOption(
            "shapes", "built-in data set when no --data is given", choices=("shapes", "textures")
        ),
        "stages": TrainOption(4, "down-sampling stages; the stride (size multiple) is 2**stages"),
        "width": TrainOption(16, "channels of the first stage"),
        "skips": TrainOption(3, "skip connections from the last stages into the decoder"),
        "decoder": TrainOption(0, "decoder convolution width (0: none, FCN-8s score maps added)"),
        "upsample": TrainOption("bilinear", "up-sampling of the decoder", choices=("bilinear", "nearest")),
    }
    register("fcn", lazy(f"{__name__}.train:train"), extra="train", summary=summary, options=options)
