"""Procedural sample images for the demo and docs (numpy only, deterministic from a seed)."""

from __future__ import annotations

import numpy as np


def scene(shape: tuple[int, int] = (384, 512), *, seed: int = 0) -> np.ndarray:
    """An RGB uint8 test scene: a lit background, three striped textures, coloured discs and a square.

    It has what the classical operators respond to: smooth shading (Gaussian, colour), step edges
    (Sobel, Canny), oriented periodic texture at two frequencies (Gabor), and distinct hues (HSV).
    """
    h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.empty((h, w, 3))
    # background: vertical light gradient, slightly blue
    t = yy / max(h - 1, 1)
    img[..., 0] = 0.55 + 0.25 * t
    img[..., 1] = 0.60 + 0.20 * t
    img[..., 2] = 0.75 + 0.10 * t
    # three textured bands in the lower half: stripes at 0°, 45° and 90°, two wavelengths
    band = yy > 0.55 * h
    for i, (angle, wavelength) in enumerate([(0.0, 8.0), (np.pi / 4, 8.0), (np.pi / 2, 16.0)]):
        region = band & (xx >= i * w / 3) & (xx < (i + 1) * w / 3)
        phase = 2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / wavelength
        stripes = 0.5 + 0.35 * np.sin(phase)
        img[region] = stripes[region, None] * np.array([0.9, 0.8, 0.6])
    # discs and a square in the upper half
    for cy, cx, r, colour in [
        (0.25, 0.18, 0.12, (0.85, 0.15, 0.10)),
        (0.30, 0.45, 0.10, (0.10, 0.65, 0.20)),
        (0.22, 0.70, 0.13, (0.95, 0.80, 0.10)),
    ]:
        disc = (yy - cy * h) ** 2 + (xx - cx * w) ** 2 <= (r * min(h, w)) ** 2
        img[disc] = colour
    sq = (yy > 0.08 * h) & (yy < 0.42 * h) & (xx > 0.84 * w) & (xx < 0.96 * w)
    img[sq] = (0.20, 0.25, 0.80)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def cells(shape: tuple[int, int] = (192, 256), *, seed: int = 1) -> np.ndarray:
    """A grey uint8 picture of bright round cells, many touching in pairs or clusters, on a dark
    uneven background: what instance segmentation by watershed is for."""
    h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = 0.12 + 0.06 * xx / max(w - 1, 1)
    radius = min(h, w) / 14
    centres = []
    for _ in range(400):
        if len(centres) >= 18:
            break
        cy, cx = rng.uniform(radius + 2, h - radius - 2), rng.uniform(radius + 2, w - radius - 2)
        r = radius * rng.uniform(0.8, 1.2)
        # overlap a little with at most a neighbour or two, never swallow one
        if all(np.hypot(cy - y, cx - x) > 0.75 * (r + q) for y, x, q in centres):
            centres.append((cy, cx, r))
    for cy, cx, r in centres:
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        img = np.maximum(img, np.where(d2 <= r * r, 0.65 + 0.25 * (1 - d2 / (r * r)), 0))
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def sample_images() -> dict[str, np.ndarray]:
    """The bundled samples by name: ``scene`` (RGB) and ``cells`` (grey)."""
    return {"scene": scene(), "cells": cells()}
