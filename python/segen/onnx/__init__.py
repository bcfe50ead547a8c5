"""ONNX models in segen: the sidecar (schema, reader, writer), the checked ONNX Runtime session, the
preparation of images, and the segmenter and generator classes built on them.

Nothing here imports torch; onnxruntime itself is imported when a session is first made.

=================  =====================================================================================
sidecar            ``<name>.json`` beside ``<name>.onnx``: :func:`load_metadata`, :func:`write_sidecar`
session            :class:`OnnxModel`: files checked (size, sha256, inputs), session made on first use
preprocessing      scaling, channels, resizing and normalisation shared by the ONNX segmenters
segmenter          :class:`OnnxSegmenter` (fixed input size), :class:`DenseSegmenter` (any size, tiled)
generator          :class:`OnnxGenerator` (latent vectors, optional class labels -> uint8 images)
=================  =====================================================================================
"""

from __future__ import annotations

from .generator import OnnxGenerator
from .segmenter import DenseSegmenter, OnnxSegmenter
from .session import DEFAULT_MAX_BYTES, RANDOM_OPS, OnnxBacked, OnnxModel, random_ops
from .sidecar import TASKS, load_metadata, sha256_of, write_sidecar

__all__ = [
    "DEFAULT_MAX_BYTES",
    "RANDOM_OPS",
    "TASKS",
    "DenseSegmenter",
    "OnnxBacked",
    "OnnxGenerator",
    "OnnxModel",
    "OnnxSegmenter",
    "load_metadata",
    "random_ops",
    "sha256_of",
    "write_sidecar",
]
