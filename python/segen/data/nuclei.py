"""Synthetic fluorescence nuclei with their instance labels, made hard on purpose (issue 12).

What a widefield image of stained nuclei looks like, and what breaks the textbook recipes on it:

- **brightness** of the nuclei log-uniform over ``[1 / dynamic_range, 1]`` in one image (dynamic range
  drawn in 10x..30x by default), so a global threshold loses the dim ones;
- **sizes and shapes**: a typical radius per image (``radius``) and +-30 % per nucleus; ellipses with axis
  ratio 0.5..1 at random angles, their outline wobbled by low-order harmonics;
- **clusters**: most nuclei are drawn around a few cluster centres, touching; a new nucleus may cover up to
  ``max_overlap`` of its area with earlier ones (it lies on top: the covered pixels are its own in the
  labels, and the intensities add as in fluorescence), while every earlier nucleus keeps >= 60 % of its
  pixels;
- **texture**: chromatin-like blotches (smoothed noise), a few bright nucleoli-like spots, a dimmer or
  brighter rim;
- **blur**: a point-spread function (Gaussian sigma 0.6..1.8) for the whole image, and about 15 % of the
  nuclei out of focus (sigma 2..4, dimmer); their labels are their in-focus outline;
- **background**: an offset, a linear ramp and slow waves (up to about a third of the brightest nucleus),
  plus faint out-of-focus haze;
- **noise**: Poisson shot noise (50..2000 photons at the brightest level) and Gaussian read noise;
- **bit depth and contrast**: 8-bit or 16-bit (12-bit or 16-bit range, with a camera offset), the
  brightest nucleus at 15..100 % of the range (a few 8-bit images clipped at the top).

Only numpy and segen's C++ Gaussian are used. Image ``i`` depends only on ``(seed, i)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._shared.validation import check_int, check_real
from ..errors import InvalidArgumentError
from ..filters import gaussian
from ._common import _check_size, _child_rngs

__all__ = ["NucleiData", "nuclei", "nuclei_image"]


@dataclass(frozen=True)
class NucleiData:
    """Fluorescence-like images and their instance labels.

    Attributes
    ----------
    images : list of (H, W) ndarray of uint8 or uint16
        The images; the bit depth varies from image to image (see :func:`nuclei`).
    labels : (N, H, W) ndarray of int32
        Instance labels: 0 background, 1..K the nuclei of each image.
    """

    images: list
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


def _ellipse(rng, r, aspect):
    """A wobbly ellipse: (mask in its bounding box, box half-size)."""
    half = int(np.ceil(r * 1.25)) + 1
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    t = rng.uniform(0, np.pi)
    u = (yy * np.cos(t) + xx * np.sin(t)) / r
    v = (-yy * np.sin(t) + xx * np.cos(t)) / (r * aspect)
    ang = np.arctan2(v, u)
    wobble = 1.0 + sum(rng.uniform(-0.06, 0.06) * np.cos(k * ang + rng.uniform(0, 6.3)) for k in (2, 3, 5))
    return u * u + v * v <= wobble * wobble, half


def _smooth_noise(rng, shape, sigma):
    f = gaussian(rng.standard_normal(shape).astype(np.float32), sigma)
    return f / max(float(f.std()), 1e-6)


def _place(rng, h, w, n, radius, max_overlap, clustered):
    """Instance labels of up to n nuclei and, per nucleus, (label, box, own mask)."""
    truth = np.zeros((h, w), np.int32)
    area = [0]
    shapes = []
    centres = rng.uniform(0, 1, (max(1, n // 8), 2)) * (h, w)
    for _ in range(30 * n):
        if len(shapes) == n:
            break
        r = radius * rng.uniform(0.7, 1.3)
        mask, half = _ellipse(rng, r, rng.uniform(0.5, 1.0))
        if rng.random() < clustered:
            cy, cx = centres[rng.integers(len(centres))] + rng.normal(0, 2.2 * radius, 2)
        else:
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        cy, cx = int(round(cy)), int(round(cx))
        y0, x0 = cy - half, cx - half
        # clip the box to the image
        a, b = max(0, y0), min(h, y0 + mask.shape[0])
        c, d = max(0, x0), min(w, x0 + mask.shape[1])
        if b - a < 3 or d - c < 3:
            continue
        m = mask[a - y0 : b - y0, c - x0 : d - x0]
        if m.sum() < 0.5 * mask.sum():  # mostly outside the image
            continue
        under = truth[a:b, c:d][m]
        hit = under[under > 0]
        if hit.size > max_overlap * m.sum():
            continue
        ids, lost = np.unique(hit, return_counts=True)
        if any(area[i] - k < 0.6 * shapes[i - 1][3] for i, k in zip(ids, lost)):
            continue
        for i, k in zip(ids, lost):
            area[i] -= k
        k = len(shapes) + 1
        truth[a:b, c:d][m] = k
        area.append(int(m.sum()))
        shapes.append((k, (a, b, c, d), m, int(m.sum())))
    return truth, shapes


def nuclei_image(
    rng,
    shape=(256, 256),
    *,
    n=None,
    radius=None,
    dynamic_range=None,
    max_overlap: float = 0.2,
    bit_depth=None,
):
    """One synthetic fluorescence image and its instance labels (see the module docs for what is drawn).

    Parameters
    ----------
    rng : numpy.random.Generator or int
        The random source (an int seeds a new generator).
    shape : (int, int), optional
        Image size (default 256 x 256, at least 16 x 16).
    n : int, optional
        Number of nuclei tried (placement may fit fewer); default drawn for about 25 % coverage.
    radius : float, optional
        Typical nucleus radius in pixels (default drawn in 5..11).
    dynamic_range : float, optional
        Brightest / dimmest nucleus before blur and noise (default drawn in 10..30; >= 1).
    max_overlap : float, optional
        Fraction of a nucleus that may lie over earlier ones (default 0.2; 0 = touching only).
    bit_depth : {8, 16}, optional
        Image dtype uint8 or uint16 (default drawn: half of the images each).

    Returns
    -------
    image : (H, W) ndarray of uint8 or uint16
    labels : (H, W) ndarray of int32
        0 background, 1..K nuclei.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    h, w = _check_size(shape)
    radius = float(rng.uniform(5.0, 11.0) if radius is None else check_real(radius, "radius", minimum=2.0))
    if n is None:
        n = max(1, int(0.25 * h * w / (np.pi * radius * radius) * rng.uniform(0.6, 1.4)))
    n = check_int(n, "n", minimum=0)
    dr = (
        rng.uniform(10.0, 30.0)
        if dynamic_range is None
        else check_real(dynamic_range, "dynamic_range", minimum=1.0)
    )
    max_overlap = check_real(max_overlap, "max_overlap", minimum=0.0, maximum=0.5)
    bit_depth = int(rng.choice([8, 16])) if bit_depth is None else bit_depth
    if bit_depth not in (8, 16):
        raise InvalidArgumentError(f"`bit_depth` must be 8 or 16; got {bit_depth!r}")

    truth, shapes = _place(rng, h, w, n, radius, max_overlap, clustered=0.6)
    focus = np.zeros((h, w), np.float32)
    blurred = np.zeros((h, w), np.float32)
    chromatin = _smooth_noise(rng, (h, w), rng.uniform(0.8, 2.0))
    tex = rng.uniform(0.1, 0.35)
    for k, (a, b, c, d), m, _ in shapes:
        level = float(np.exp(rng.uniform(-np.log(dr), 0.0)))
        yy, xx = np.nonzero(m)
        cy, cx = yy.mean(), xx.mean()
        rr = np.hypot(yy - cy, xx - cx)
        rim = 1.0 + rng.uniform(-0.25, 0.2) * (rr / max(rr.max(), 1.0)) ** 2
        val = level * rim * np.clip(1.0 + tex * chromatin[a:b, c:d][m], 0.2, None)
        for _ in range(int(rng.integers(0, 3))):  # nucleoli-like spots
            j = rng.integers(len(yy))
            val = val + level * rng.uniform(0.2, 0.6) * np.exp(-((yy - yy[j]) ** 2 + (xx - xx[j]) ** 2) / 3.0)
        out_of_focus = rng.random() < 0.15
        layer = blurred if out_of_focus else focus
        layer[a:b, c:d][m] += (val * (0.7 if out_of_focus else 1.0)).astype(np.float32)
    img = gaussian(focus, rng.uniform(0.6, 1.8))
    if blurred.any():
        img = img + gaussian(blurred, rng.uniform(2.0, 4.0))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * yy + np.sin(angle) * xx) / max(h, w)
    wave = np.sin(yy / rng.uniform(30, 90) + rng.uniform(0, 6.3)) * np.sin(xx / rng.uniform(30, 90))
    bg_scale = rng.uniform(0.02, 0.3)
    background = bg_scale * (rng.uniform(0.2, 1.0) + rng.uniform(0, 0.6) * ramp + rng.uniform(0, 0.4) * wave)
    haze = gaussian(focus, 8.0) * rng.uniform(0.0, 0.5)
    img = img + np.clip(background, 0, None) + haze
    photons = float(np.exp(rng.uniform(np.log(50.0), np.log(2000.0))))
    img = rng.poisson(np.clip(img, 0, None) * photons) / photons
    img = img + rng.normal(0.0, rng.uniform(0.002, 0.02), img.shape)

    full = 255.0 if bit_depth == 8 else float(rng.choice([4095.0, 65535.0]))
    camera_offset = 0.0 if bit_depth == 8 else full * rng.uniform(0.0, 0.03)
    gain = (full - camera_offset) * rng.uniform(0.15, 1.0) / max(float(np.quantile(img, 0.999)), 1e-6)
    out = np.clip(np.rint(camera_offset + img * gain), 0, 255 if bit_depth == 8 else 65535)
    return out.astype(np.uint8 if bit_depth == 8 else np.uint16), truth


def nuclei(n: int, *, size=256, seed=None, **options) -> NucleiData:
    """`n` synthetic fluorescence images of nuclei with instance labels (:func:`nuclei_image` each).

    Parameters
    ----------
    n : int
        Number of images (>= 1).
    size : int or (int, int), optional
        Image size (default 256).
    seed : int, optional
        Image ``i`` depends only on ``(seed, i)``.
    **options
        Passed to :func:`nuclei_image` (``n`` there is named ``count`` here: the nuclei per image).

    Returns
    -------
    NucleiData

    Examples
    --------
    >>> d = nuclei(2, size=64, seed=0)
    >>> len(d), d.labels.shape, d.labels.dtype.name
    (2, (2, 64, 64), 'int32')
    """
    n = check_int(n, "n", minimum=1)
    shape = _check_size(size)
    count = options.pop("count", None)
    images, labels = [], []
    for rng in _child_rngs(seed, n):
        img, lab = nuclei_image(rng, shape, n=count, **options)
        images.append(img)
        labels.append(lab)
    return NucleiData(images, np.stack(labels))
