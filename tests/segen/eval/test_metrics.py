"""segen.eval.metrics: pixel accuracy and IoU against a hand count."""

from __future__ import annotations

import numpy as np
import pytest
from segen.errors import InvalidArgumentError
from segen.eval import metrics
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


# ---- confusion matrix, IoU/Dice, cluster matching (issue 11) ---------------------------------------------


def test_confusion_matrix_and_scores_match_scikit_learn():
    from sklearn.metrics import confusion_matrix as sk_cm
    from sklearn.metrics import f1_score, jaccard_score

    rng = np.random.default_rng(3)
    true = rng.integers(0, 4, (40, 50))
    pred = np.where(rng.random((40, 50)) < 0.7, true, rng.integers(0, 4, (40, 50)))
    true[:3] = 255  # ignored
    keep = true != 255
    cm = metrics.confusion_matrix(pred, true, 4, ignore_index=255)
    np.testing.assert_array_equal(cm, sk_cm(true[keep], pred[keep], labels=range(4)))
    s = metrics.scores_from_confusion(cm)
    np.testing.assert_allclose(s["iou"], jaccard_score(true[keep], pred[keep], average=None), rtol=1e-12)
    np.testing.assert_allclose(s["dice"], f1_score(true[keep], pred[keep], average=None), rtol=1e-12)
    assert s["pixel_accuracy"] == pytest.approx((true[keep] == pred[keep]).mean(), rel=1e-12)
    assert s["mean_iou"] == pytest.approx(jaccard_score(true[keep], pred[keep], average="macro"))
    assert s["support"] == np.bincount(true[keep], minlength=4).tolist()
    # the same numbers as segmentation_scores where nothing is ignored
    ref = metrics.segmentation_scores(pred[keep], true[keep], 4)
    assert ref["mean_iou"] == pytest.approx(s["mean_iou"]) and ref["iou"] == pytest.approx(s["iou"])


def test_absent_class_is_nan_not_zero():
    s = metrics.scores_from_confusion(np.array([[5, 0, 0], [1, 4, 0], [0, 0, 0]]))
    assert np.isnan(s["iou"][2]) and np.isnan(s["dice"][2])
    assert s["mean_iou"] == pytest.approx(np.mean([5 / 6, 4 / 5]))


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3), (1, 4), (6, 6)])
def test_match_clusters_equals_scipy_assignment(shape):
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(shape[0] * 10 + shape[1])
    for _ in range(20):
        cm = rng.integers(0, 100, shape)
        mapping = metrics.match_clusters(cm)
        rows, cols = linear_sum_assignment(cm, maximize=True)
        assert cm[mapping[mapping >= 0], np.flatnonzero(mapping >= 0)].sum() == cm[rows, cols].sum()
        assert len(set(mapping[mapping >= 0].tolist())) == min(shape)  # one-to-one
        assert (mapping >= 0).sum() == min(shape)


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="`true` values must be in"):
        metrics.confusion_matrix(np.zeros(3, int), np.array([0, 1, 7]), 2)
    with pytest.raises(ValueError, match="same shape"):
        metrics.confusion_matrix(np.zeros(3, int), np.zeros(4, int), 2)
    with pytest.raises(TypeError, match="integer"):
        metrics.confusion_matrix(np.zeros(3), np.zeros(3, int), 2)
    with pytest.raises(ValueError, match="square"):
        metrics.scores_from_confusion(np.zeros((2, 3), int))
