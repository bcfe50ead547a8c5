"""Benchmark cases for segen.cluster.

* k-means on 1,000,000 RGB pixels (scikit-image's astronaut resized to 1000x1000, float32 in [0, 1]), k=8,
  k-means++ initialisation and exactly 20 Lloyd iterations on every side (tol=0; OpenCV's criteria
  MAX_ITER 20). Targets: at least 2x faster than scikit-learn's KMeans (lloyd), faster than cv2.kmeans.
* DBSCAN on 100,000 2-D points (ten elongated Gaussian blobs plus 10 % uniform noise), eps=0.05,
  min_samples=5. Target: at least 5x faster than scikit-learn's DBSCAN.
scikit-learn's thread pools run at their defaults (threadpoolctl is not used here).
"""

from __future__ import annotations

import cv2
import numpy as np
import segen
from _harness import Case
from sklearn.cluster import DBSCAN, KMeans


def _pixels():
    from skimage import data

    img = cv2.resize(data.astronaut(), (1000, 1000), interpolation=cv2.INTER_LINEAR)
    return (np.ascontiguousarray(img.reshape(-1, 3), dtype=np.float32) / np.float32(255),)


def _points():
    rng = np.random.default_rng(0)
    blobs = rng.normal(0, 1, (90000, 2)) * [1.0, 0.5] + rng.integers(0, 10, (90000, 1))
    return (np.concatenate([blobs, rng.random((10000, 2)) * 12]),)


_CRIT = (cv2.TERM_CRITERIA_MAX_ITER, 20, 0)


def cases():
    return [
        Case(
            name="kmeans 1M x 3, k=8, 20 it",
            args=_pixels,
            segen=lambda X: segen.cluster.kmeans(X, 8, max_iter=20, tol=0.0, seed=0),
            peers={
                "opencv": lambda X: cv2.kmeans(X, 8, None, _CRIT, 1, cv2.KMEANS_PP_CENTERS),
                "sklearn": lambda X: KMeans(
                    8, n_init=1, max_iter=20, tol=0.0, random_state=0, algorithm="lloyd"
                ).fit(X),
            },
            targets={"opencv": 1.0, "sklearn": 0.5},
            repeat=3,
        ),
        Case(
            name="dbscan 100k x 2",
            args=_points,
            segen=lambda P: segen.cluster.dbscan(P, 0.05, 5),
            peers={"sklearn": lambda P: DBSCAN(eps=0.05, min_samples=5).fit(P)},
            targets={"sklearn": 0.2},
            repeat=5,
        ),
    ]
