"""Scores of segmentations against the truth: per-class pixel scores for semantic labels
(:func:`segmentation_scores`), object-level scores for instance labels (:func:`instance_iou`,
:func:`match_instances`, :func:`instance_scores`, :func:`average_precision`). Also ``segen.metrics``."""

from __future__ import annotations

import numpy as np

from .._shared.docs import fill_doc
from .._shared.limits import check_allocation
from .._shared.validation import as_array, check_int, check_real
from ..errors import DTypeError, InvalidArgumentError

__all__ = [
    "segmentation_scores",
    "confusion_matrix",
    "scores_from_confusion",
    "match_clusters",
    "instance_iou",
    "match_instances",
    "instance_scores",
    "average_precision",
    "DSB_THRESHOLDS",
]


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
    scores = scores_from_confusion(confusion_matrix(pred, true, num_classes))
    return {k: scores[k] for k in ("pixel_accuracy", "iou", "mean_iou")}


def confusion_matrix(pred, true, num_classes: int, *, num_pred: int | None = None, ignore_index=None):
    """Pixel counts of (true class, predicted label) pairs.

    Parameters
    ----------
    pred, true : ndarray of int
        Predicted labels and true classes, same shape. `true` in [0, `num_classes`) except `ignore_index`;
        `pred` in [0, `num_pred`).
    num_classes : int
        Number of true classes (rows).
    num_pred : int, optional
        Number of predicted labels (columns; default `num_classes`). An unsupervised segmenter's clusters
        may be more or fewer than the classes: see :func:`match_clusters`.
    ignore_index : int, optional
        True value of pixels left out (e.g. 255, the "ignore" of segen's data set folders).

    Returns
    -------
    cm : (num_classes, num_pred) int64 ndarray
        ``cm[t, p]`` pixels of class ``t`` predicted as ``p`` (scikit-learn's ``confusion_matrix`` layout).

    Raises
    ------
    InvalidArgumentError
        If the shapes differ or a value is out of range.
    DTypeError
        If `pred` or `true` is not an integer (or bool) array.

    Examples
    --------
    >>> import numpy as np
    >>> confusion_matrix(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 255]), 2, ignore_index=255).tolist()
    [[1, 1], [0, 1]]
    """
    pred = _class_indices(pred, "pred")
    true = _class_indices(true, "true")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    num_pred = num_classes if num_pred is None else check_int(num_pred, "num_pred", minimum=1)
    if pred.shape != true.shape:
        raise InvalidArgumentError(
            f"`pred` and `true` must have the same shape; got {pred.shape}, {true.shape}"
        )
    check_allocation(
        8.0 * num_classes * num_pred, f"a {num_classes} x {num_pred} confusion matrix (`num_classes`)"
    )
    t, q = true.ravel(), pred.ravel()
    if ignore_index is not None:
        keep = t != check_int(ignore_index, "ignore_index")
        t, q = t[keep], q[keep]
    for name, a, n in (("true", t, num_classes), ("pred", q, num_pred)):
        if a.size and (a.min() < 0 or a.max() >= n):
            raise InvalidArgumentError(f"`{name}` values must be in [0, {n}); got {a.min()}..{a.max()}")
    flat = t.astype(np.int64) * num_pred + q
    return np.bincount(flat, minlength=num_classes * num_pred).reshape(num_classes, num_pred)


