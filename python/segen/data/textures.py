"""Mosaics of real texture photographs bundled with scikit-image, split so test crops never overlap training
crops."""

from __future__ import annotations

import functools

import numpy as np

from .._shared.validation import check_bool, check_int, check_real
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


def _random_crop(rng, region, h, w, turn=True):
    # the crop is taken from a square window so that a rotation by 90 degrees keeps its size
    side = max(h, w)
    if region.shape[0] < side or region.shape[1] < side:
        raise InvalidArgumentError(
            f"`size` {(h, w)} is larger than the texture region {region.shape} of the photographs"
        )
    r = int(rng.integers(0, region.shape[0] - side + 1))
    c = int(rng.integers(0, region.shape[1] - side + 1))
    crop = region[r : r + side, c : c + side]
    if turn:
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


def _photo_names(textures, caller: str) -> tuple:
    """`textures` checked: at least 2 different names of ``skimage.data`` images (imports scikit-image)."""
    names = tuple(textures) if not isinstance(textures, str) else (textures,)
    if len(names) < 2 or len(set(names)) != len(names):
        raise InvalidArgumentError(f"`textures` must name at least 2 different photographs; got {names!r}")
    try:
        import skimage.data as skdata
    except ImportError as exc:
        raise ImportError(f"segen.data.{caller} needs scikit-image: pip install 'segen[train]'") from exc
    for name in names:
        if not callable(getattr(skdata, name, None)):
            raise InvalidArgumentError(f"`textures`: {name!r} is not an image of skimage.data")
    return names


def _int_range(pair, name: str, minimum: int) -> tuple[int, int]:
    """A pair (min, max) of ints with ``minimum <= min <= max``."""
    try:
        lo, hi = (int(r) for r in pair)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be a pair (min, max); got {pair!r}") from None
    if not (minimum <= lo <= hi):
        raise InvalidArgumentError(f"`{name}` must satisfy {minimum} <= min <= max; got {pair!r}")
    return lo, hi


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
    lo, hi = _int_range(regions, "regions", 2)
    scale = check_int(scale, "scale", minimum=1)
    noise = check_real(noise, "noise")
    if noise < 0:
        raise InvalidArgumentError(f"`noise` must be >= 0; got {noise}")
    names = _photo_names(textures, "textures")
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


# ---- full-size mosaics for evaluating texture segmentation ------------------------------------------------

#: Photographs bundled with scikit-image that :func:`texture_mosaics` draws from: brick, grass and gravel
#: (the library's texture photographs), immunohistochemistry (stained tissue) and hubble_deep_field (a sky
#: of galaxies on grain), all made grey. Each is histogram-equalised on its own, so that grey level alone
#: does not tell two textures apart.
MOSAIC_TEXTURES = ("brick", "grass", "gravel", "immunohistochemistry", "hubble_deep_field")

_LAYOUTS = ("voronoi", "blobs", "islands")


@functools.cache
def _equalised_photo(name: str) -> np.ndarray:
    """The photograph `name`, grey and histogram-equalised (``skimage.exposure.equalize_hist``), float32."""
    try:
        from skimage import data, exposure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "segen.data.texture_mosaics needs scikit-image: pip install 'segen[train]'"
        ) from exc
    img = np.asarray(getattr(data, name)())
    if img.ndim == 3:
        img = rgb2gray(np.ascontiguousarray(img[..., :3]))
    return np.ascontiguousarray(exposure.equalize_hist(img), dtype=np.float32)


def _mosaic_voronoi(rng, h, w, k, sites):
    """Voronoi cells of `sites` random points (straight borders), texture classes 0..k-1 all present."""
    m = max(k, int(rng.integers(sites[0], sites[1] + 1)))
    pts = rng.uniform(0, 1, (m, 2)) * (h, w)
    cls = np.concatenate([rng.permutation(k), rng.integers(0, k, m - k)])
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    d2 = (rr[..., None] - pts[:, 0].astype(np.float32)) ** 2 + (
        cc[..., None] - pts[:, 1].astype(np.float32)
    ) ** 2
    lab = cls[np.argmin(d2, axis=-1)].astype(np.int32)
    if np.unique(lab).size < k:  # a class whose cells are all hidden: draw again from the same stream
        return _mosaic_voronoi(rng, h, w, k, sites)
    return lab


