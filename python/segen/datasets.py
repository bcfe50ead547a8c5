"""Data sets reproducible from a seed: geometric shapes and texture mosaics (segmentation), handwritten
digits (generation).

Both generators return a :class:`SegmentationData`: images, their int32 label images and the class names
(the label value is the index into ``classes``). Image ``i`` of a call depends only on ``seed`` and ``i``
(one child seed per image), so ``shapes(10, seed=0)`` is the first ten images of ``shapes(100, seed=0)``.

Only numpy is needed, except for :func:`textures`, which reads photographs bundled with scikit-image,
and :func:`digits`, which reads scikit-learn's bundled handwritten digits (both imported on first use;
they are part of the ``train`` extra).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._validate import check_int, check_real
from .errors import InvalidArgumentError

__all__ = [
    "DIGITS_SPLIT_SEED",
    "SHAPE_CLASSES",
    "TEXTURES",
    "LabelledImages",
    "SegmentationData",
    "digits",
    "segmentation_scores",
    "shapes",
    "textures",
]

#: Class names of :func:`shapes`; label 0 is the background.
SHAPE_CLASSES = ("background", "circle", "square", "triangle", "ring")

#: Photographs bundled with scikit-image used by :func:`textures` (name -> loader name in ``skimage.data``).
#: brick, grass and gravel are the library's texture images; immunohistochemistry (stained tissue, made
#: grey) is a fourth stationary texture: its statistics are the same all over the photograph, so crops
#: from two different parts of it look alike, which the held-out split relies on.
TEXTURES = ("brick", "grass", "gravel", "immunohistochemistry")

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


def _shape_mask(kind: int, rr, cc, cy, cx, radius, theta):
    """Boolean mask of one shape on the pixel-centre grid (rr, cc): `radius` is its circumradius."""
    dy, dx = rr - cy, cc - cx
    c, s = np.cos(theta), np.sin(theta)
    u, v = c * dx + s * dy, -s * dx + c * dy  # coordinates in the shape's own frame
    if kind == 1:  # circle
        return u * u + v * v <= radius * radius
    if kind == 2:  # square with circumradius `radius`
        half = radius / np.sqrt(2.0)
        return np.maximum(np.abs(u), np.abs(v)) <= half
    if kind == 3:  # equilateral triangle: inside the three edges at distance radius/2 from the centre
        inside = np.ones(u.shape, bool)
        for k in range(3):
            a = 2 * np.pi * k / 3 + np.pi / 2
            inside &= u * np.cos(a) + v * np.sin(a) <= radius / 2
        return inside
    d2 = u * u + v * v  # ring: annulus with inner radius radius/2
    return (d2 <= radius * radius) & (d2 >= (0.5 * radius) ** 2)


def _one_shapes_image(rng, h, w, max_shapes, rmin, rmax, noise):
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    bg = rng.uniform(0.0, 1.0, 3)
    grad = rng.uniform(-0.15, 0.15, 3)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * rr / h + np.sin(angle) * cc / w)[..., None]
    img = np.clip(bg + grad * ramp, 0, 1).astype(np.float32)
    lab = np.zeros((h, w), np.int32)
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        kind = int(rng.integers(1, len(SHAPE_CLASSES)))
        radius = rng.uniform(rmin, rmax)
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        theta = rng.uniform(0, 2 * np.pi)
        colour = rng.uniform(0, 1, 3)
        for _ in range(20):  # keep a visible contrast to the background
            if np.abs(colour - bg).sum() >= 0.45:
                break
            colour = rng.uniform(0, 1, 3)
        mask = _shape_mask(kind, rr, cc, cy, cx, radius, theta)
        img[mask] = colour
        lab[mask] = kind
    sigma = rng.uniform(0, noise) if noise > 0 else 0.0
    if sigma > 0:
        img = img + rng.normal(0, sigma, img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), lab


def shapes(
    n: int,
    *,
    size=64,
    seed: int | None = None,
    max_shapes: int = 4,
    radius=(6.0, 16.0),
    noise: float = 0.06,
) -> SegmentationData:
    """Random coloured geometric shapes on a shaded background, with per-pixel class labels.

    Each image has a random background colour with a linear gradient and 1..`max_shapes` shapes
    (circle, square, triangle, ring) of random class, size, position, rotation and colour; later shapes
    cover earlier ones (the labels show the visible one) and may leave the image. Colours say nothing
    about the class: only the geometry does. Gaussian noise of a random level in [0, `noise`] is added.

    Parameters
    ----------
    n : int
        Number of images (>= 1).
    size : int or (int, int), optional
        Image height and width (>= 16 each).
    seed : int, optional
        Seed; the same seed gives the same data. None draws fresh entropy.
    max_shapes : int, optional
        Most shapes per image (>= 1).
    radius : (float, float), optional
        Range of the shapes' circumradius in pixels.
    noise : float, optional
        Largest standard deviation of the additive noise, in [0, 1] units.

    Returns
    -------
    data : SegmentationData
        ``images`` (n, H, W, 3) uint8, ``labels`` (n, H, W) int32 with values indexing
        :data:`SHAPE_CLASSES` (0 = background).

    Raises
    ------
    InvalidArgumentError
        If `n` < 1, `size` is too small, `max_shapes` < 1, `radius` is not 0 < min <= max, `noise` < 0 or
        `seed` is not a non-negative int.

    Examples
    --------
    >>> data = shapes(2, size=32, seed=0)
    >>> data.images.shape, data.labels.dtype, data.classes[1]
    ((2, 32, 32, 3), dtype('int32'), 'circle')
    """
    n = check_int(n, "n", minimum=1)
    h, w = _check_size(size)
    max_shapes = check_int(max_shapes, "max_shapes", minimum=1)
    try:
        rmin, rmax = (float(r) for r in radius)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`radius` must be a pair (min, max); got {radius!r}") from None
    if not (0 < rmin <= rmax):
        raise InvalidArgumentError(f"`radius` must satisfy 0 < min <= max; got {radius!r}")
    noise = check_real(noise, "noise")
    if noise < 0:
        raise InvalidArgumentError(f"`noise` must be >= 0; got {noise}")
    images = np.empty((n, h, w, 3), np.uint8)
    labels = np.empty((n, h, w), np.int32)
    for i, rng in enumerate(_child_rngs(seed, n)):
        images[i], labels[i] = _one_shapes_image(rng, h, w, max_shapes, rmin, rmax, noise)
    return SegmentationData(images, labels, SHAPE_CLASSES)


# ---- textures ----------------------------------------------------------------------------------------------


@functools.cache
def _texture_photo(name: str, scale: int) -> np.ndarray:
    """The photograph `name` as a grey float32 array in [0, 1], block-averaged by `scale`."""
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("segen.datasets.textures needs scikit-image: pip install 'segen[train]'") from exc
    img = np.asarray(getattr(data, name)(), dtype=np.float32) / 255.0
    if img.ndim == 3:
        img = img[..., :3] @ np.array([0.2125, 0.7154, 0.0721], np.float32)
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
    >>> data = textures(2, size=32, seed=0)                          # doctest: +SKIP
    >>> data.images.shape, data.classes[:2]                          # doctest: +SKIP
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
        raise ImportError("segen.datasets.textures needs scikit-image: pip install 'segen[train]'") from exc
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
        from .transform import resize

        imgs = np.stack([resize(im, (size, size), method="bilinear") for im in imgs])
    imgs = np.clip(np.round(imgs * 255.0), 0, 255).astype(np.uint8)
    return LabelledImages(imgs, labels[order].copy(), tuple(str(k) for k in range(10)))


# ---- scores ------------------------------------------------------------------------------------------------


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
    """
    pred = np.asarray(pred)
    true = np.asarray(true)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if pred.shape != true.shape:
        raise InvalidArgumentError(
            f"`pred` and `true` must have the same shape; got {pred.shape}, {true.shape}"
        )
    for name, a in (("pred", pred), ("true", true)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise InvalidArgumentError(
                f"`{name}` values must be in [0, {num_classes}); got {a.min()}..{a.max()}"
            )
    cm = np.bincount(
        true.ravel().astype(np.int64) * num_classes + pred.ravel(), minlength=num_classes**2
    ).reshape(num_classes, num_classes)
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / np.maximum(union, 1), np.nan)
    return {
        "pixel_accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "iou": [float(x) for x in iou],
        "mean_iou": float(np.nanmean(iou)) if np.any(union > 0) else float("nan"),
    }