def scores_from_confusion(cm) -> dict:
    """Pixel accuracy, per-class IoU and Dice, and their means, from a square confusion matrix.

    Parameters
    ----------
    cm : (K, K) array_like of int
        ``cm[t, p]``: pixels of class ``t`` predicted as class ``p`` (:func:`confusion_matrix`).

    Returns
    -------
    scores : dict
        ``pixel_accuracy``, ``iou`` and ``dice`` (lists; NaN for a class absent from both truth and
        prediction), ``mean_iou`` and ``mean_dice`` (means over the other classes), ``support`` (true
        pixels per class).

    Raises
    ------
    InvalidArgumentError
        If `cm` is not a square matrix of non-negative counts.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.dtype.kind not in "iu" or (cm.size and cm.min() < 0):
        raise InvalidArgumentError(f"`cm` must be a square matrix of counts; got {cm.dtype} {cm.shape}")
    tp = np.diag(cm).astype(np.float64)
    rows, cols = cm.sum(1).astype(np.float64), cm.sum(0).astype(np.float64)
    union, total = rows + cols - tp, rows + cols
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
        dice = np.where(total > 0, 2 * tp / np.maximum(total, 1), np.nan)
    present = union > 0
    return {
        "pixel_accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "iou": [float(x) for x in iou],
        "dice": [float(x) for x in dice],
        "mean_iou": float(np.nanmean(iou)) if present.any() else float("nan"),
        "mean_dice": float(np.nanmean(dice)) if present.any() else float("nan"),
        "support": [int(x) for x in rows],
    }


def match_clusters(cm) -> np.ndarray:
    """Which class each predicted cluster stands for: the one-to-one (Hungarian) matching of the columns of
    a confusion matrix to its rows that keeps the most pixels right, for unsupervised segmenters whose
    label numbers mean nothing.

    Parameters
    ----------
    cm : (K, C) array_like of int
        ``cm[t, p]``: pixels of class ``t`` in cluster ``p`` (:func:`confusion_matrix` with ``num_pred=C``).

    Returns
    -------
    mapping : (C,) int64 ndarray
        The class of each cluster; -1 for a cluster left without a class (when C > K). Apply it with
        ``mapping[pred]``, and score the pixels mapped to -1 as wrong.

    Examples
    --------
    >>> match_clusters([[0, 9, 1], [8, 0, 0]]).tolist()
    [1, 0, -1]
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.dtype.kind not in "iu" or cm.size == 0:
        raise InvalidArgumentError(f"`cm` must be a non-empty matrix of counts; got {cm.dtype} {cm.shape}")
    k, c = cm.shape
    gain = cm.astype(np.float64)
    mapping = np.full(c, -1, dtype=np.int64)
    if c <= k:  # every cluster gets a distinct class
        mapping[:] = _assign(-gain.T)
    else:  # every class gets a distinct cluster; the other clusters stay unmatched
        mapping[_assign(-gain)] = np.arange(k)
    return mapping


# ---- instance segmentation ------------------------------------------------------------------------------

#: The IoU thresholds of the Data Science Bowl 2018 score: 0.50, 0.55, ..., 0.95.
DSB_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))


def _instance_labels(value, name: str) -> np.ndarray:
    """An integer (or bool) label image with no negative label."""
    arr = _class_indices(value, name)
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    if arr.size and arr.dtype.kind == "i" and arr.min() < 0:
        raise InvalidArgumentError(f"`{name}` must not contain negative labels; got {int(arr.min())}")
    return arr


