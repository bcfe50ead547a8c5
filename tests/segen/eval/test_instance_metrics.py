"""segen.metrics' instance scores against an independent computation: IoU object by object with boolean
masks, the matching by scipy's linear_sum_assignment, and hand-counted cases."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from scipy.optimize import linear_sum_assignment
from segen.errors import DTypeError, InvalidArgumentError
from segen.eval.metrics import DSB_THRESHOLDS, _assign


def _random_instances(rng, shape=(48, 64), n=25, ids=None):
    """Random overlapping rectangles painted in turn (later ones cover earlier ones), with arbitrary ids."""
    lab = np.zeros(shape, np.int64)
    ids = rng.choice(10**6, size=n, replace=False) + 1 if ids is None else ids
    for k in ids:
        h, w = rng.integers(3, 16, size=2)
        r, c = rng.integers(0, shape[0] - h), rng.integers(0, shape[1] - w)
        lab[r : r + h, c : c + w] = k
    return lab


def _brute_iou(pred, true):
    p_ids = [int(v) for v in np.unique(pred) if v != 0]
    t_ids = [int(v) for v in np.unique(true) if v != 0]
    iou = np.zeros((len(p_ids), len(t_ids)))
    for i, a in enumerate(p_ids):
        for j, b in enumerate(t_ids):
            pa, tb = pred == a, true == b
            iou[i, j] = (pa & tb).sum() / (pa | tb).sum()
    return iou, p_ids, t_ids


def _scipy_match(iou, t):
    """Most pairs above t, then the largest total IoU, by scipy's assignment."""
    if iou.size == 0:
        return 0, 0.0
    hit = iou > t
    cost = -(hit + iou / (2.0 * min(iou.shape)))
    r, c = linear_sum_assignment(cost)
    ok = hit[r, c]
    return int(ok.sum()), float(iou[r, c][ok].sum())


def _pair(seed):
    rng = np.random.default_rng(seed)
    true = _random_instances(rng)
    # a prediction: the truth shifted and partly repainted, so IoUs spread over [0, 1]
    pred = np.roll(true, (rng.integers(-3, 4), rng.integers(-3, 4)), axis=(0, 1))
    pred = np.where(rng.random(true.shape) < 0.5, pred, _random_instances(rng, n=15))
    return pred, true


@pytest.mark.parametrize("seed", range(6))
def test_iou_matrix_equals_object_by_object_masks(seed):
    pred, true = _pair(seed)
    iou, p_ids, t_ids = segen.metrics.instance_iou(pred, true)
    ref, ref_p, ref_t = _brute_iou(pred, true)
    assert p_ids.tolist() == ref_p and t_ids.tolist() == ref_t
    np.testing.assert_allclose(iou, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_scores_equal_scipys_matching_at_every_threshold(seed):
    pred, true = _pair(seed)
    ref, ref_p, ref_t = _brute_iou(pred, true)
    aps = []
    for t in (0.0, 0.1, 0.25, 0.4, *DSB_THRESHOLDS):
        s = segen.metrics.instance_scores(pred, true, threshold=t)
        tp, total = _scipy_match(ref, t)
        fp, fn = len(ref_p) - tp, len(ref_t) - tp
        assert (s["tp"], s["fp"], s["fn"]) == (tp, fp, fn), t
        assert s["ap"] == pytest.approx(tp / (tp + fp + fn))
        assert s["precision"] == pytest.approx(tp / len(ref_p))
        assert s["recall"] == pytest.approx(tp / len(ref_t))
        if tp:
            assert s["mean_matched_iou"] == pytest.approx(total / tp)
        # the pairs themselves: one to one, each above the threshold, with the IoU of the brute force
        p, q, iou = segen.metrics.match_instances(pred, true, threshold=t)
        assert len(set(p.tolist())) == len(p) == tp and len(set(q.tolist())) == tp
        assert (iou > t).all()
        for a, b, v in zip(p, q, iou):
            assert v == pytest.approx(ref[ref_p.index(a), ref_t.index(b)])
        if t >= 0.5:
            aps.append(tp / (tp + fp + fn))
    dsb = segen.metrics.average_precision(pred, true)
    assert dsb["thresholds"] == list(DSB_THRESHOLDS)
    assert dsb["ap"] == pytest.approx(aps)
    assert dsb["mean_ap"] == pytest.approx(np.mean(aps))


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (4, 9), (9, 4), (12, 12), (7, 30)])
def test_assignment_is_optimal_like_scipys(shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    for _ in range(5):
        cost = rng.random(shape)
        cost[rng.random(shape) < 0.3] = 0.0  # ties
        flip = shape[0] > shape[1]
        c = cost.T if flip else cost
        cols = _assign(c)
        assert len(set(cols.tolist())) == c.shape[0]
        r, s = linear_sum_assignment(c)
        assert c[np.arange(c.shape[0]), cols].sum() == pytest.approx(c[r, s].sum(), abs=1e-12)


def test_a_low_threshold_needs_the_assignment():
    # pred 10 overlaps true 1 best (IoU 3/6) and true 2 a little (1/8); pred 20 overlaps only true 1 (2/5).
    # Greedy by IoU takes (10, 1) and leaves one pair; the assignment finds two: (20, 1) and (10, 2)
    true = np.array([[1, 1, 1, 1, 1, 2, 2, 2, 2, 2]])
    pred = np.array([[20, 20, 10, 10, 10, 10, 0, 0, 0, 0]])
    p, t, iou = segen.metrics.match_instances(pred, true, threshold=0.1)
    assert list(zip(p.tolist(), t.tolist())) == [(10, 2), (20, 1)]  # ordered by pred id
    assert iou.tolist() == pytest.approx([1 / 8, 2 / 5])
    s = segen.metrics.instance_scores(pred, true, threshold=0.1)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 0, 0)
    # above 0.5 (strictly) none: IoU(10, 1) is exactly 0.5
    assert segen.metrics.instance_scores(pred, true)["tp"] == 0
    assert segen.metrics.instance_scores(pred, true, threshold=0.45)["tp"] == 1


