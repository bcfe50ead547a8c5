"""texture_segment on histogram-equalised mosaics of real texture photographs (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from segen.data import texture_mosaics

pytest.importorskip("skimage")
pytest.importorskip("sklearn")

FREQUENCIES = (0.05, 0.1, 0.2, 0.3)
THETAS = tuple(np.arange(4) * np.pi / 4)


def _accuracy(truth, pred):
    """Pixel accuracy after the Hungarian matching of predicted to true labels."""
    from scipy.optimize import linear_sum_assignment

    _, t = np.unique(truth, return_inverse=True)
    _, p = np.unique(pred, return_inverse=True)
    conf = np.zeros((t.max() + 1, p.max() + 1), np.int64)
    np.add.at(conf, (t.ravel(), p.ravel()), 1)
    rows, cols = linear_sum_assignment(-conf)
    return conf[rows, cols].sum() / truth.size


def _plain_recipe(image, k, smoothing=3.0):
    """The plain recipe of benchmarks/texture_quality.py: Gabor magnitudes, Gaussian over `smoothing` wavelengths,
    standardised, scikit-learn k-means. The magnitudes come from segen's gabor_bank without smoothing,
    which equals ``hypot(*skimage.filters.gabor(...))`` (tested in tests/segen/test_features.py) and keeps
    this test fast; the smoothing and the clustering are scikit-image's and scikit-learn's."""
    from skimage.filters import gaussian
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    mags = segen.features.gabor_bank(image.astype(np.float64) / 255, FREQUENCIES, THETAS, smoothing=0)
    feats = [
        gaussian(mags[..., i * len(THETAS) + j].astype(np.float64), sigma=smoothing / f)
        for i, f in enumerate(FREQUENCIES)
        for j in range(len(THETAS))
    ]
    X = StandardScaler().fit_transform(np.stack(feats, -1).reshape(-1, len(feats)))
    return KMeans(k, n_init=4, random_state=0).fit(X).labels_.reshape(image.shape)


@pytest.mark.parametrize(
    ("layout", "k", "bound"), [("voronoi", 4, 0.78), ("blobs", 5, 0.85)], ids=["voronoi", "blobs"]
)
def test_texture_segment_matches_the_strong_recipe(layout, k, bound):
    # two mosaics of seed 7 at 256² (not the benchmark's tuning 0..4 or report 100..109 seeds). Against
    # the recipe smoothed over 3 wavelengths segen is about even at this size (6 mosaics: 0.776 vs 0.782
    # Voronoi, 0.854 vs 0.835 blobs; these two: 0.813 vs 0.840 and 0.903 vs 0.889), ahead at 512² (see
    # benchmarks/results/texture_quality.md): hence a small margin here. Measured: 0.923 and 0.902 (0.813 and
    # 0.903 before the local binary patterns; 0.829 for Voronoi with their threshold fixed at 0.2 of [0, 1]).
    data = texture_mosaics(2, layout=layout, k=k, size=256, seed=7)
    ours, theirs = [], []
    for img, truth in zip(data.images, data.labels):
        ours.append(_accuracy(truth, segen.segmentation.texture_segment(img, k)))
        theirs.append(_accuracy(truth, _plain_recipe(img, k)))
    assert np.mean(ours) >= np.mean(theirs) - 0.04, (ours, theirs)
    assert np.mean(ours) >= bound, ours


def test_texture_segment_beats_the_half_wavelength_recipe():
    # the recipe with gabor_bank's default smoothing (half a wavelength), which texture_segment used to
    # resemble: segen is far ahead (measured 0.829 vs 0.691 on these two Voronoi mosaics)
    data = texture_mosaics(2, layout="voronoi", size=256, seed=7)
    ours = [_accuracy(t, segen.segmentation.texture_segment(i, 4)) for i, t in zip(data.images, data.labels)]
    theirs = [_accuracy(t, _plain_recipe(i, 4, 0.5)) for i, t in zip(data.images, data.labels)]
    assert np.mean(ours) >= np.mean(theirs) + 0.08, (ours, theirs)


def test_texture_segment_is_deterministic_and_shared_with_kmeans_texture():
    img = texture_mosaics(1, layout="voronoi", size=128, seed=3).images[0]
    a = segen.segmentation.texture_segment(img, 4, seed=5)
    b = segen.segmentation.texture_segment(img, 4, seed=5)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int32 and set(np.unique(a)) <= {1, 2, 3, 4}
    seg = segen.get_segmenter("kmeans-texture", k=4, seed=5)
    np.testing.assert_array_equal(seg.segment(img), a)
    # the segmenter's defaults are texture_segment's
    np.testing.assert_array_equal(
        segen.get_segmenter("kmeans-texture", k=4).segment(img), segen.segmentation.texture_segment(img, 4)
    )


def test_texture_segment_does_not_depend_on_the_thread_count():
    img = texture_mosaics(1, layout="blobs", size=128, seed=4).images[0]
    before = segen.get_num_threads()
    try:
        segen.set_num_threads(1)
        one = segen.segmentation.texture_segment(img, 5)
        segen.set_num_threads(2)
        two = segen.segmentation.texture_segment(img, 5)
    finally:
        segen.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


def test_texture_segment_options():
    img = texture_mosaics(1, layout="voronoi", size=96, seed=1).images[0]
    # no vote, no position: still k labels 1..k
    lab = segen.segmentation.texture_segment(img, 3, majority_sigma=0, position_weight=0, n_init=1)
    assert set(np.unique(lab)) == {1, 2, 3}
    assert (segen.segmentation.texture_segment(img, 1) == 1).all()
    for kwargs, name in [
        ({"smoothing": 0}, "smoothing"),
        ({"majority_sigma": -1}, "majority_sigma"),
        ({"majority_sigma": 1e300}, "majority_sigma"),
        ({"n_init": 0}, "n_init"),
        ({"position_weight": -1}, "position_weight"),
        ({"lbp_weight": -1}, "lbp_weight"),
        ({"lbp_weight": np.nan}, "lbp_weight"),
    ]:
        with pytest.raises(ValueError, match=name):
            segen.segmentation.texture_segment(img, 3, **kwargs)


def test_texture_segment_lbp_weight():
    img = texture_mosaics(1, layout="voronoi", size=96, seed=1).images[0]
    plain = segen.segmentation.texture_segment(img, 3, lbp_weight=0)
    assert set(np.unique(plain)) == {1, 2, 3}
    assert not np.array_equal(plain, segen.segmentation.texture_segment(img, 3))
    # RGB goes through the luminance, for the patterns as for the Gabor energies (equal up to its rounding)
    rgb = np.repeat(img[..., None], 3, axis=-1)
    same = segen.segmentation.texture_segment(rgb, 3) == segen.segmentation.texture_segment(img, 3)
    assert same.mean() > 0.99


def test_texture_segment_does_not_depend_on_contrast_or_brightness():
    # Every feature is relative to the image's own spread (the patterns' threshold too), so a darker,
    # flatter copy of a mosaic (the "change of contrast or brightness") gives the same regions up
    # to rounding. With the threshold fixed at 0.2 of [0, 1] instead, this copy of the report mosaics lost
    # 0.03 of accuracy (benchmarks/texture_quality.py, Voronoi 0.952 -> 0.925) and this test measured 0.982.
    data = texture_mosaics(1, layout="voronoi", k=4, size=256, seed=11)
    img = data.images[0].astype(np.float32) / 255
    a = segen.segmentation.texture_segment(img, 4)
    b = segen.segmentation.texture_segment(img * np.float32(0.4) + np.float32(0.3), 4)
    assert _accuracy(a, b) > 0.99


def test_lbp_histograms_of_the_core_codes():
    # the codes come from segen.features.local_binary_pattern (tests/segen/test_lbp.py checks them bit for
    # bit against the numpy version texture_segment used before, and against scikit-image)
    from segen.segmentation import _texture

    img = texture_mosaics(1, layout="voronoi", k=4, size=64, seed=11).images[0]
    grey = img.astype(np.float32) / 255
    hist = _texture._lbp_histograms(grey)
    assert hist.shape == (64 * 64, 20)
    np.testing.assert_allclose(hist[:, :10].sum(1), 1, rtol=1e-5)  # one code per pixel, normalised window
    spread = float(np.sqrt(12.0) * grey.std(dtype=np.float64))
    codes = segen.features.local_binary_pattern(grey, threshold=0.2 * spread)
    assert codes.dtype == np.uint8 and codes.max() <= 9


def test_texture_mosaics_layouts():
    for layout, k in (("voronoi", 4), ("blobs", 5), ("islands", 5)):
        a = texture_mosaics(2, layout=layout, size=64, seed=2)
        b = texture_mosaics(2, layout=layout, size=64, seed=2)
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.images.dtype == np.uint8 and a.labels.dtype == np.int32
        for lab in a.labels:
            assert np.unique(lab).size == k
    turned = texture_mosaics(1, size=64, seed=2, turn=True)
    assert not np.array_equal(turned.images, texture_mosaics(1, size=64, seed=2).images)
    for kwargs, name in [
        ({"layout": "stripes"}, "layout"),
        ({"k": 9}, "k"),
        ({"sites": (0, 2)}, "sites"),
        ({"textures": ("brick",)}, "textures"),
        ({"size": 4096}, "size"),
        ({"turn": "yes"}, "turn"),
    ]:
        with pytest.raises((ValueError, TypeError), match=name):
            texture_mosaics(1, **kwargs)
