"""Benchmark cases for segen.transform (2048 x 2048 float32 input, and a 2048 x 1536 RGB uint8 one)."""

from __future__ import annotations

import numpy as np
from _harness import Case

N = 2048


def _img():
    return (np.random.default_rng(0).random((N, N), dtype=np.float32),)


def _rgb8():
    """A 2048 x 1536 RGB uint8 image (a 3-megapixel photo's shape)."""
    return (np.random.default_rng(0).integers(0, 256, (1536, 2048, 3), dtype=np.uint8),)


def cases():
    import cv2
    import segen
    from skimage import transform as sktf

    R = segen.transform.resize

    def sk_resize(shape, **kw):
        return lambda a: sktf.resize(a, shape, order=1, mode="edge", **kw)

    def cv_resize(shape, interp):
        return lambda a: cv2.resize(a, shape[::-1], interpolation=interp)

    rot = cv2.getRotationMatrix2D(((N - 1) / 2, (N - 1) / 2), 30, 1.0)
    return [
        Case(
            "resize bilinear 2048->1024 (no anti-aliasing)",
            _img,
            lambda a: R(a, (1024, 1024), anti_aliasing=False),
            {
                "opencv": cv_resize((1024, 1024), cv2.INTER_LINEAR),
                "skimage": sk_resize((1024, 1024), anti_aliasing=False),
            },
            {"opencv": 1.5, "skimage": 0.2},
        ),
        *(
            Case(
                f"resize {name} 2048->{size}",
                _img,
                lambda a, size=size, method=method: R(a, (size, size), method=method),
                {"opencv": cv_resize((size, size), interp)},
                {"opencv": 1.5},
            )
            for name, method, interp, size in (
                ("bilinear", "bilinear", cv2.INTER_LINEAR, 3000),
                ("area", "area", cv2.INTER_AREA, 1024),
                ("area", "area", cv2.INTER_AREA, 1500),
            )
        ),
        *(
            Case(
                f"resize bilinear RGB uint8 2048x1536->{w}x{h} (cv2: 11-bit fixed point)",
                _rgb8,
                lambda a, h=h, w=w: R(a, (h, w), anti_aliasing=False),
                {"opencv": lambda a, h=h, w=w: cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)},
                {"opencv": 1.5},
            )
            for w, h in ((1024, 768), (1500, 1100), (2700, 2000))
        ),
        Case(
            "resize bilinear anti-aliased 2048->700",
            _img,
            lambda a: R(a, (700, 700), anti_aliasing=True),
            {"skimage": sk_resize((700, 700), anti_aliasing=True)},
            {"skimage": 0.2},
        ),
        Case(
            "rotate 30 deg bilinear (cv2: warpAffine, 1/32-pixel fixed point)",
            _img,
            lambda a: segen.transform.rotate(a, 30),
            {
                "opencv": lambda a: cv2.warpAffine(a, rot, (N, N), flags=cv2.INTER_LINEAR),
                "skimage": lambda a: sktf.rotate(a, 30, order=1, preserve_range=True),
            },
            {"skimage": 0.5},  # no OpenCV target: warpAffine quantises positions to 1/32 pixel
        ),
    ]
