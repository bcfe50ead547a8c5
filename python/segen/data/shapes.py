"""Geometric shapes on noisy backgrounds: a synthetic segmentation set reproducible from a seed."""

from __future__ import annotations

import numpy as np

from .._shared.validation import check_int, check_real
from ..errors import InvalidArgumentError
from ._common import SegmentationData, _check_size, _child_rngs

#: Class names of :func:`shapes`; label 0 is the background.
SHAPE_CLASSES = ("background", "circle", "square", "triangle", "ring")


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
