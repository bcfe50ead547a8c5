"""Measuring models: segmentation scores against the truth (:mod:`segen.eval.metrics`) and the digit
judge that scores generators (:mod:`segen.eval.judge`). numpy and ONNX Runtime only; no torch."""

from __future__ import annotations

from .judge import Judge, evaluate_generator, frechet_distance, nearest_distances
from .metrics import (
    average_precision,
    instance_iou,
    instance_scores,
    match_instances,
    segmentation_scores,
)

__all__ = [
    "Judge",
    "evaluate_generator",
    "frechet_distance",
    "nearest_distances",
    "segmentation_scores",
    "instance_iou",
    "match_instances",
    "instance_scores",
    "average_precision",
]
