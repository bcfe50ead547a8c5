"""ONNX models in segen: the sidecar (schema, reader, writer), the checked ONNX Runtime session, the
preparation of images, and the segmenter and generator classes built on them.

Nothing here imports torch; onnxruntime itself is imported when a session is first made.

=================  =====================================================================================
sidecar            ``<name>.json`` beside ``<name>.onnx``: :func:`load_metadata`, :func:`write_sidecar`; the
                   model digest over the .onnx and its external data, :func:`read_model` (bytes read once)
session            :class:`OnnxModel`: files checked (size, digest, inputs), session made on first use from
                   the verified bytes; outputs checked on every run
preprocessing      scaling, channels, resizing and normalisation shared by the ONNX segmenters
segmenter          :class:`OnnxSegmenter` (fixed input size), :class:`DenseSegmenter` (any size, tiled)
generator          :class:`OnnxGenerator` (latent vectors, optional class labels -> uint8 images)
=================  =====================================================================================
"""

from __future__ import annotations

from .generator import OnnxGenerator
from .segmenter import DenseSegmenter, OnnxSegmenter
from .session import DEFAULT_MAX_BYTES, RANDOM_OPS, OnnxBacked, OnnxModel, random_ops
from .sidecar import TASKS, ModelBytes, load_metadata, model_digest, read_model, sha256_of, write_sidecar

__all__ = [
    "DEFAULT_MAX_BYTES",
    "RANDOM_OPS",
    "TASKS",
    "DenseSegmenter",
    "OnnxBacked",
    "OnnxGenerator",
    "OnnxModel",
    "OnnxSegmenter",
    "ModelBytes",
    "load_metadata",
    "model_digest",
    "random_ops",
    "read_model",
    "sha256_of",
    "write_sidecar",
]
