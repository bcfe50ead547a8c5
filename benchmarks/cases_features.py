"""Benchmark cases of segen.features (collected by bench_core.py).

* Gabor bank: 1024x1024 float32, 2 frequencies x 4 orientations with kernels 31 to 59 pixels wide,
  against an OpenCV loop with kernels of the same sizes (cv2.getGaborKernel for the real and the
  imaginary part, cv2.filter2D twice, cv2.magnitude; plus cv2.GaussianBlur for the smoothed variant) and,
  on 256x256, against skimage.filters.gabor in a loop.
* Canny: 2048x2048 uint8 photograph. OpenCV's Canny has no Gaussian smoothing and uses the L1 gradient
  norm by default, so the peer is cv2.GaussianBlur(sigma=1) + cv2.Canny(L2gradient=True) with
  scikit-image's default thresholds (0.1 and 0.2 of 255).
* HSV histogram: 2048x2048 RGB uint8, (8, 4, 4) bins, against skimage.color.rgb2hsv + np.histogramdd
  (the same numbers) and, for scale only, cv2.cvtColor + cv2.calcHist (OpenCV's 8-bit HSV rounds hue to
  [0, 180), so its histogram differs; segen computes HSV in float64 to match scikit-image exactly).
"""

from __future__ import annotations

import math

import numpy as np
from _harness import Case

FREQS = (0.06, 0.08)  # kernels 59/41 and 45/31 pixels wide at 0 / 45 degrees
THETAS = tuple(np.arange(4) * np.pi / 4)


def _photo(shape, rgb=False):
    import cv2
    from skimage import data

    img = data.astronaut() if rgb else data.camera()
    return np.ascontiguousarray(cv2.resize(img, shape[::-1], interpolation=cv2.INTER_CUBIC))


def _gabor_image(size):
    rng = np.random.default_rng(0)
    img = _photo((size, size)).astype(np.float32) / 255
    return (img + 0.05 * rng.random(img.shape, dtype=np.float32),)


def _cv_kernels():
    """OpenCV Gabor kernels (real, imaginary) with scikit-image's sizes, flipped for filter2D."""
    import cv2
    import segen

    out = []
    for f in FREQS:
        for t in THETAS:
            h, w = segen.features.gabor_kernel(f, t).shape
            sigma = 1 / math.pi * math.sqrt(math.log(2) / 2) * 3 / f  # bandwidth 1
            re = cv2.getGaborKernel((w, h), sigma, t, 1 / f, 1.0, 0, ktype=cv2.CV_32F)
            im = cv2.getGaborKernel((w, h), sigma, t, 1 / f, 1.0, -math.pi / 2, ktype=cv2.CV_32F)
            out.append((f, re[::-1, ::-1].copy(), im[::-1, ::-1].copy()))
    return out


def _cv_bank(img, kernels, smoothing):
    import cv2

    feats = []
    for f, re, im in kernels:
        r = cv2.filter2D(img, cv2.CV_32F, re, borderType=cv2.BORDER_REFLECT)
        i = cv2.filter2D(img, cv2.CV_32F, im, borderType=cv2.BORDER_REFLECT)
        m = cv2.magnitude(r, i)
        if smoothing:
            m = cv2.GaussianBlur(m, (0, 0), smoothing / f, borderType=cv2.BORDER_REFLECT)
        feats.append(m)
    return np.stack(feats, axis=-1)


def _skimage_bank(img):
    from skimage.filters import gabor

    return [np.hypot(*gabor(img, f, t)) for f in FREQS for t in THETAS]


def cases() -> list[Case]:
    import cv2
    import segen
    from skimage import color, feature

    kernels = _cv_kernels()
    bank = segen.features.gabor_bank

    def canny_args():
        return (_photo((2048, 2048)),)

    def rgb_args():
        return (_photo((2048, 2048), rgb=True),)

    def cv_hist(rgb):
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        h = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256])
        return h / h.sum()

    def np_hist(rgb):
        h, _ = np.histogramdd(color.rgb2hsv(rgb).reshape(-1, 3), bins=(8, 4, 4), range=[(0, 1)] * 3)
        return h / h.sum()

    return [
        *(
            Case(
                name=f"gabor_bank 1024² f32 2x4 filters{what}",
                args=lambda: _gabor_image(1024),
                segen=lambda img, sm=smoothing: bank(img, FREQS, THETAS, smoothing=sm),
                peers={"opencv": lambda img, sm=smoothing: _cv_bank(img, kernels, sm)},
                targets={"opencv": 0.3},
            )
            for smoothing, what in ((0, " (31-59 px), no smoothing"), (0.5, ", smoothed (sigma = 0.5/f)"))
        ),
        Case(
            name="gabor_bank 256² f32 2x4 filters vs skimage.filters.gabor loop",
            args=lambda: _gabor_image(256),
            segen=lambda img: bank(img, FREQS, THETAS, smoothing=0),
            peers={"skimage": _skimage_bank},
            targets={"skimage": 1 / 50},
            repeat=3,
        ),
        Case(
            name="canny 2048² u8 sigma=1 (opencv: GaussianBlur + Canny L2)",
            args=canny_args,
            segen=lambda img: segen.features.canny(img, sigma=1.0),
            peers={
                "opencv": lambda img: cv2.Canny(
                    cv2.GaussianBlur(img, (0, 0), 1.0), 25.5, 51, L2gradient=True
                ),
                "skimage": lambda img: feature.canny(img, sigma=1.0),
            },
            targets={"opencv": 1.0, "skimage": 0.1},
            repeat=5,
        ),
        Case(
            name="local_binary_pattern 2048² u8 P=8 R=1 uniform",
            args=canny_args,
            segen=lambda img: segen.features.local_binary_pattern(img, "uniform"),
            peers={"skimage": lambda img: feature.local_binary_pattern(img, 8, 1, "uniform")},
            targets={"skimage": 0.1},
            repeat=5,
        ),
        Case(
            name="color_histogram 2048² RGB u8 (8,4,4) bins",
            args=rgb_args,
            segen=lambda rgb: segen.features.color_histogram(rgb, (8, 4, 4)),
            # OpenCV's 8-bit HSV (H in [0, 180), rounded) is not the same histogram: timing only, no target.
            peers={"opencv": cv_hist, "skimage": np_hist},
            targets={"skimage": 0.1},
            repeat=5,
        ),
    ]
