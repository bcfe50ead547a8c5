"""The registry: names, aliases, suggestions, option checking, and every built-in segmenter on real photos
and random arrays."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from helpers import BUILTINS
from segen.errors import DTypeError, InvalidArgumentError, PluginError, UnknownModelError
from segen.plugins import Registry


def _seg():
    return segen.FunctionSegmenter(lambda img: img > 0, name="x")


def test_builtins_are_listed_with_summaries():
    listed = segen.list_segmenters()
    assert set(BUILTINS) <= set(listed)
    assert all(listed[n] and "\n" not in listed[n] for n in BUILTINS)
    assert isinstance(segen.list_generators(), dict)


@pytest.mark.parametrize("name", ["kmeans", "builtin:kmeans", "kmeans-color"])
def test_names_aliases_and_qualified_names(name):
    assert segen.get_segmenter(name).info.name == "kmeans"


def test_unknown_names_suggest_close_ones():
    with pytest.raises(UnknownModelError, match="did you mean 'kmeans'") as info:
        segen.get_segmenter("kmeens")
    assert isinstance(info.value, KeyError) and not str(info.value).startswith('"')
    with pytest.raises(UnknownModelError, match="unknown generator 'nothing-like-it'.*segen list"):
        segen.get_generator("nothing-like-it")
    with pytest.raises(InvalidArgumentError, match="name"):
        segen.get_segmenter(3)


@pytest.mark.parametrize(
    "error, match, name, options",
    [
        (InvalidArgumentError, "has no option `kk`; its options are `k`", "kmeans", {"kk": 3}),
        (InvalidArgumentError, "`k` must be >= 1", "kmeans", {"k": 0}),
        (DTypeError, "`k` must be an int", "kmeans", {"k": 2.5}),
        (InvalidArgumentError, "color_space", "kmeans", {"color_space": "hsv"}),
        (InvalidArgumentError, "level", "threshold", {"level": 2}),
        (InvalidArgumentError, "classes", "multiotsu", {"classes": 5}),
        (DTypeError, "bright", "otsu", {"bright": "yes"}),
    ],
)
def test_options_are_checked(error, match, name, options):
    with pytest.raises(error, match=match):
        segen.get_segmenter(name, **options)


@pytest.mark.parametrize("name, kind", [("", "name"), ("Big", "name"), ("a b", "name")])
def test_register_validates_names(name, kind):
    with pytest.raises(PluginError, match=kind):
        Registry().add("segmenter", "p", name, _seg)


def test_register_validates_factory_aliases_summary():
    reg = Registry()
    with pytest.raises(PluginError, match="callable"):
        reg.add("segmenter", "p", "ok", 3)
    with pytest.raises(PluginError, match="alias"):
        reg.add("segmenter", "p", "ok", _seg, aliases=("Bad Alias",))
    with pytest.raises(PluginError, match="summary"):
        reg.add("segmenter", "p", "ok", _seg, summary=3)
    entry = reg.add("segmenter", "p", "ok", _seg, aliases="okay")
    assert entry.aliases == ("okay",) and reg.resolve("segmenter", "okay") is entry
    assert entry.summary == ""  # a lambda has no docstring


def test_factory_must_return_a_segmenter():
    reg = Registry()
    reg.add("segmenter", "p", "bad", lambda: object())
    with pytest.raises(PluginError, match="no segment"):
        reg.create("segmenter", "bad", {})
    reg.add("generator", "p", "bad", lambda: object())
    with pytest.raises(PluginError, match="no generate"):
        reg.create("generator", "bad", {})


def test_segmenter_checks_the_plugin_result():
    class Wrong(segen.Segmenter):
        def _segment(self, image):
            return np.zeros((2, 2), np.float32)

    with pytest.raises(PluginError, match="shape"):
        Wrong().segment(np.zeros((3, 3)))
    with pytest.raises(PluginError, match="float32"):
        Wrong().segment(np.zeros((2, 2)))


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros((0, 4)), InvalidArgumentError, "non-empty"),
        (np.zeros((2, 3, 4, 5)), InvalidArgumentError, "2-D"),
        (np.zeros((4, 4), complex), DTypeError, "dtype"),
    ],
)
def test_segment_validates_the_image(bad, exc, match):
    with pytest.raises(exc, match=match):
        segen.get_segmenter("threshold").segment(bad)


def _photo(astronaut):
    return np.ascontiguousarray(astronaut[::4, ::4])  # 128 x 128 RGB


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_on_a_photo_and_random_arrays(name, astronaut, rng):
    seg = segen.get_segmenter(name)
    for img in (
        _photo(astronaut),
        rng.random((40, 50)).astype(np.float32),
        (rng.random((40, 50, 3)) * 65535).astype(np.uint16),
    ):
        labels = seg.segment(img)
        assert labels.shape == img.shape[:2] and labels.dtype == np.int32
        assert labels.min() >= 0 and labels.max() >= 1
    assert seg.info.task == "segmentation" and seg.info.name == name


def test_builtins_agree_with_their_recipes(astronaut):
    img = _photo(astronaut)
    np.testing.assert_array_equal(
        segen.get_segmenter("kmeans", k=3).segment(img), segen.segmentation.kmeans_segment(img, 3)
    )
    np.testing.assert_array_equal(
        segen.get_segmenter("otsu").segment(img), segen.segmentation.foreground_otsu(img).astype(np.int32)
    )
    np.testing.assert_array_equal(
        segen.get_segmenter("kmeans-texture", k=2).segment(img), segen.segmentation.texture_segment(img, 2)
    )
    grey = segen.color.rgb2gray(img)
    t1, t2 = segen.segmentation.threshold_multiotsu(grey)
    expected = 1 + (grey > t1).astype(np.int32) + (grey > t2)
    np.testing.assert_array_equal(segen.get_segmenter("multiotsu").segment(img), expected)
    np.testing.assert_array_equal(
        segen.get_segmenter("threshold", level=0.25).segment(grey), (grey > 0.25).astype(np.int32)
    )


def test_watershed_separates_the_sample_cells():
    seg = segen.get_segmenter("watershed")
    cells = seg.sample_input()
    labels = seg.segment(cells)
    # one label per cell: more labels than connected bright blobs, since touching cells are split
    n_blobs = int(segen.segmentation.label(cells > 128).max())
    assert labels.max() >= n_blobs and labels.max() == 18
    assert len(np.unique(labels)) == labels.max() + 1


def test_kmeans_k_is_the_number_of_labels(coffee):
    img = np.ascontiguousarray(coffee[::4, ::4])
    for k in (2, 5):
        assert len(np.unique(segen.get_segmenter("kmeans", k=k).segment(img))) == k


def test_results_do_not_depend_on_threads(astronaut):
    from helpers import num_threads

    img = _photo(astronaut)
    out = {}
    for n in (1, 2):
        with num_threads(n):
            out[n] = [
                segen.get_segmenter(name).segment(img) for name in ("kmeans", "watershed", "kmeans-texture")
            ]
    for a, b in zip(out[1], out[2]):
        np.testing.assert_array_equal(a, b)
