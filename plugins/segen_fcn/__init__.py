"""segen-fcn: FCN segmenters (shipped ONNX models) and the ``segen train fcn`` recipe.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the segmenters run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models

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
    summary = "train an FCN-8s-style network on shapes or texture mosaics"
    register("fcn", lazy(f"{__name__}.train:train"), extra="train", summary=summary)