def _ranks(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ranks, ids)``: each pixel's object numbered 1..n in increasing label order (0 stays 0), and the
    labels ``ids[k - 1]`` of rank k."""
    flat = arr.reshape(-1)
    top = int(flat.max()) if flat.size else 0
    if top <= 2 * flat.size + 4096:  # a lookup table over the label values
        present = np.bincount(flat, minlength=top + 1) > 0
        present[0] = False
        table = np.cumsum(present, dtype=np.int64)
        return table[flat], np.flatnonzero(present)
    ids, inverse = np.unique(flat, return_inverse=True)  # sparse labels (e.g. 2**40 in a small image)
    if ids[0] == 0:
        return inverse.astype(np.int64), ids[1:]
    return inverse.astype(np.int64) + 1, ids


def _check_pair(pred, true):
    pred = _instance_labels(pred, "pred")
    true = _instance_labels(true, "true")
    if pred.shape != true.shape:
        raise InvalidArgumentError(
            f"`pred` and `true` must have the same shape; got {pred.shape}, {true.shape}"
        )
    return pred, true


def _iou_matrix(pred: np.ndarray, true: np.ndarray):
    p, pred_ids = _ranks(pred)
    t, true_ids = _ranks(true)
    n_p, n_t = pred_ids.size, true_ids.size
    check_allocation(
        16.0 * (n_p + 1) * (n_t + 1),
        f"the {n_p} x {n_t} overlap table of the objects of `pred` and `true`",
    )
    # one joint histogram of (pred object, true object) over all pixels: row 0 / column 0 are background
    joint = np.bincount(p * (n_t + 1) + t, minlength=(n_p + 1) * (n_t + 1)).reshape(n_p + 1, n_t + 1)
    area_p, area_t = joint.sum(1)[1:], joint.sum(0)[1:]
    inter = joint[1:, 1:].astype(np.float64)
    union = area_p[:, None] + area_t[None, :] - inter
    return inter / np.maximum(union, 1), pred_ids, true_ids


@fill_doc
def instance_iou(pred, true):
    """IoU of every predicted object with every true object.

    Parameters
    ----------
    %(instances)s

    Returns
    -------
    iou : (P, T) float64 ndarray
        ``iou[i, j]`` is the intersection over union of object ``pred_ids[i]`` and ``true_ids[j]``.
    pred_ids, true_ids : (P,) and (T,) ndarray
        The labels present in `pred` and `true`, in increasing order.

    Raises
    ------
    %(instances_raises)s

    Notes
    -----
    One pass over the pixels: a joint histogram of (predicted object, true object) with ``np.bincount``
    gives every intersection at once, and its margins the areas.

    Examples
    --------
    >>> import numpy as np, segen
    >>> iou, p, t = segen.metrics.instance_iou(np.array([[1, 1, 0, 2]]), np.array([[5, 5, 5, 0]]))
    >>> iou.round(3).tolist(), p.tolist(), t.tolist()
    ([[0.667], [0.0]], [1, 2], [5])
    """
    pred, true = _check_pair(pred, true)
    return _iou_matrix(pred, true)


def _assign(cost: np.ndarray) -> np.ndarray:
    """Minimum-cost assignment of the rows of `cost` (n <= m columns) to distinct columns: ``col[i]`` for
    each row. The shortest augmenting path algorithm (Kuhn-Munkres with potentials, O(n² m)), with the
    inner loop over columns vectorised."""
    n, m = cost.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=np.int64)  # owner[j]: the row (1-based) assigned to column j, 0 if none
    way = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used
            free[0] = False
            cur = cost[i0 - 1] - u[i0] - v[1:]
            better = free[1:] & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            masked = np.where(free, minv, np.inf)
            j1 = int(np.argmin(masked))
            delta = masked[j1]
            u[owner[used]] += delta
            v[used] -= delta
            minv[free] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:  # augment along the path
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    col = np.empty(n, dtype=np.int64)
    rows = owner[1:]
    col[rows[rows > 0] - 1] = np.flatnonzero(rows > 0)
    return col


def _match(iou: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of the rows and columns of `iou` with IoU > `threshold`: as many pairs as
    possible, and among those the largest total IoU. Returns the row and column indices of the pairs."""
    hit = iou > threshold
    if threshold >= 0.5:
        # an object overlaps at most one other by more than half of their union: the pairs are unique
        return np.nonzero(hit)
    rows, cols = np.flatnonzero(hit.any(1)), np.flatnonzero(hit.any(0))
    if rows.size == 0:
        return rows, cols
    sub_hit, sub_iou = hit[np.ix_(rows, cols)], iou[np.ix_(rows, cols)]
    # more pairs always win (each is worth 1); the total IoU (< 1/2 in all) breaks ties
    cost = -(sub_hit + sub_iou / (2.0 * min(sub_hit.shape)))
    flip = cost.shape[0] > cost.shape[1]
    assigned = _assign(cost.T if flip else cost)
    r, c = np.arange(assigned.size), assigned
    if flip:
        r, c = c, r
    ok = sub_hit[r, c]
    order = np.argsort(rows[r[ok]], kind="stable")
    return rows[r[ok]][order], cols[c[ok]][order]


def _threshold(value) -> float:
    return check_real(value, "threshold", minimum=0.0, maximum=1.0)


@fill_doc
def match_instances(pred, true, threshold: float = 0.5):
    """Match predicted objects to true objects one to one, by IoU.

    Parameters
    ----------
    %(instances)s
    threshold : float, optional
        A pair can match only if its IoU is above this (strictly; default 0.5), in [0, 1].

    Returns
    -------
    pred_ids, true_ids : ndarray
        The labels of the matched pairs, in increasing order of `pred_ids`.
    iou : ndarray of float64
        The IoU of each pair.

    Raises
    ------
    %(instances_raises)s

    Notes
    -----
    The matching has as many pairs as possible and, among such matchings, the largest total IoU (the
    Hungarian algorithm on the pairs above the threshold, as StarDist and Cellpose match). For a threshold
    of 0.5 or more no search is needed: an object can overlap at most one other by more than half their
    union.

    Examples
    --------
    >>> import numpy as np, segen
    >>> true = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[7, 7, 7, 0, 3]])
    >>> p, t, iou = segen.metrics.match_instances(pred, true)
    >>> p.tolist(), t.tolist(), iou.round(3).tolist()
    ([7], [1], [0.667])
    """
    pred, true = _check_pair(pred, true)
    threshold = _threshold(threshold)
    iou, pred_ids, true_ids = _iou_matrix(pred, true)
    r, c = _match(iou, threshold)
    return pred_ids[r], true_ids[c], iou[r, c]


