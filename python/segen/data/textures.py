"""Mosaics of real texture photographs bundled with scikit-image, split so test crops never overlap training
crops."""

from __future__ import annotations

import functools

import numpy as np

from .._shared.validation import check_int, check_real
from ..color import rgb2gray
from ..errors import InvalidArgumentError
from ._common import _SPLITS, _TRAIN_FRACTION, SegmentationData, _check_size, _child_rngs

#: Photographs bundled with scikit-image used by :func:`textures` (name -> loader name in ``skimage.data``).
#: brick, grass and gravel are the library's texture images; immunohistochemistry (stained tissue, made
#: grey) is a fourth stationary texture: its statistics are the same all over the photograph, so crops
#: from two different parts of it look alike, which the held-out split relies on.
TEXTURES = ("brick", "grass", "gravel", "immunohistochemistry")


@functools.cache
def _texture_photo(name: str, scale: int) -> np.ndarray:
    """The photograph `name` as a grey float32 array in [0, 1], block-averaged by `scale`."""
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("segen.data.textures needs scikit-image: pip install 'segen[train]'") from exc
    img = np.asarray(getattr(data, name)(), dtype=np.float32) / 255.0
    if img.ndim == 3:
        img = rgb2gray(np.ascontiguousarray(img[..., :3]))
    if scale > 1:
        h, w = (img.shape[0] // scale) * scale, (img.shape[1] // scale) * scale
        img = img[:h, :w].reshape(h // scale, scale, w // scale, scale).mean(axis=(1, 3))
    return np.ascontiguousarray(img, dtype=np.float32)


def _region(photo: np.ndarray, split: str) -> np.ndarray:
    cut = round(photo.shape[1] * _TRAIN_FRACTION)
    return photo[:, :cut] if split == "train" else photo[:, cut:]


def _random_crop(rng, region, h, w):
    # the crop is taken from a square window so that a rotation by 90 degrees keeps its size
    side = max(h, w)
    if region.shape[0] < side or region.shape[1] < side:
        raise InvalidArgumentError(
            f"`size` {(h, w)} is larger than the texture region {region.shape} of the photographs"
        )
    r = int(rng.integers(0, region.shape[0] - side + 1))
    c = int(rng.integers(0, region.shape[1] - side + 1))
    crop = region[r : r + side, c : c + side]
    crop = np.rot90(crop, int(rng.integers(0, 4)))
    if rng.integers(0, 2):
        crop = crop[:, ::-1]
    return crop[:h, :w]


def _voronoi_layout(rng, h, w, k, regions):
    lo, hi = regions
    m = int(rng.integers(lo, hi + 1))
    pts = rng.uniform(0, 1, (m, 2)) * (h, w)
    cls = rng.integers(0, k, m)
    if m >= 2 and np.all(cls == cls[0]):  # at least two textures per image
        cls[1] = (cls[0] + 1 + rng.integers(0, k - 1)) % k
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    # a smooth random warp makes the region borders curved instead of straight Voronoi edges
    amp = rng.uniform(0, 0.08) * min(h, w)
    fr, fc, pr, pc = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0), rng.uniform(0, 6.3), rng.uniform(0, 6.3)
    wr = rr + amp * np.sin(2 * np.pi * fr * cc / w + pr)
    wc = cc + amp * np.sin(2 * np.pi * fc * rr / h + pc)
    d2 = (wr[..., None] - pts[:, 0]) ** 2 + (wc[..., None] - pts[:, 1]) ** 2
    return cls[np.argmin(d2, axis=-1)].astype(np.int32)


def textures(
    n: int,
    *,
    size=64,
    seed: int | None = None,
    split: str = "train",
    textures=TEXTURES,
    regions=(2, 5),
    scale: int = 2,
    noise: float = 0.02,
) -> SegmentationData:
    """Mosaics of real textures: random regions, each filled with a crop of one textured photograph.

    A mosaic is a warped Voronoi partition of the image into 2..5 regions (`regions`), each given a
    random texture class (at least two different ones per image); every class present is filled with a
    random crop (random rotation by a multiple of 90 degrees and flip) of its photograph. The photographs
    ship with scikit-image (see :data:`TEXTURES`); they are made grey and block-averaged by `scale` so that
    a small image holds several texture periods.

    Parameters
    ----------
    n : int
        Number of images (>= 1).
    size : int or (int, int), optional
        Image height and width (16 .. the region size: 192 for `split` "train", 64 for "test" at the
        default `scale`).
    seed : int, optional
        Seed; the same seed gives the same data.
    split : {'train', 'test'}, optional
        Which part of each photograph the crops come from: "train" uses the left 3/4 of its columns,
        "test" the right 1/4, so held-out data never shows the pixels a model was trained on.
    textures : sequence of str, optional
        Names of ``skimage.data`` images, one class each (at least 2). Default :data:`TEXTURES`.
    regions : (int, int), optional
        Range of the number of regions per image (2 <= min <= max).
    scale : int, optional
        Integer down-sampling factor of the photographs (>= 1).
    noise : float, optional
        Standard deviation of additive Gaussian noise, in [0, 1] units.

    Returns
    -------
    data : SegmentationData
        ``images`` (n, H, W) uint8 grey, ``labels`` (n, H, W) int32 with values 0..K-1 indexing
        ``classes`` (= `textures`). There is no background class: every pixel belongs to a texture.

    Raises
    ------
    InvalidArgumentError
        For an unknown `split` or texture name, fewer than 2 textures, a bad `regions` range, a `size`
        larger than the photographs' region, or a bad `seed`, `scale` or `noise`.
    ImportError
        If scikit-image is not installed.

    Notes
    -----
    Labels start at 0 for the first texture, unlike segen's label images where 0 means background:
    here every pixel has a class.

    Examples
    --------
    >>> data = textures(2, size=32, seed=0)
    >>> data.images.shape, data.classes[:2]
    ((2, 32, 32), ('brick', 'grass'))
    """
    n = check_int(n, "n", minimum=1)
    h, w = _check_size(size)
    if split not in _SPLITS:
        raise InvalidArgumentError(f"`split` must be one of {_SPLITS}; got {split!r}")
    names = tuple(textures) if not isinstance(textures, str) else (textures,)
    if len(names) < 2 or len(set(names)) != len(names):
        raise InvalidArgumentError(f"`textures` must name at least 2 different photographs; got {names!r}")
    try:
        lo, hi = (int(r) for r in regions)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`regions` must be a pair (min, max); got {regions!r}") from None
    if not (2 <= lo <= hi):
        raise InvalidArgumentError(f"`regions` must satisfy 2 <= min <= max; got {regions!r}")
    scale = check_int(scale, "scale", minimum=1)
    noise = check_real(noise, "noise")
    if noise < 0:
        raise InvalidArgumentError(f"`noise` must be >= 0; got {noise}")
    try:
        import skimage.data as skdata
    except ImportError as exc:
        raise ImportError("segen.data.textures needs scikit-image: pip install 'segen[train]'") from exc
    for name in names:
        if not callable(getattr(skdata, name, None)):
            raise InvalidArgumentError(f"`textures`: {name!r} is not an image of skimage.data")
    photos = [_region(_texture_photo(name, scale), split) for name in names]
    side = min(min(p.shape) for p in photos)
    if max(h, w) > side:
        raise InvalidArgumentError(
            f"`size` {(h, w)} is larger than the {split!r} texture region ({side} pixels) at `scale` {scale}"
        )
    k = len(names)
    images = np.empty((n, h, w), np.uint8)
    labels = np.empty((n, h, w), np.int32)
    for i, rng in enumerate(_child_rngs(seed, n)):
        lab = _voronoi_layout(rng, h, w, k, (lo, hi))
        img = np.zeros((h, w), np.float32)
        for c in np.unique(lab):
            mask = lab == c
            img[mask] = _random_crop(rng, photos[c], h, w)[mask]
        if noise > 0:
            img += rng.normal(0, noise, img.shape).astype(np.float32)
        images[i] = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
        labels[i] = lab
    return SegmentationData(images, labels, names)


# ---- digits -----------------------------------------------------------------------------------------------

#: Seed of the one fixed train / held-out split of the digits (never change it: shipped models' held-out
#: metrics depend on it).