def _smooth_warp(rng, rr, cc, side, amplitude):
    """A smooth random displacement: a sum of 4 plane waves of 0.5..2.5 cycles per `side`."""
    out = np.zeros_like(rr)
    for _ in range(4):
        a = rng.uniform(0.5, 1.0) * amplitude / 2
        u, v = rng.uniform(-2.5, 2.5, 2) / side
        out += a * np.sin(2 * np.pi * (u * rr + v * cc) + rng.uniform(0, 2 * np.pi))
    return out.astype(np.float32)


def _mosaic_blobs(rng, h, w, k):
    """k curved blobs that tile the image: Voronoi cells of k well-spread points in a warped plane."""
    side = min(h, w)
    for _ in range(1000):  # spread the points out (after 1000 tries the last draw is kept)
        pts = rng.uniform(0.1, 0.9, (k, 2)) * (h, w)
        d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
        if d[np.triu_indices(k, 1)].min() > 0.3 * side:
            break
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    wr = rr + _smooth_warp(rng, rr, cc, side, 0.15 * side)
    wc = cc + _smooth_warp(rng, rr, cc, side, 0.15 * side)
    d2 = (wr[..., None] - pts[:, 0].astype(np.float32)) ** 2 + (
        wc[..., None] - pts[:, 1].astype(np.float32)
    ) ** 2
    lab = rng.permutation(k)[np.argmin(d2, axis=-1)].astype(np.int32)
    if np.unique(lab).size < k:  # a cell warped out of the image: draw again from the same stream
        return _mosaic_blobs(rng, h, w, k)
    return lab


def _mosaic_islands(rng, h, w, k):
    """A background class and k - 1 non-overlapping blobs with wavy (curved) outlines."""
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)
    lab = np.zeros((h, w), np.int32)
    side = min(h, w)
    placed = []
    for c in range(1, k):
        for _ in range(200):  # after 200 tries the last one is kept: later blobs cover earlier ones
            r0 = rng.uniform(0.13, 0.22) * side
            cy, cx = rng.uniform(r0 * 0.6, h - r0 * 0.6), rng.uniform(r0 * 0.6, w - r0 * 0.6)
            if all(np.hypot(cy - y, cx - x) > (r0 + r) * 1.15 for y, x, r in placed):
                break
        placed.append((cy, cx, r0 * 1.4))
        ang = np.arctan2(rr - cy, cc - cx)
        radius = np.full_like(ang, r0)
        for j in range(2, 6):  # a few harmonics bend the circle into a curved blob
            radius += r0 * rng.uniform(0, 0.3 / (j - 1)) * np.cos(j * ang + rng.uniform(0, 2 * np.pi))
        lab[np.hypot(rr - cy, cc - cx) < radius] = c
    perm = rng.permutation(k).astype(np.int32)
    return perm[lab]


