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
    with pytest.raises(ValueError, match=r"\(K, K \+ 1\)"):
        metrics.scores_from_confusion(np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="counts"):
        metrics.scores_from_confusion(np.array([[1, -1], [0, 2]]))


# ---- the streaming accumulator (issue 11) -----------------------------------------------------------------


def _images(seed, n=5, k=3):
    """`n` (pred, true) pairs of different sizes: labels mostly right, 255 in a corner of the truth."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        true = rng.integers(0, k, (8 + i, 11 + 2 * i))
        pred = np.where(rng.random(true.shape) < 0.6, true, rng.integers(0, k, true.shape))
        true[:2, :2] = 255
        out.append((pred, true))
    return out


def test_accumulator_equals_scikit_learn_on_all_pixels_together():
    from sklearn.metrics import confusion_matrix as sk_cm
    from sklearn.metrics import f1_score, jaccard_score

    pairs = _images(7)
    acc = metrics.ConfusionAccumulator(3)  # ignore_index 255 by default
    for pred, true in pairs:
        one = acc.update(pred, true)
        keep = true != 255
        np.testing.assert_array_equal(one, sk_cm(true[keep], pred[keep], labels=range(3)))
    t = np.concatenate([true[true != 255] for _, true in pairs])
    p = np.concatenate([pred[true != 255] for pred, true in pairs])
    np.testing.assert_array_equal(acc.matrix, sk_cm(t, p, labels=range(3)))
    s = acc.scores()
    np.testing.assert_allclose(s["iou"], jaccard_score(t, p, average=None), rtol=1e-12)
    np.testing.assert_allclose(s["dice"], f1_score(t, p, average=None), rtol=1e-12)
    assert s["mean_iou"] == pytest.approx(jaccard_score(t, p, average="macro"), rel=1e-12)
    assert s["pixel_accuracy"] == pytest.approx((t == p).mean(), rel=1e-12)
    assert s["images"] == len(pairs) and s["unmatched_pixels"] == 0


@pytest.mark.parametrize("clusters", [2, 3, 5])
def test_accumulator_hungarian_matches_each_image_as_scipy_does(clusters):
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import confusion_matrix as sk_cm

    rng = np.random.default_rng(clusters)
    k = 3
    acc = metrics.ConfusionAccumulator(k, match="hungarian")
    want = np.zeros((k, k + 1), np.int64)
    for _, true in _images(clusters, k=k):
        # an unsupervised segmenter: its own (sparse, shuffled) label numbers, different in every image
        names = rng.choice(10**9, clusters, replace=False)
        own = np.where(true == 255, 0, true) * clusters // k  # mostly one cluster per class, plus noise
        pred = names[np.where(rng.random(true.shape) < 0.7, own, rng.integers(0, clusters, true.shape))]
        keep = true != 255
        _, dense = np.unique(pred, return_inverse=True)
        raw = sk_cm(true[keep], dense.reshape(pred.shape)[keep], labels=range(max(k, clusters)))[
            :k, :clusters
        ]
        rows, cols = linear_sum_assignment(raw, maximize=True)
        image = np.zeros((k, k + 1), np.int64)
        image[:, k] = raw.sum(1)  # every pixel unmatched, then the matched clusters moved to their class
        image[:, rows] += raw[:, cols]
        image[:, k] -= raw[:, cols].sum(1)
        got = acc.update(pred, true)
        assert np.trace(got[:, :k]) == raw[rows, cols].sum()  # as many pixels right as scipy's matching
        np.testing.assert_array_equal(got, image)  # the same matching (no tie in these counts)
        want += got
    np.testing.assert_array_equal(acc.matrix, want)
    s = acc.scores()
    assert s["unmatched_pixels"] == want[:, k].sum() and (s["unmatched_pixels"] > 0) == (clusters > k)
    assert s["pixel_accuracy"] == pytest.approx(np.trace(want[:, :k]) / want.sum())


def test_accumulator_bad_input():
    with pytest.raises(ValueError, match="`match`"):
        metrics.ConfusionAccumulator(2, match="greedy")
    with pytest.raises(ValueError, match="`num_classes`"):
        metrics.ConfusionAccumulator(0)
    acc = metrics.ConfusionAccumulator(2, match="hungarian")
    with pytest.raises(ValueError, match="negative"):
        acc.update(np.array([-1, 0]), np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        acc.update(np.array([0.5, 0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="`pred` values must be in"):
        metrics.ConfusionAccumulator(2).update(np.array([2, 0]), np.array([0, 1]))
    assert acc.images == 0 and acc.matrix.sum() == 0  # a refused image adds nothing


def test_accumulator_majority_gives_each_label_its_largest_class():
    from sklearn.metrics import confusion_matrix as sk_cm

    rng = np.random.default_rng(11)
    k = 3
    acc = metrics.ConfusionAccumulator(k, match="majority")
    want = np.zeros((k, k), np.int64)
    for _, true in _images(5, k=k):
        # an over-segmentation: 12 superpixel-like labels, each mostly inside one class
        pred = np.where(true == 255, 0, true) * 4 + rng.integers(0, 4, true.shape)
        pred = np.where(rng.random(true.shape) < 0.2, rng.integers(0, 12, true.shape), pred) * 1000 + 7
        keep = true != 255
        t, p = true[keep], pred[keep]
        lut = {lab: np.bincount(t[p == lab], minlength=k).argmax() for lab in np.unique(p)}
        want += sk_cm(t, np.array([lut[x] for x in p]), labels=range(k))
        acc.update(pred, true)
    np.testing.assert_array_equal(acc.matrix, want)
    # one-to-one matching of the same labels leaves 9 of the 12 without a class: far fewer pixels right
    one = metrics.ConfusionAccumulator(k, match="hungarian")
    for _, true in _images(5, k=k):
        one.update(np.where(true == 255, 0, true) * 4 + rng.integers(0, 4, true.shape), true)
    assert one.scores()["pixel_accuracy"] < 0.5 < acc.scores()["pixel_accuracy"]
