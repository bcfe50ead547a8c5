"""Data augmentation of segmentation batches: geometric (flips, rotations by 90 degrees, random scale and
crop) and photometric (brightness, contrast, gamma, noise, blur, histogram equalisation).

Geometric changes are applied to an image and its mask alike; photometric ones to the image only, on
values in [0, 1] before the network's normalisation. Every random draw comes from a ``torch.Generator``
(batches) or a numpy generator seeded from (seed, epoch, index) (crops), so the same seed gives the same
augmented data whatever the number of loader workers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..data import to_float

__all__ = ["Augmentation", "equalize", "flip_rotate", "photometric", "random_crop"]


@dataclass(frozen=True)
class Augmentation:
    """Which augmentations run and how strong they are (0 or False: off).

    Attributes
    ----------
    flips : bool
        Random horizontal flips and rotations by k * 90 degrees (vertical flips for non-square crops).
    scale : float
        Random scale factor in ``[1 / scale, scale]`` (log-uniform) applied by the crop (1: none).
    photometric : bool
        Master switch of the photometric changes below; each is drawn with probability `p` per image.
    brightness : float
        Added offset, uniform in ``[-brightness, brightness]``.
    contrast : float
        Contrast factor around the image mean, log-uniform in ``[1 - contrast, 1 / (1 - contrast)]``.
    gamma : float
        Gamma exponent, log-uniform in ``[1 / gamma, gamma]``.
    noise : float
        Gaussian noise with a standard deviation uniform in ``[0, noise]``.
    blur : float
        Gaussian blur with a sigma uniform in ``[0, blur]`` pixels.
    equalize : float
        Probability of histogram equalisation of the image.
    p : float
        Probability of each photometric change.
    """

    flips: bool = True
    scale: float = 1.25
    photometric: bool = True
    brightness: float = 0.1
    contrast: float = 0.5
    gamma: float = 2.2
    noise: float = 0.06
    blur: float = 1.0
    equalize: float = 0.2
    p: float = 0.5

    def to_dict(self) -> dict:
        """The settings as a JSON-ready dict (recorded in the sidecar)."""
        return asdict(self)


def flip_rotate(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
    """The same random flip and rotation by k * 90 degrees for each image (N, C, H, W) and its labels
    (N, H, W); non-square images get a vertical flip instead of a quarter turn."""
    out_x, out_y = torch.empty_like(x), torch.empty_like(y)
    ops = torch.randint(0, 8, (x.shape[0],), generator=gen)
    for i, op in enumerate(ops.tolist()):
        xi, yi = x[i], y[i]
        if op & 4:
            xi, yi = xi.flip(-1), yi.flip(-1)
        k = op & 3
        if k and xi.shape[-1] == xi.shape[-2]:
            xi, yi = torch.rot90(xi, k, (-2, -1)), torch.rot90(yi, k, (-2, -1))
        elif k & 2:
            xi, yi = xi.flip(-2), yi.flip(-2)
        out_x[i], out_y[i] = xi, yi
    return out_x, out_y


def equalize(x: torch.Tensor, bins: int = 256) -> torch.Tensor:
    """Histogram equalisation of one image (C, H, W) in [0, 1] (all channels share one histogram): each
    value goes to the fraction of pixels at or below its bin, as ``skimage.exposure.equalize_hist``."""
    q = (x.clamp(0, 1) * (bins - 1)).round().long()
    hist = torch.bincount(q.flatten(), minlength=bins).to(x.dtype)
    cdf = hist.cumsum(0)
    cdf = cdf / cdf[-1]
    return cdf[q]


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, math.ceil(2.5 * sigma))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[0]
    x = F.pad(x[None], (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return x[0]


def photometric(x: torch.Tensor, aug: Augmentation, gen: torch.Generator) -> torch.Tensor:
    """Random photometric changes of a batch (N, C, H, W) of images in [0, 1] (a new tensor, clipped to
    [0, 1]); labels do not change."""
    if not aug.photometric:
        return x
    n = x.shape[0]
    u = torch.rand(n, 8, generator=gen, dtype=torch.float64)
    on = torch.rand(n, 6, generator=gen, dtype=torch.float64) < aug.p
    out = []
    for i in range(n):
        xi, ui, oi = x[i], u[i].tolist(), on[i].tolist()
        if aug.equalize and ui[7] < aug.equalize:
            xi = equalize(xi)
        if oi[0] and aug.gamma > 1:
            g = math.exp((2 * ui[0] - 1) * math.log(aug.gamma))
            xi = xi.clamp(0, 1) ** g
        if oi[1] and aug.contrast > 0:
            c = math.exp((2 * ui[1] - 1) * -math.log(1 - min(aug.contrast, 0.95)))
            m = xi.mean()
            xi = m + c * (xi - m)
        if oi[2] and aug.brightness > 0:
            xi = xi + (2 * ui[2] - 1) * aug.brightness
        if oi[3] and aug.blur > 0 and ui[3] * aug.blur > 0.3:
            xi = _gaussian_blur(xi, ui[3] * aug.blur)
        if oi[4] and aug.noise > 0:
            sd = ui[4] * aug.noise
            xi = xi + sd * torch.randn(xi.shape, generator=gen, dtype=xi.dtype)
        out.append(xi.clamp(0, 1))
    return torch.stack(out)


def random_crop(
    image: np.ndarray, mask: np.ndarray, size: int, rng: np.random.Generator, *, scale: float, ignore: int
):
    """A random `size` x `size` crop of an image (H, W, C) and its int mask (H, W), after a random scale in
    ``[1 / scale, scale]``: a window of ``size / factor`` pixels is cut, brought to float32 in [0, 1] by
    :func:`segen.data.to_float` (only the window: a large image is not converted whole), then resized
    (bilinear image, nearest mask). An image smaller than the window is padded (reflected image, `ignore`
    mask). Returns float32 (C, size, size) and int64 (size, size) tensors."""
    f = math.exp(rng.uniform(-1, 1) * math.log(scale)) if scale > 1 else 1.0
    win = max(1, int(round(size / f)))
    h, w = mask.shape
    ph, pw = max(0, win - h), max(0, win - w)
    if ph or pw:
        pad = ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))
        mode = "reflect" if h > ph and w > pw else "edge"
        image = np.pad(image, pad + ((0, 0),), mode=mode)
        mask = np.pad(mask, pad, constant_values=ignore)
        h, w = mask.shape
    r, c = int(rng.integers(0, h - win + 1)), int(rng.integers(0, w - win + 1))
    x = torch.from_numpy(np.ascontiguousarray(to_float(image[r : r + win, c : c + win]).transpose(2, 0, 1)))
    y = torch.from_numpy(np.ascontiguousarray(mask[r : r + win, c : c + win]).astype(np.int64))
    if win != size:
        x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False)[0]
        y = F.interpolate(y[None, None].float(), size=(size, size), mode="nearest")[0, 0].long()
    return x, y
