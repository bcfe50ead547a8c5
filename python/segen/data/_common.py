"""Containers and seeding shared by segen's data sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError

_SPLITS = ("train", "test")
#: Fraction of each photograph's columns used by ``split="train"``; ``"test"`` uses the rest.
_TRAIN_FRACTION = 0.75


@dataclass(frozen=True)
class _ImageSet:
    """Images, their labels and the class names (the labels index `classes`)."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class SegmentationData(_ImageSet):
    """Images with per-pixel class labels.

    Attributes
    ----------
    images : (N, H, W, 3) or (N, H, W) ndarray of uint8
        RGB (:func:`shapes`) or grey (:func:`textures`) images.
    labels : (N, H, W) ndarray of int32
        Class index of every pixel, an index into `classes`.
    classes : tuple of str
        Class names.
    """


def _check_size(size) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (int(size), int(size))
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`size` must be an int or a pair (H, W); got {size!r}") from None
    if h < 16 or w < 16:
        raise InvalidArgumentError(f"`size` must be at least 16x16; got {(h, w)}")
    return h, w


def _child_rngs(seed, n):
    if seed is not None and not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        raise InvalidArgumentError(f"`seed` must be an int or None; got {seed!r}")
    if seed is not None and seed < 0:
        raise InvalidArgumentError(f"`seed` must be >= 0; got {seed}")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


# ---- shapes ------------------------------------------------------------------------------------------------
