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

from . import export, generator, loop, segmenter
from .export import *  # noqa: F403
from .generator import *  # noqa: F403
from .loop import *  # noqa: F403
from .segmenter import *  # noqa: F403

#: The public names of the submodules above (each module's ``__all__``).
__all__ = [*export.__all__, *generator.__all__, *loop.__all__, *segmenter.__all__]
