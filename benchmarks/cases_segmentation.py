"""Benchmark cases for segen.segmentation (watershed, labelling, distance transform).

* watershed: scikit-image's coins scaled 4x (1212x1536, bilinear), relief = Sobel magnitude as uint8,
  markers = 1 below grey 30 and 2 above 150 (the classic coins example). cv2.watershed floods an 8-bit BGR
  image (its own colour-difference relief) from the same markers; it writes into its markers, so it gets
  a fresh copy each call (the copy, ~1 ms, is in its time). Targets: 3x faster than scikit-image, within
  1.5x of OpenCV.
* float watershed (the common case), eight cases: the same coins x4 as float32 and float64, with and without
  a mask (the coins' foreground, grown by 16 pixels so that the background marker still meets the coins:
  54% of the pixels), on two reliefs: the Sobel magnitude with the 2 labels above, and the Sobel magnitude
  of the coins smoothed (Gaussian, sigma 2) with one marker at each of its 410 spaced local minima
  (peak_local_max of the negated relief, min_distance 30; 194 of them inside the mask). The smoothed relief
  has distinct values almost everywhere (no plateaus; its 410 markers all differ in value, so no tie between
  markers), the harder case for a flood that pops one value at a time. A ninth case: the negated distance
  map of the thresholded coins with one marker per peak (peak_local_max, min_distance 20: 89 markers) as
  float64 with the foreground as mask. scikit-image floods the same float relief; OpenCV's watershed has no
  float relief and no mask, so its 8-bit watershed on the same image from the same markers is the
  yardstick. Targets: at most 0.15x scikit-image, at most 2x OpenCV.
* distance transform: a 2048x2048 mask (thresholded smoothed noise); OpenCV's DIST_L2 with
  DIST_MASK_PRECISE (exact) and scipy.ndimage. Target: no slower than OpenCV.
* label: the same mask, 8-connectivity; cv2.connectedComponents (CV_32S labels) and scipy.ndimage.label.
  Target: within 1.5x of OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.ndimage as ndi
import segen
from _harness import Case
from skimage import filters, segmentation


def _coins4():
    from skimage import data

    coins = data.coins()
    big = cv2.resize(coins, (coins.shape[1] * 4, coins.shape[0] * 4), interpolation=cv2.INTER_LINEAR)
    sob = filters.sobel(big)
    relief = (sob / sob.max() * 255).astype(np.uint8)
    markers = np.zeros(big.shape, np.int32)
    markers[big < 30] = 1
    markers[big > 150] = 2
    return relief, markers, cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)


def _coins4_float(dtype, relief, masked):
    from skimage import feature

    relief_u8, markers, bgr = _coins4()
    big = bgr[..., 0]
    smooth = filters.gaussian(big, 2)
    fg = ndi.binary_opening(smooth > filters.threshold_otsu(smooth), iterations=2)
    if relief == "distance":
        dist = ndi.distance_transform_edt(fg)
        pk = feature.peak_local_max(dist, min_distance=20, labels=ndi.label(fg)[0])
        mk = np.zeros(big.shape, np.int32)
        mk[tuple(pk.T)] = np.arange(1, len(pk) + 1)
        return (-dist).astype(dtype), mk, fg if masked else None, bgr
    mask = ndi.binary_dilation(fg, iterations=16) if masked else None
    if relief == "sobel":
        return filters.sobel(big).astype(dtype), markers, mask, bgr
    sob = filters.sobel(smooth)
    pk = feature.peak_local_max(-sob, min_distance=30)
    mk = np.zeros(big.shape, np.int32)
    mk[tuple(pk.T)] = np.arange(1, len(pk) + 1)
    return sob.astype(dtype), mk, mask, bgr


def _float_case(name, dtype, relief, masked):
    return Case(
        name=name,
        args=lambda: _coins4_float(dtype, relief, masked),
        segen=lambda r, m, mask, bgr: segen.segmentation.watershed(r, m, mask=mask),
        peers={
            "opencv": lambda r, m, mask, bgr: cv2.watershed(bgr, m.copy()),
            "skimage": lambda r, m, mask, bgr: segmentation.watershed(r, m, mask=mask),
        },
        targets={"opencv": 2.0, "skimage": 0.15},
        repeat=5,
    )


def _float_cases():
    cases = []
    for dtype in (np.float32, np.float64):
        for relief, markers in (("sobel", "Sobel, 2 labels"), ("minima", "smoothed Sobel, 410 minima")):
            for masked in (False, True):
                name = f"watershed coins x4 {np.dtype(dtype).name} {markers}" + (", mask" if masked else "")
                cases.append(_float_case(name, dtype, relief, masked))
    cases.append(
        _float_case("watershed coins x4 float64 -distance, 89 peaks, mask", np.float64, "distance", True)
    )
    return cases


def _mask():
    rng = np.random.default_rng(0)
    mask = ndi.gaussian_filter(rng.random((2048, 2048), dtype=np.float32), 4) > 0.5
    return mask, mask.view(np.uint8)


def cases():
    return [
        Case(
            name="watershed coins x4 (1212x1536)",
            args=_coins4,
            segen=lambda r, m, bgr: segen.segmentation.watershed(r, m),
            peers={
                "opencv": lambda r, m, bgr: cv2.watershed(bgr, m.copy()),
                "skimage": lambda r, m, bgr: segmentation.watershed(r, m),
            },
            targets={"opencv": 1.5, "skimage": 1 / 3},
            repeat=5,
        ),
        *_float_cases(),
        Case(
            name="distance_transform_edt 2048x2048",
            args=_mask,
            segen=lambda m, m8: segen.segmentation.distance_transform_edt(m),
            peers={
                "opencv": lambda m, m8: cv2.distanceTransform(m8, cv2.DIST_L2, cv2.DIST_MASK_PRECISE),
                "scipy": lambda m, m8: ndi.distance_transform_edt(m),
            },
            targets={"opencv": 1.0},
        ),
        Case(
            name="label 2048x2048 (8-conn)",
            args=_mask,
            segen=lambda m, m8: segen.segmentation.label(m, connectivity=2),
            peers={
                "opencv": lambda m, m8: cv2.connectedComponents(m8, None, 8, cv2.CV_32S),
                "scipy": lambda m, m8: ndi.label(m, structure=np.ones((3, 3), bool)),
            },
            targets={"opencv": 1.5},
        ),
    ]
