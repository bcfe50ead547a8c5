"""Training segen's networks in PyTorch and exporting them to ONNX (the ``train`` extra).

torch is imported here and nowhere else in segen: inference never needs it.

==========  =========================================================================================
segmenter   the recipe behind ``segen train unet|fcn``: data, loss, loop, export, int8, sidecar
generator   ONNX export, parity and sidecar of generators (``segen train dcgan|cgan|vae``)
judge       the digit judge's training (``segen train judge``)
==========  =========================================================================================
"""

from __future__ import annotations

from .segmenter import (
    dice_loss,
    export_onnx,
    finish_onnx,
    narrow_convs,
    parity,
    prepare,
    quantize_int8,
    run_recipe,
    train_segmenter,
    write_model,
)

__all__ = [
    "dice_loss",
    "export_onnx",
    "finish_onnx",
    "narrow_convs",
    "parity",
    "prepare",
    "quantize_int8",
    "run_recipe",
    "train_segmenter",
    "write_model",
]
