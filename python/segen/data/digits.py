"""scikit-learn's handwritten digits, with one fixed stratified train/test split."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError
from ..transform import resize
from ._common import _ImageSet

DIGITS_SPLIT_SEED = 1797
#: Fraction of each class held out by :func:`digits`.
_DIGITS_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class LabelledImages(_ImageSet):
    """Images with one class label each.

    Attributes
    ----------
    images : (N, H, W) ndarray of uint8
        Grey images, 0 = black background.
    labels : (N,) ndarray of int64
        Class index of each image, an index into `classes`.
    classes : tuple of str
        Class names.
    """


@functools.lru_cache(maxsize=None)
def _digits_split():
    from sklearn.datasets import load_digits  # scikit-learn: the train / test extras

    d = load_digits()
    images = d.images.astype(np.float32) / 16.0  # 0..16 in the data set
    labels = d.target.astype(np.int64)
    rng = np.random.default_rng(DIGITS_SPLIT_SEED)
    test = np.zeros(len(labels), bool)
    for k in range(10):  # stratified: the same fraction of every class
        idx = np.flatnonzero(labels == k)
        test[rng.permutation(idx)[: round(_DIGITS_TEST_FRACTION * len(idx))]] = True
    return images, labels, test


def digits(split: str = "train", *, size: int = 16) -> LabelledImages:
    """scikit-learn's handwritten digits (1,797 real 8x8 scans, classes 0-9), split once into train and
    held-out sets and up-sampled to `size` x `size`.

    The split is fixed (stratified, :data:`DIGITS_SPLIT_SEED`): ``"test"`` holds 20% of each class (359
    images), ``"train"`` the other 1,438; the two never share an image, whatever `size`.

    Parameters
    ----------
    split : {"train", "test", "all"}, optional
        Which part; ``"all"`` is both (train first).
    size : {8, 16, 32}, optional
        Side of the returned images: 8 is the original scan; 16 (default) and 32 are bilinear up-samplings
        (``segen.transform.resize``). 16 is what segen's generators use: it doubles the sampling of the
        8x8 scans so strokes are smooth and a generator can place them at sub-scan positions, while 32
        would only interpolate further (4x the pixels, no new detail).

    Returns
    -------
    data : LabelledImages
        uint8 images (0 = background, 255 = full ink) and int64 labels in [0, 9]; classes "0".."9".

    Raises
    ------
    InvalidArgumentError
        If `split` or `size` is not one of the values above.
    """
    if split not in ("train", "test", "all"):
        raise InvalidArgumentError(f"`split` must be 'train', 'test' or 'all'; got {split!r}")
    if size not in (8, 16, 32) or isinstance(size, bool):
        raise InvalidArgumentError(f"`size` must be 8, 16 or 32; got {size!r}")
    images, labels, test = _digits_split()
    if split == "all":
        order = np.concatenate([np.flatnonzero(~test), np.flatnonzero(test)])
    else:
        order = np.flatnonzero(test if split == "test" else ~test)
    imgs = images[order]
    if size != 8:
        imgs = np.stack([resize(im, (size, size), method="bilinear") for im in imgs])
    imgs = np.clip(np.round(imgs * 255.0), 0, 255).astype(np.uint8)
    return LabelledImages(imgs, labels[order].copy(), tuple(str(k) for k in range(10)))


# ---- scores ------------------------------------------------------------------------------------------------
