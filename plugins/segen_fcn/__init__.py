"""segen-fcn: FCN segmenters (shipped ONNX models) and the ``segen train fcn`` recipe.

Hook implementations only: the network (``net.py``) and the recipe (``train.py``) import torch and are
imported only when training; the segmenters run the ONNX files in ``models/`` through ONNX Runtime.
"""

from __future__ import annotations

import segen

#: Shipped models: name -> summary.
MODELS = {
    "fcn-shapes": "FCN-8s-style net for shapes: background, circle, square, triangle, ring",
    "fcn-textures": "FCN-8s-style net for 4-texture mosaics: brick, grass, gravel, immunohistochemistry",
}


@segen.hookimpl
def register_segmenters(register):
    from segen.plugins import register_shipped_models

    register_shipped_models(register, __name__, MODELS)


def _train(output, **params):
    from .train import train

    return train(output, **params)


@segen.hookimpl
def register_trainers(register):
    register(
        "fcn", _train, extra="train", summary="train an FCN-8s-style network on shapes or texture mosaics"
    )
