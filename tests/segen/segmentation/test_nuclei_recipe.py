"""segment_touching_objects on uneven brightness (issue 12): a synthetic fluorescence-like image — nuclei
whose brightness spans a 10x range, touching ones, blur, an uneven background, shot and read noise — scored
with segen.metrics against its known instances. Otsu's global threshold loses or shrinks the dim nuclei;
threshold='local' keeps them.

Measured here (3 seeds, 256 x 256, segen.data.nuclei_image with radius 8 and a 10x range, textbook Gaussian
sigma 1 first, min_distance 7): AP@0.5 Otsu 0.317 / 0.433 / 0.479 (mean 0.41), local 0.842 / 0.893 / 0.866
(mean 0.87); DSB mean AP (0.50:0.95) 0.25 vs 0.47 (means). No real image is used (none bundled by other
packages may be)."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from scipy import ndimage as ndi
from segen.errors import DTypeError, InvalidArgumentError

seg = segen.segmentation


def nuclei_image(seed, shape=(256, 256), n=None):
    """A fluorescence-like image and its true instances from :func:`segen.data.nuclei_image` (the generator
    this test first held, promoted and extended), with touching but not overlapping nuclei of radius about
    8 px (+-30 %), brightness over a 10x range, 16-bit; scaled to [0, 1] by its maximum."""
    img, truth = segen.data.nuclei_image(
        seed, shape, n=n, radius=8.0, dynamic_range=10.0, max_overlap=0.0, bit_depth=16
    )
    return (img / img.max()).astype(np.float32), truth


@pytest.fixture(scope="module")
def scored():
    """AP@0.5 and the DSB score of the textbook recipe (Gaussian sigma 1, Otsu, peaks 7 px apart) and of
    the same recipe with threshold='local', on three images."""
    out = {"otsu": [], "local": [], "otsu_dsb": [], "local_dsb": [], "dim_found": {"otsu": 0, "local": 0}}
    for seed in range(3):
        img, truth = nuclei_image(seed)
        smooth = segen.filters.gaussian(img, 1.0)
        for kind, threshold in (("otsu", None), ("local", "local")):
            labels = seg.segment_touching_objects(smooth, min_distance=7, max_size=20, threshold=threshold)
            out[kind].append(segen.metrics.instance_scores(labels, truth)["ap"])
            out[kind + "_dsb"].append(segen.metrics.average_precision(labels, truth)["mean_ap"])
            # the dim third of the nuclei: how many are matched at IoU > 0.5
            _, matched, _ = segen.metrics.match_instances(labels, truth)
            brightness = ndi.mean(img, truth, np.arange(1, truth.max() + 1))
            dim = np.flatnonzero(brightness < np.quantile(brightness, 1 / 3)) + 1
            out["dim_found"][kind] += int(np.isin(dim, matched).sum())
    return out


def test_local_threshold_beats_otsu_on_uneven_brightness(scored):
    otsu, local = np.mean(scored["otsu"]), np.mean(scored["local"])
    # Otsu sits where the issue measured it on real nuclei (AP@0.5 0.555); the local threshold is far above
    assert 0.3 < otsu < 0.65
    assert local > 0.8 and local > otsu + 0.25
    assert min(scored["local"]) > max(scored["otsu"])
    assert np.mean(scored["local_dsb"]) > np.mean(scored["otsu_dsb"]) + 0.15
    # what makes the difference: the dim nuclei
    assert scored["dim_found"]["local"] > 2 * scored["dim_found"]["otsu"]


def test_local_threshold_options():
    img, truth = nuclei_image(5, shape=(128, 128), n=15)
    smooth = segen.filters.gaussian(img, 1.0)
    kw = dict(min_distance=7, max_size=20)
    default = seg.segment_touching_objects(smooth, threshold="local", **kw)
    same = seg.segment_touching_objects(smooth, threshold="local", block_size=57, **kw)
    assert np.array_equal(default, same)  # 8 * min_distance + 1
    # dark objects on a bright background: the same objects, negated
    dark = seg.segment_touching_objects(-smooth, threshold="local", bright=False, **kw)
    assert np.array_equal(dark, default)
    # a larger offset (a lower threshold) grows the objects
    grown = seg.segment_touching_objects(smooth, threshold="local", offset=-0.005, **kw)
    assert (grown > 0).sum() > (default > 0).sum()
    # 'otsu' is the default; a number is a fixed level
    assert np.array_equal(
        seg.segment_touching_objects(smooth, threshold="otsu", **kw),
        seg.segment_touching_objects(smooth, **kw),
    )
    assert seg.segment_touching_objects(smooth, threshold=10.0, **kw).max() == 0


def test_local_threshold_bad_parameters():
    img = np.random.default_rng(0).random((32, 32))
    with pytest.raises(InvalidArgumentError, match="`threshold`"):
        seg.segment_touching_objects(img, threshold="adaptive")
    with pytest.raises(InvalidArgumentError, match="`block_size` is only used"):
        seg.segment_touching_objects(img, block_size=31)
    with pytest.raises(InvalidArgumentError, match="`offset` is only used"):
        seg.segment_touching_objects(img, threshold=0.5, offset=0.1)
    with pytest.raises(InvalidArgumentError, match="`block_size` must be odd"):
        seg.segment_touching_objects(img, threshold="local", block_size=30)
    with pytest.raises(InvalidArgumentError, match="`offset`"):
        seg.segment_touching_objects(img, threshold="local", offset=float("inf"))
    with pytest.raises(DTypeError, match="`offset`"):
        seg.segment_touching_objects(img, threshold="local", offset="0.1")


def test_the_watershed_segmenter_takes_the_local_threshold():
    img, truth = nuclei_image(1, shape=(128, 128), n=15)
    smooth = segen.filters.gaussian(img, 1.0)
    got = segen.get_segmenter("watershed", threshold="local", max_size=20).segment(smooth)
    want = seg.segment_touching_objects(smooth, min_distance=7, max_size=20, threshold="local")
    assert np.array_equal(got, want)
    with pytest.raises(InvalidArgumentError, match="`threshold`"):
        segen.get_segmenter("watershed", threshold="adaptive")
