"""What a plugin provides: :class:`Segmenter` and :class:`Generator` and their :class:`ModelInfo`, and
:class:`FunctionSegmenter` for a plain function. Bases for ONNX models are in :mod:`segen.onnx`.

The public methods (``segment``, ``generate``) validate their arguments and the result; subclasses
implement the private ``_segment`` / ``_generate`` on already-checked input. Nothing here imports
onnxruntime.
"""

from __future__ import annotations

from .generator import MAX_GENERATE, Generator
from .info import ModelInfo
from .segmenter import FunctionSegmenter, Segmenter

__all__ = ["ModelInfo", "Segmenter", "Generator", "FunctionSegmenter", "MAX_GENERATE"]
