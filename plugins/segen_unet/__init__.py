"""segen-unet: U-Net segmenters (shipped ONNX models) and the ``segen train unet`` recipe.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the segmenters run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models
from segen.plugins.options import SEGMENTER_OPTIONS, TrainOption

#: Shipped models: name -> summary.
MODELS = {
    "unet-textures": "U-Net (depth 3) for 4-texture mosaics: brick, grass, gravel, immunohistochemistry",
    "unet-shapes": "U-Net (depth 3) for shapes: background, circle, square, triangle, ring",
}


@segen.hookimpl
def register_segmenters(register):
    register_shipped_models(register, __name__, MODELS)


@segen.hookimpl
def register_trainers(register):
    register(
        "unet",
        lazy(f"{__name__}.train:train"),
        extra="train",
        summary="train a U-Net on a folder of images + masks (--data DIR), shapes or texture mosaics",
        options={
            **SEGMENTER_OPTIONS,
            "depth": TrainOption(3, "down-samplings; the stride (size multiple) is 2**depth"),
            "width": TrainOption(16, "channels of the first level (level i has width * 2**i)"),
        },
    )