def texture_mosaics(
    n: int,
    *,
    layout: str = "voronoi",
    k: int | None = None,
    size=512,
    seed: int | None = None,
    textures=MOSAIC_TEXTURES,
    sites=(4, 8),
    turn: bool = False,
) -> SegmentationData:
    """Full-size mosaics of histogram-equalised texture photographs, to measure texture segmentation.

    Each mosaic picks `k` of the photographs at random (every one of them appears); each photograph is
    grey and histogram-equalised on its own (so the regions differ only by texture, not by grey level) and
    contributes a random crop at its own scale, upright unless `turn` is set.

    Layouts:

    * ``"voronoi"``: the Voronoi cells of 4..8 (`sites`) random points, straight borders, each cell one of
      the `k` textures (default ``k=4``);
    * ``"blobs"``: ``k`` curved blobs that tile the image, one per texture (default ``k=5``): the Voronoi
      cells of ``k`` points at least 30 % of the side apart, in a plane bent by a smooth random warp (4
      plane waves, up to 15 % of the side);
    * ``"islands"``: a background texture and ``k - 1`` separate curved islands (a circle of radius 13..22 %
      of the side, bent by random harmonics), ``k`` regions in all (default ``k=5``). Harder than
      ``"blobs"``: the background is about half the image, and k-means prefers clusters of equal size.

    Parameters
    ----------
    n : int
        Number of mosaics (>= 1).
    layout : {'voronoi', 'blobs', 'islands'}, optional
        Region layout (default Voronoi).
    k : int, optional
        Number of textures per mosaic (2 .. len(`textures`); default 4 for Voronoi, 5 for the others).
    size : int or (int, int), optional
        Height and width (16 .. 512; default 512).
    seed : int, optional
        Seed; mosaic ``i`` depends only on `seed` and ``i``.
    textures : sequence of str, optional
        Names of ``skimage.data`` photographs at least `size` large (default :data:`MOSAIC_TEXTURES`).
    sites : (int, int), optional
        Range of the number of Voronoi cells (the Voronoi layout only; the minimum is raised to `k`).
    turn : bool, optional
        Turn each crop by a random multiple of 90 degrees and flip it at random (default False): then one
        texture may show in two orientations, which orientation-tuned features see as two textures.

    Returns
    -------
    data : SegmentationData
        ``images`` (n, H, W) uint8 grey, ``labels`` (n, H, W) int32 indexing ``classes`` (= `textures`).

    Raises
    ------
    InvalidArgumentError
        For an unknown layout or photograph, a bad `k`, `size`, `sites` or `seed`.
    ImportError
        If scikit-image is not installed.

    See Also
    --------
    textures : small mosaics for training networks, with a train/test split of the photographs.
    segen.segmentation.texture_segment

    Examples
    --------
    >>> data = texture_mosaics(1, layout="blobs", size=128, seed=0)
    >>> data.images.shape, len(set(data.labels[0].ravel().tolist()))
    ((1, 128, 128), 5)
    """
    n = check_int(n, "n", minimum=1)
    h, w = _check_size(size)
    if layout not in _LAYOUTS:
        raise InvalidArgumentError(f"`layout` must be one of {_LAYOUTS}; got {layout!r}")
    lo, hi = _int_range(sites, "sites", 1)
    turn = check_bool(turn, "turn")
    names = _photo_names(textures, "texture_mosaics")
    k = (4 if layout == "voronoi" else 5) if k is None else check_int(k, "k")
    if not 2 <= k <= len(names):
        raise InvalidArgumentError(f"`k` must be in [2, {len(names)}] (the number of `textures`); got {k}")
    photos = [_equalised_photo(name) for name in names]
    for name, p in zip(names, photos):
        if min(p.shape) < max(h, w):
            raise InvalidArgumentError(f"`size` {(h, w)} is larger than the photograph {name!r} {p.shape}")
    images = np.empty((n, h, w), np.uint8)
    labels = np.empty((n, h, w), np.int32)
    for i, rng in enumerate(_child_rngs(seed, n)):
        chosen = np.sort(rng.choice(len(names), k, replace=False))
        if layout == "voronoi":
            lab = _mosaic_voronoi(rng, h, w, k, (lo, hi))
        elif layout == "blobs":
            lab = _mosaic_blobs(rng, h, w, k)
        else:
            lab = _mosaic_islands(rng, h, w, k)
        img = np.zeros((h, w), np.float32)
        for c in range(k):
            mask = lab == c
            img[mask] = _random_crop(rng, photos[chosen[c]], h, w, turn)[mask]
        images[i] = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
        labels[i] = chosen[lab].astype(np.int32)
    return SegmentationData(images, labels, names)


# ---- digits -----------------------------------------------------------------------------------------------

#: Seed of the one fixed train / held-out split of the digits (never change it: shipped models' held-out
#: metrics depend on it).