def test_hand_counted_example():
    true = np.zeros((6, 12), np.int32)
    true[1:5, 1:5] = 1  # 16 px
    true[1:5, 7:11] = 2  # 16 px
    pred = np.zeros_like(true)
    pred[1:5, 1:4] = 3  # inside 1: IoU 12/16
    pred[0:2, 7:11] = 4  # overlaps 2 by 4 px: IoU 4 / 20
    pred[5, 0:3] = 5  # on background
    s = segen.metrics.instance_scores(pred, true)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 2, 1)
    assert s["ap"] == pytest.approx(1 / 4)
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == pytest.approx(1 / 2)
    assert s["f1"] == pytest.approx(2 / 5)
    assert s["mean_matched_iou"] == pytest.approx(0.75)
    assert (s["n_pred"], s["n_true"]) == (3, 2)
    # the DSB score: the pair counts for t < 0.75 (0.50 ... 0.70: 5 thresholds)
    assert segen.metrics.average_precision(pred, true)["mean_ap"] == pytest.approx(5 * 0.25 / 10)


def test_empty_images():
    objects = np.zeros((5, 5), np.int32)
    objects[1:3, 1:3] = 1
    objects[3:5, 3:5] = 2
    empty = np.zeros_like(objects)
    # no prediction: every true object is missed; precision has no prediction to judge and is 0
    s = segen.metrics.instance_scores(empty, objects)
    assert (s["tp"], s["fp"], s["fn"], s["ap"], s["precision"], s["recall"]) == (0, 0, 2, 0.0, 0.0, 0.0)
    assert s["mean_matched_iou"] == 0.0  # no pair
    # no truth: every prediction is a false positive; recall has nothing to find and is 0
    s = segen.metrics.instance_scores(objects, empty)
    assert (s["tp"], s["fp"], s["fn"], s["ap"], s["precision"], s["recall"]) == (0, 2, 0, 0.0, 0.0, 0.0)
    # neither: a perfect answer, every ratio 1
    s = segen.metrics.instance_scores(empty, empty)
    assert (s["tp"], s["fp"], s["fn"], s["ap"], s["precision"], s["recall"], s["f1"]) == (0, 0, 0, 1, 1, 1, 1)
    assert segen.metrics.average_precision(empty, empty)["mean_ap"] == 1.0
    assert segen.metrics.average_precision(empty, objects)["mean_ap"] == 0.0
    iou, p, t = segen.metrics.instance_iou(empty, objects)
    assert iou.shape == (0, 2) and p.size == 0 and t.tolist() == [1, 2]


def test_identical_and_bool_and_sparse_labels():
    rng = np.random.default_rng(7)
    true = _random_instances(rng, ids=np.array([3, 2**40, 17, 2**33]))
    assert segen.metrics.average_precision(true, true)["mean_ap"] == 1.0
    # the same objects under other ids score the same
    pred = np.select([true == 3, true == 2**40, true == 17, true == 2**33], [9, 1, 4, 2], 0).astype(np.uint8)
    assert segen.metrics.average_precision(pred, true)["mean_ap"] == 1.0
    # a bool image is one object
    s = segen.metrics.instance_scores(true > 0, (true > 0).astype(np.int32))
    assert (s["tp"], s["n_pred"]) == (1, 1)


def test_segen_metrics_is_the_eval_module():
    import segen.eval.metrics
    import segen.metrics

    assert segen.metrics is segen.eval.metrics
    assert segen.eval.instance_scores is segen.metrics.instance_scores


def test_bad_inputs_name_the_parameter():
    a = np.zeros((4, 4), np.int32)
    with pytest.raises(InvalidArgumentError, match="same shape"):
        segen.metrics.instance_scores(a, np.zeros((4, 5), np.int32))
    with pytest.raises(InvalidArgumentError, match="`pred` must not contain negative"):
        segen.metrics.instance_scores(a - 1, a)
    with pytest.raises(DTypeError, match="`true`"):
        segen.metrics.instance_scores(a, a.astype(float))
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgumentError, match="`threshold`"):
            segen.metrics.instance_scores(a, a, threshold=bad)
    with pytest.raises(DTypeError, match="`threshold`"):
        segen.metrics.match_instances(a, a, threshold="0.5")
    with pytest.raises(InvalidArgumentError, match="`thresholds`"):
        segen.metrics.average_precision(a, a, thresholds=[])
    with pytest.raises(InvalidArgumentError, match="`thresholds`"):
        segen.metrics.average_precision(a, a, thresholds=[0.5, 2.0])
    with pytest.raises(DTypeError, match="`thresholds`"):
        segen.metrics.average_precision(a, a, thresholds=0.5)