def _scores(iou: np.ndarray, threshold: float) -> dict:
    n_pred, n_true = iou.shape
    r, c = _match(iou, threshold)
    tp = int(r.size)
    fp, fn = n_pred - tp, n_true - tp
    nothing = n_pred == 0 and n_true == 0  # nothing to find and nothing found: a perfect answer

    def ratio(num, den):
        return float(num / den) if den else (1.0 if nothing else 0.0)

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    return {
        "threshold": threshold,
        "ap": ratio(tp, tp + fp + fn),
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "n_pred": n_pred,
        "n_true": n_true,
        "mean_matched_iou": float(iou[r, c].mean()) if tp else 0.0,
    }


@fill_doc
def instance_scores(pred, true, threshold: float = 0.5) -> dict:
    """Object-level scores of an instance segmentation at one IoU threshold.

    Parameters
    ----------
    %(instances)s
    threshold : float, optional
        IoU a matched pair must exceed (default 0.5), in [0, 1].

    Returns
    -------
    scores : dict
        ``tp``, ``fp``, ``fn`` (matched pairs, unmatched predicted and unmatched true objects, see
        :func:`match_instances`); ``ap`` = TP / (TP + FP + FN) (the "average precision" of the Data
        Science Bowl 2018 and of StarDist/Cellpose at one threshold); ``precision`` = TP / (TP + FP);
        ``recall`` = TP / (TP + FN); ``f1``; ``mean_matched_iou`` (mean IoU of the matched pairs, 0.0 when
        there is none); ``n_pred``, ``n_true``; ``threshold``.

    Raises
    ------
    %(instances_raises)s

    See Also
    --------
    match_instances, average_precision

    Notes
    -----
    Empty images: with no true and no predicted object every ratio is 1.0 (nothing to find, nothing found
    wrongly); with objects on one side only, the ratios whose denominator is 0 are 0.0 (no prediction:
    precision 0; no truth: recall 0) and ``ap`` is 0. ``mean_matched_iou`` is 0.0 without a matched pair
    (as StarDist's ``mean_matched_score``).

    Examples
    --------
    >>> import numpy as np, segen
    >>> true = np.array([[1, 1, 0, 2, 2, 0, 3]])
    >>> pred = np.array([[4, 4, 4, 0, 5, 5, 0]])
    >>> s = segen.metrics.instance_scores(pred, true)
    >>> s["tp"], s["fp"], s["fn"], s["ap"], round(s["precision"], 3)
    (1, 1, 2, 0.25, 0.5)
    """
    pred, true = _check_pair(pred, true)
    threshold = _threshold(threshold)
    iou, _, _ = _iou_matrix(pred, true)
    return _scores(iou, threshold)


@fill_doc
def average_precision(pred, true, thresholds=DSB_THRESHOLDS) -> dict:
    """The mean over IoU thresholds of TP / (TP + FP + FN): the Data Science Bowl 2018 score by default.

    Parameters
    ----------
    %(instances)s
    thresholds : sequence of float, optional
        IoU thresholds in [0, 1] (default 0.50, 0.55, ..., 0.95).

    Returns
    -------
    scores : dict
        ``mean_ap`` (float), ``thresholds`` and ``ap`` (lists, one AP per threshold), and ``precision``,
        ``recall`` and ``mean_matched_iou`` per threshold; see :func:`instance_scores`.

    Raises
    ------
    %(instances_raises)s

    See Also
    --------
    instance_scores

    Examples
    --------
    >>> import numpy as np, segen
    >>> true = np.zeros((10, 10), int); true[:, :5] = 1; true[:, 5:] = 2
    >>> pred = true.copy(); pred[:, 4] = 2  # IoU 0.8 and 0.83: matched up to t = 0.75, one pair at 0.8
    >>> s = segen.metrics.average_precision(pred, true)
    >>> round(s["mean_ap"], 3), s["ap"][0], s["ap"][-1]
    (0.633, 1.0, 0.0)
    """
    pred, true = _check_pair(pred, true)
    if isinstance(thresholds, (str, bytes)) or not hasattr(thresholds, "__len__"):
        raise DTypeError(f"`thresholds` must be a sequence of numbers; got {type(thresholds).__name__}")
    if len(thresholds) == 0:
        raise InvalidArgumentError("`thresholds` must not be empty")
    ts = [check_real(t, "thresholds", minimum=0.0, maximum=1.0) for t in thresholds]
    iou, _, _ = _iou_matrix(pred, true)
    each = [_scores(iou, t) for t in ts]
    ap = [s["ap"] for s in each]
    return {
        "mean_ap": float(np.mean(ap)),
        "thresholds": ts,
        "ap": ap,
        "precision": [s["precision"] for s in each],
        "recall": [s["recall"] for s in each],
        "mean_matched_iou": [s["mean_matched_iou"] for s in each],
    }
