"""segen.plugins.builtin: what the built-in plugin registers (names, aliases, trainers), what each factory
describes and checks, and that each runs its recipe with its options.

Listing, the kmeans alias, most option errors, every built-in on photos and the default options' agreement
with the recipes are in test_registry.py."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from helpers import BUILTINS
from segen.errors import DTypeError, InvalidArgumentError
from segen.plugins import builtin
from segen.segmentation import (
    foreground_kmeans,
    foreground_otsu,
    kmeans_segment,
    segment_touching_objects,
    texture_segment,
    threshold_multiotsu,
)

FACTORIES = {
    "kmeans": (builtin.kmeans, ("kmeans-color",)),
    "kmeans-texture": (builtin.kmeans_texture, ("texture", "gabor-kmeans")),
    "otsu": (builtin.otsu, ("foreground-otsu",)),
    "multiotsu": (builtin.multiotsu, ()),
    "threshold": (builtin.threshold, ()),
    "watershed": (builtin.watershed, ("instances",)),
    "foreground-kmeans": (builtin.foreground_kmeans, ()),
}


def _recorded(hook):
    calls = []
    hook(lambda name, fn, **kw: calls.append((name, fn, kw)))
    return calls


def test_register_segmenters_registers_each_factory_with_its_aliases():
    calls = _recorded(builtin.register_segmenters)
    assert sorted(name for name, _, _ in calls) == sorted(BUILTINS)
    for name, fn, kw in calls:
        factory, aliases = FACTORIES[name]
        assert fn is factory and tuple(kw.get("aliases", ())) == aliases


def test_register_trainers_registers_the_judge_behind_the_train_extra():
    ((name, fn, kw),) = _recorded(builtin.register_trainers)
    assert name == "judge" and callable(fn)
    assert kw["extra"] == "train" and "digit" in kw["summary"]


@pytest.mark.parametrize("alias, name", [(a, n) for n, (_, aliases) in FACTORIES.items() for a in aliases])
def test_aliases_and_qualified_names_reach_the_factory(alias, name):
    assert segen.get_segmenter(alias).info.name == name
    assert segen.get_segmenter(f"builtin:{name}").info.name == name


@pytest.mark.parametrize(
    "name, options, classes",
    [
        ("kmeans", {"k": 4, "color_space": "lab", "position_weight": 0.0, "seed": 0}, ()),
        ("kmeans-texture", {"k": 3, "position_weight": 1.0, "seed": 0}, ()),
        ("otsu", {"bright": True}, ("background", "foreground")),
        ("multiotsu", {"classes": 3}, ()),
        ("threshold", {"level": 0.5}, ("background", "foreground")),
        (
            "watershed",
            {"min_distance": 7, "max_size": 30, "bright": True, "smooth": 0.0, "threshold": "otsu"},
            (),
        ),
        ("foreground-kmeans", {"color_space": "lab", "seed": 0}, ("background", "foreground")),
    ],
)
def test_factories_describe_themselves(name, options, classes):
    factory = FACTORIES[name][0]
    info = factory().info
    assert info.name == name and info.task == "segmentation"
    assert info.summary == factory.__doc__.splitlines()[0] == segen.list_segmenters()[name]
    assert info.options == options and info.classes == classes


def test_options_are_normalised_when_the_factory_is_called():
    info = builtin.kmeans(k=np.int64(2), position_weight=1).info
    assert info.options["k"] == 2 and type(info.options["k"]) is int
    assert info.options["position_weight"] == 1.0 and type(info.options["position_weight"]) is float
    assert builtin.otsu(bright=np.bool_(False)).info.options == {"bright": False}
    assert type(builtin.threshold(level=1).info.options["level"]) is float


@pytest.mark.parametrize(
    "factory, options, exc, match",
    [
        (builtin.kmeans, {"position_weight": -1}, InvalidArgumentError, "`position_weight` must be >= 0"),
        (builtin.kmeans, {"position_weight": True}, DTypeError, "`position_weight` must be a real number"),
        (builtin.kmeans, {"k": True}, DTypeError, "`k` must be an int"),
        (builtin.kmeans_texture, {"k": 0}, InvalidArgumentError, "`k` must be >= 1"),
        (builtin.kmeans_texture, {"position_weight": -0.1}, InvalidArgumentError, "`position_weight`"),
        (builtin.otsu, {"bright": 1}, DTypeError, "`bright` must be a bool; got int"),
        (builtin.multiotsu, {"classes": 1}, InvalidArgumentError, "`classes` must be >= 2"),
        (builtin.multiotsu, {"classes": 4}, InvalidArgumentError, "`classes` must be 2 or 3; got 4"),
        (builtin.threshold, {"level": -0.1}, InvalidArgumentError, r"`level` must be in \[0, 1\]"),
        (builtin.threshold, {"level": "0.5"}, DTypeError, "`level` must be a real number"),
        (builtin.watershed, {"min_distance": 0}, InvalidArgumentError, "`min_distance` must be >= 1"),
        (builtin.watershed, {"max_size": -1}, InvalidArgumentError, "`max_size` must be >= 0"),
        (builtin.watershed, {"bright": "yes"}, DTypeError, "`bright` must be a bool"),
        (builtin.watershed, {"smooth": -1.0}, InvalidArgumentError, "`smooth` must be >= 0"),
        (builtin.watershed, {"threshold": "mean"}, InvalidArgumentError, "`threshold` must be one of"),
        (
            builtin.foreground_kmeans,
            {"color_space": "hsv"},
            InvalidArgumentError,
            "`color_space` must be one of",
        ),
    ],
)
def test_factories_check_their_options(factory, options, exc, match):
    with pytest.raises(exc, match=match):
        factory(**options)


@pytest.mark.parametrize("factory", ["kmeans", "kmeans_texture", "foreground_kmeans"])
def test_seed_is_checked_when_the_factory_is_called(factory):
    with pytest.raises(DTypeError, match="seed"):
        getattr(builtin, factory)(seed="a")
    with pytest.raises(InvalidArgumentError, match="`seed` must be >= 0"):
        getattr(builtin, factory)(seed=-1)


# ---- each factory runs its recipe with its options ---------------------------------------------------------


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[::6, ::6])  # 86 x 86 RGB


def test_kmeans_with_position_and_rgb(photo):
    got = segen.get_segmenter("kmeans", k=3, color_space="rgb", position_weight=0.5, seed=2).segment(photo)
    want = kmeans_segment(
        photo, 3, features=("color", "position"), color_space="rgb", position_weight=0.5, seed=2
    )
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, kmeans_segment(photo, 3, color_space="rgb", seed=2))  # position mattered


def test_kmeans_texture_options(photo):
    got = segen.get_segmenter("kmeans-texture", k=2, position_weight=0.0, seed=1).segment(photo)
    np.testing.assert_array_equal(got, texture_segment(photo, 2, position_weight=0.0, seed=1))


def test_otsu_dark_foreground(photo):
    bright = segen.get_segmenter("otsu").segment(photo)
    dark = segen.get_segmenter("otsu", bright=False).segment(photo)
    np.testing.assert_array_equal(dark, foreground_otsu(photo, bright=False).astype(np.int32))
    assert (
        set(np.unique(dark)) == {0, 1} and (bright + dark == 1).mean() > 0.95
    )  # (ties at the threshold aside)


def test_multiotsu_two_classes(photo):
    grey = segen.color.rgb2gray(photo)
    (t,) = threshold_multiotsu(grey, classes=2)
    np.testing.assert_array_equal(segen.get_segmenter("multiotsu", classes=2).segment(photo), 1 + (grey > t))


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)])
def test_threshold_is_a_fraction_of_the_dtype_range(dtype, top):
    values = np.array([[0, 0.3, 0.59, 0.61, 1.0]]) * top
    img = values.astype(dtype)
    got = segen.get_segmenter("threshold", level=0.6).segment(img)
    np.testing.assert_array_equal(got, [[0, 0, 0, 1, 1]])
    assert got.dtype == np.int32


def test_grey_methods_drop_alpha(photo):
    rgba = np.concatenate([photo, np.zeros(photo.shape[:2] + (1,), np.uint8)], axis=2)
    for name in ("otsu", "threshold", "multiotsu"):
        seg = segen.get_segmenter(name)
        np.testing.assert_array_equal(seg.segment(rgba), seg.segment(photo))


def test_watershed_options_reach_the_recipe():
    seg = segen.get_segmenter("watershed", min_distance=5, max_size=10, smooth=1.0)
    cells = seg.sample_input()
    from segen._shared.samples import cells as sample_cells

    np.testing.assert_array_equal(cells, sample_cells())
    want = segment_touching_objects(cells, min_distance=5, max_size=10, bright=True, smooth=1.0)
    np.testing.assert_array_equal(seg.segment(cells), want)
    dark = segen.get_segmenter("watershed", bright=False).segment(255 - cells)
    np.testing.assert_array_equal(dark, segen.get_segmenter("watershed").segment(cells))


def test_foreground_kmeans_options(photo):
    got = segen.get_segmenter("foreground-kmeans", color_space="rgb", seed=3).segment(photo)
    np.testing.assert_array_equal(got, foreground_kmeans(photo, color_space="rgb", seed=3).astype(np.int32))
    assert set(np.unique(got)) <= {0, 1}


def test_only_watershed_has_its_own_sample():
    for name in BUILTINS:
        sample = segen.get_segmenter(name).sample_input()
        assert (sample is not None) == (name == "watershed")


@pytest.mark.parametrize("name", BUILTINS)
def test_builtins_pickle_as_their_name_and_options(name, photo):
    # RELIABILITY P21: the built-in segmenters wrap functions local to their factories; they pickle as the
    # registered name and options, and the copy (made by the receiving process's registry) agrees
    import pickle

    options = {"k": 3, "seed": 5} if name in ("kmeans", "kmeans-texture") else {}
    seg = segen.get_segmenter(name, **options)
    copy = pickle.loads(pickle.dumps(seg))
    assert copy is not seg and copy.info == seg.info
    small = photo[::4, ::4]
    np.testing.assert_array_equal(copy.segment(small), seg.segment(small))


def test_a_function_segmenter_made_directly_pickles_only_with_its_function():
    import pickle

    from segen.models import FunctionSegmenter

    def local(image):
        return image > 0

    with pytest.raises((pickle.PicklingError, AttributeError), match="local"):
        pickle.dumps(FunctionSegmenter(local, name="mine"))
    assert pickle.loads(pickle.dumps(FunctionSegmenter(np.isfinite, name="finite"))).info.name == "finite"
