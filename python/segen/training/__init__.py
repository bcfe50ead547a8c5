"""Training segen's networks in PyTorch and exporting them to ONNX (the ``train`` extra).

torch is imported here and nowhere else in segen: inference never needs it.

==========  =========================================================================================
loop        :func:`fit`: the epoch loop every recipe runs, with callbacks (checkpoint and resume, best
            weights, early stopping, work every N epochs), a progress bar and the per-epoch history
export      ONNX export, metadata properties, torch-vs-ONNX Runtime parity, int8 quantization
segmenter   the recipe behind ``segen train unet|fcn``: data, loss, loop, export, int8, sidecar
generator   ONNX export, parity and sidecar of generators (``segen train dcgan|cgan|vae``)
judge       the digit judge's training (``segen train judge``)
==========  =========================================================================================

Every sidecar is written by :func:`segen.onnx.write_sidecar`.
"""

from __future__ import annotations

from .export import export_onnx, finish_onnx, narrow_convs, onnx_parity, parity, quantize_static_int8, to_onnx
from .generator import (
    export_generator,
    generator_parity,
    load_checkpoint,
    save_checkpoint,
    save_grid,
    to_tensor,
    write_generator_json,
)
from .loop import (
    At,
    BestWeights,
    Callback,
    Checkpoint,
    EarlyStopping,
    Every,
    FiniteLoss,
    History,
    Loop,
    fit,
    shuffled_batches,
    torch_threads,
)
from .segmenter import (
    dice_loss,
    prepare,
    quantize_int8,
    run_recipe,
    segmenter_recipe,
    train_segmenter,
    write_model,
)

__all__ = [
    "At",
    "BestWeights",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "Every",
    "FiniteLoss",
    "History",
    "Loop",
    "dice_loss",
    "export_generator",
    "export_onnx",
    "finish_onnx",
    "fit",
    "generator_parity",
    "load_checkpoint",
    "narrow_convs",
    "onnx_parity",
    "parity",
    "prepare",
    "quantize_int8",
    "quantize_static_int8",
    "run_recipe",
    "save_checkpoint",
    "save_grid",
    "segmenter_recipe",
    "shuffled_batches",
    "to_onnx",
    "to_tensor",
    "torch_threads",
    "train_segmenter",
    "write_generator_json",
    "write_model",
]
