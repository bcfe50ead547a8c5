"""segen.eval.metrics: pixel accuracy and IoU against a hand count."""

from __future__ import annotations

import numpy as np
import pytest
from segen.errors import InvalidArgumentError
from segen.eval.metrics import segmentation_scores


def test_segmentation_scores():
    true = np.array([[0, 0, 1, 1], [2, 2, 1, 1]])
    pred = np.array([[0, 1, 1, 1], [2, 2, 1, 0]])
    s = segmentation_scores(pred, true, 3)
    assert s["pixel_accuracy"] == pytest.approx(6 / 8)
    # class 0: tp 1, union 3; class 1: tp 3, union 5; class 2: tp 2, union 2
    assert s["iou"] == pytest.approx([1 / 3, 3 / 5, 1.0])
    assert s["mean_iou"] == pytest.approx((1 / 3 + 3 / 5 + 1) / 3)
    assert np.isnan(segmentation_scores(pred, true, 4)["iou"][3])


def test_scores_errors():
    with pytest.raises(InvalidArgumentError, match="same shape"):
        segmentation_scores(np.zeros(3, int), np.zeros(4, int), 2)
    with pytest.raises(InvalidArgumentError, match="pred"):
        segmentation_scores(np.full(3, 5), np.zeros(3, int), 2)


def test_huge_num_classes_refused_up_front():
    with pytest.raises(MemoryError, match="`num_classes`"):
        segmentation_scores(np.zeros((2, 2), int), np.zeros((2, 2), int), 10**6)
