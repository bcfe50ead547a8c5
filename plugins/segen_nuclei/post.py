"""From the network's three probabilities to instances, and the input normalisation (numpy + segen).

Both run at inference (:class:`segen_nuclei.NucleiSegmenter`) and in training (validation scores), so
the model is judged on what it will be used for.
"""

from __future__ import annotations

import numpy as np
import segen
from segen.errors import InvalidArgumentError

#: Per-image percentile normalisation of the input (recorded in the sidecar): ``(x - p_lo) / (p_hi - p_lo)``.
PERCENTILES = (1.0, 99.8)
CLASSES = ("background", "interior", "boundary")


def normalise(image: np.ndarray, percentiles=PERCENTILES) -> np.ndarray:
    """A grey (H, W) image of any bit depth or contrast -> float32 with its `percentiles` at 0 and 1.

    A flat image (equal percentiles, e.g. all zero) becomes all zeros. NaN or infinite pixels are an
    :class:`~segen.InvalidArgumentError` naming `image`.
    """
    x = np.asarray(image, dtype=np.float32)
    if not np.isfinite(x).all():
        raise InvalidArgumentError(
            "`image` holds NaN or infinite pixels; the nuclei model needs finite values"
        )
    lo, hi = np.percentile(x, percentiles)
    if hi - lo <= 1e-12 * max(1.0, abs(float(hi))):
        return np.zeros(x.shape, np.float32)
    return ((x - lo) / (hi - lo)).astype(np.float32)


def targets(labels: np.ndarray) -> np.ndarray:
    """Instance labels (.., H, W) -> classes 0 background, 1 interior, 2 boundary (the pixels of an
    object with a 4-neighbour outside it: the background or another object)."""
    lab = np.asarray(labels)
    edge = np.zeros(lab.shape, bool)
    for axis in (-1, -2):
        d = np.diff(lab, axis=axis) != 0
        lo = [slice(None)] * lab.ndim
        hi = [slice(None)] * lab.ndim
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        edge[tuple(lo)] |= d
        edge[tuple(hi)] |= d
    out = (lab > 0).astype(np.int64)
    out[edge & (lab > 0)] = 2
    return out


def instances(prob: np.ndarray, *, threshold: float = 0.5, min_marker: int = 4, min_size: int = 12):
    """Probabilities (3, H, W) of background / interior / boundary -> int32 instance labels.

    Markers are the 4-connected components of ``interior > threshold`` with at least `min_marker` pixels;
    a seeded watershed (segen's C++ core) of ``boundary - interior`` from them fills the foreground
    ``background < threshold``; objects under `min_size` pixels are dropped and the labels renumbered.
    """
    seg = segen.segmentation
    fg = prob[0] < threshold
    markers = seg.label(prob[1] > threshold, connectivity=1)
    if min_marker > 1 and markers.any():
        markers = seg.remove_small_objects(markers, max_size=min_marker - 1)
    if not markers.any():
        return np.zeros(prob.shape[1:], np.int32)
    relief = np.ascontiguousarray(prob[2] - prob[1], dtype=np.float32)
    lab = seg.watershed(relief, markers, mask=fg)
    if min_size > 1:
        lab = seg.remove_small_objects(lab, max_size=min_size - 1)
    return seg.relabel_sequential(lab)[0].astype(np.int32)
