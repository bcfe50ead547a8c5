"""Benchmark cases for segen.color (2048 x 2048 RGB inputs)."""

from __future__ import annotations

import numpy as np
from _harness import Case

N = 2048


def _rgb_u8():
    return (np.random.default_rng(0).integers(0, 256, (N, N, 3), dtype=np.uint8),)


def _rgb_f32():
    return (np.random.default_rng(0).random((N, N, 3), dtype=np.float32),)


def _hsv_f32():
    hsv = np.random.default_rng(0).random((N, N, 3), dtype=np.float32)
    deg = hsv.copy()
    deg[..., 0] *= 360  # OpenCV's float HSV has H in degrees
    return hsv, deg


# Outputs: a fresh 48 MB float32 result is above glibc's mmap threshold, so each call maps and faults in new
# pages (about 3.5 ms here) — for segen's float results and OpenCV's float32 ones alike; OpenCV's 12 MB
# uint8 HSV output is recycled by malloc. The "out=" cases reuse one result buffer on both sides
# (segen's `out=`, OpenCV's `dst=`), which is what a loop over video frames would do.


def cases():
    import cv2
    import segen
    from skimage import color as skcolor

    return [
        # OpenCV's uint8 HSV writes uint8 (H in [0, 180)): a quarter of the bytes segen's float32 output has.
        Case(
            "rgb2hsv uint8 -> float32 (cv2: uint8 -> uint8)",
            _rgb_u8,
            segen.color.rgb2hsv,
            {"opencv": lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2HSV), "skimage": skcolor.rgb2hsv},
            {"opencv": 1.0, "skimage": 0.2},
        ),
        Case(
            "rgb2hsv uint8 -> float32, out= (cv2: uint8 -> uint8, dst=)",
            lambda: (*_rgb_u8(), np.empty((N, N, 3), np.float32), np.empty((N, N, 3), np.uint8)),
            lambda a, *rest: segen.color.rgb2hsv(a, out=rest[-2]),
            {"opencv": lambda a, *rest: cv2.cvtColor(a, cv2.COLOR_RGB2HSV, dst=rest[-1])},
            {"opencv": 1.0},
        ),
        Case(
            "rgb2hsv float32",
            _rgb_f32,
            segen.color.rgb2hsv,
            {"opencv": lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2HSV)},
            {"opencv": 0.9},  # issue 13
        ),
        Case(
            "rgb2hsv float32, out= (cv2: dst=)",
            lambda: (*_rgb_f32(), np.empty((N, N, 3), np.float32), np.empty((N, N, 3), np.float32)),
            lambda a, *rest: segen.color.rgb2hsv(a, out=rest[0]),
            {"opencv": lambda a, *rest: cv2.cvtColor(a, cv2.COLOR_RGB2HSV, dst=rest[1])},
            {"opencv": 0.9},  # issue 13: the conversion alone, without the fresh output's page faults
        ),
        Case(
            "hsv2rgb float32",
            _hsv_f32,
            lambda hsv, deg: segen.color.hsv2rgb(hsv),
            {"opencv": lambda hsv, deg: cv2.cvtColor(deg, cv2.COLOR_HSV2RGB)},
            {"opencv": 1.0},
        ),
        Case(
            "rgb2gray float32",
            _rgb_f32,
            segen.color.rgb2gray,
            {"opencv": lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), "skimage": skcolor.rgb2gray},
            # scikit-image's rgb2gray is one BLAS matrix product: memory-bound, as segen's.
            {"opencv": 1.5, "skimage": 1.0},
        ),
        Case(
            "rgb2lab uint8 -> float32 (cv2: float32 input)",
            lambda: (_rgb_u8()[0], _rgb_f32()[0]),
            lambda u8, f32: segen.color.rgb2lab(u8),
            {
                "opencv": lambda u8, f32: cv2.cvtColor(f32, cv2.COLOR_RGB2Lab),
                "skimage": lambda u8, f32: skcolor.rgb2lab(u8),
            },
            {"opencv": 1.5, "skimage": 0.2},
        ),
        Case(
            "rgb2lab float32",
            _rgb_f32,
            segen.color.rgb2lab,
            {"opencv": lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2Lab)},
            {"opencv": 1.5},
        ),
    ]
