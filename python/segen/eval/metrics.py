"""Scores of segmentations against the truth."""

from __future__ import annotations

import numpy as np

from .._shared.limits import check_allocation
from .._shared.validation import as_array, check_int
from ..errors import DTypeError, InvalidArgumentError


def _class_indices(value, name: str) -> np.ndarray:
    """An integer (or bool) array; floats, complex and strings are refused by name (NaN and complex labels
    were cast to integers, strings failed inside numpy)."""
    arr = as_array(value, name)
    if arr.dtype.kind not in "biu":
        raise DTypeError(f"`{name}` must hold integer class indices; got dtype {arr.dtype}")
    return arr


def segmentation_scores(pred, true, num_classes: int) -> dict:
    """Pixel accuracy, per-class IoU and mean IoU of predicted labels against the truth.

    Parameters
    ----------
    pred, true : ndarray of int
        Predicted and true class indices, same shape, values in [0, `num_classes`).
    num_classes : int
        Number of classes.

    Returns
    -------
    scores : dict
        ``pixel_accuracy`` (float), ``iou`` (list, NaN for a class absent from both), ``mean_iou``
        (mean over the classes present in `true` or `pred`).

    Raises
    ------
    InvalidArgumentError
        If the shapes differ or a value is out of range.
    DTypeError
        If `pred` or `true` is not an integer (or bool) array.
    """
    pred = _class_indices(pred, "pred")
    true = _class_indices(true, "true")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if pred.shape != true.shape:
        raise InvalidArgumentError(
            f"`pred` and `true` must have the same shape; got {pred.shape}, {true.shape}"
        )
    for name, a in (("pred", pred), ("true", true)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise InvalidArgumentError(
                f"`{name}` values must be in [0, {num_classes}); got {a.min()}..{a.max()}"
            )
    check_allocation(
        16.0 * num_classes**2, f"a {num_classes} x {num_classes} confusion matrix (`num_classes`)"
    )
    cm = np.bincount(
        true.ravel().astype(np.int64) * num_classes + pred.ravel(), minlength=num_classes**2
    ).reshape(num_classes, num_classes)
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    return {
        "pixel_accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "iou": [float(x) for x in iou],
        "mean_iou": float(np.nanmean(iou)) if np.any(union > 0) else float("nan"),
    }
