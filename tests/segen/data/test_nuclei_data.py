"""segen.data.nuclei: the synthetic fluorescence nuclei of issue 12."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from segen.errors import InvalidArgumentError


def test_reproducible_and_prefix_stable():
    a = segen.data.nuclei(3, size=64, seed=4)
    b = segen.data.nuclei(2, size=64, seed=4)
    assert len(a) == 3 and a.labels.dtype == np.int32 and a.labels.shape == (3, 64, 64)
    for i in range(2):
        assert np.array_equal(a.images[i], b.images[i]) and np.array_equal(a.labels[i], b.labels[i])


def test_bit_depths_brightness_range_and_overlaps():
    d = segen.data.nuclei(12, size=128, seed=0)
    assert {im.dtype.name for im in d.images} == {"uint8", "uint16"}
    img, lab = segen.data.nuclei_image(1, (192, 192), dynamic_range=20.0, bit_depth=16, max_overlap=0.0)
    assert img.dtype == np.uint16 and lab.max() >= 20
    ids = np.arange(1, lab.max() + 1)
    # the labels are sequential instances, each a sizeable object
    assert np.array_equal(np.unique(lab[lab > 0]), ids)
    assert np.bincount(lab.ravel())[1:].min() >= 10
    # nucleus brightness spans about the asked range: the bright ones ~10x the dim ones
    mean = np.bincount(lab.ravel(), img.ravel().astype(float))[1:] / np.bincount(lab.ravel())[1:]
    bg = np.median(img[lab == 0])
    signal = np.sort(mean - bg)
    assert signal[-3:].mean() > 5 * max(signal[:3].mean(), 1.0)


def test_bad_parameters():
    with pytest.raises(InvalidArgumentError, match="`bit_depth`"):
        segen.data.nuclei_image(0, bit_depth=12)
    with pytest.raises(InvalidArgumentError, match="`size`"):
        segen.data.nuclei(1, size=8)
    with pytest.raises(InvalidArgumentError, match="`max_overlap`"):
        segen.data.nuclei_image(0, max_overlap=0.9)
