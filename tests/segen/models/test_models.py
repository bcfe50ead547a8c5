"""segen.models: the Segmenter and Generator bases (argument and result checks, seeds, latents,
interpolation), FunctionSegmenter and ModelInfo, on small hand-written subclasses (no ONNX).

The shipped generators' interpolation is tested in tests/plugins/segen_gan; the registry's use of the bases
in tests/segen/plugins/test_registry.py."""

from __future__ import annotations

import numpy as np
import pytest
from segen.errors import DTypeError, InvalidArgumentError, PluginError
from segen.models import FunctionSegmenter, Generator, ModelInfo, Segmenter
from segen.models.generator import MAX_GENERATE

# ---- Segmenter ---------------------------------------------------------------------------------------------


class Recording(Segmenter):
    """Labels = 1 + the first channel > 0.5; remembers the array it was given."""

    info = ModelInfo(name="recording", task="segmentation")

    def __init__(self, result=None):
        self.seen = None
        self.result = result

    def _segment(self, image):
        self.seen = image
        if self.result is not None:
            return self.result
        first = image if image.ndim == 2 else image[..., 0]
        return (first > 0.5).astype(np.int64) + 1


def test_segment_returns_int32_and_gives_the_subclass_a_checked_image():
    seg = Recording()
    img = np.zeros((4, 6, 3), np.float64)
    img[1, 2, 0] = 1
    labels = seg.segment(img)
    assert labels.dtype == np.int32 and labels.shape == (4, 6)
    assert labels.sum() == 4 * 6 + 1 and labels[1, 2] == 2
    assert seg.seen is img  # a contiguous core-dtype image is not copied


def test_segment_channel_axis_and_views():
    seg = Recording()
    chw = np.zeros((3, 4, 5), np.uint8)
    chw[0, 3, 4] = 255
    labels = seg.segment(chw, channel_axis=0)
    assert labels.shape == (4, 5) and labels[3, 4] == 2 and labels.sum() == 21
    assert seg.seen.shape == (4, 5, 3) and seg.seen.flags.c_contiguous
    view = np.zeros((8, 10), np.float32)[::2, ::2]
    assert seg.segment(view).shape == (4, 5) and seg.seen.flags.c_contiguous
    ints = np.ones((2, 2), np.int32)  # converted by the dtype policy (int32 -> float64)
    seg.segment(ints)
    assert seg.seen.dtype == np.float64
    seg.segment(np.zeros((2, 2), bool))
    assert seg.seen.dtype == np.float32


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros((3, 3, 3)), InvalidArgumentError, "`channel_axis` is None"),
        (np.zeros(4), InvalidArgumentError, "`image` must be 2-D"),
        (np.array([["a"]]), DTypeError, "`image`"),
    ],
)
def test_segment_validates_the_image_before_the_subclass_runs(bad, exc, match):
    seg = Recording()
    with pytest.raises(exc, match=match):
        seg.segment(bad, channel_axis=None)
    assert seg.seen is None


@pytest.mark.parametrize(
    "result, labels",
    [
        (np.array([[True, False]]), [[1, 0]]),
        (np.array([[3, 0]], np.uint16), [[3, 0]]),
        (np.array([[7, 1]], np.int64), [[7, 1]]),
        ([[2, 2]], [[2, 2]]),  # a list is fine
    ],
)
def test_segment_casts_integer_and_bool_results(result, labels):
    out = Recording(result).segment(np.zeros((1, 2)))
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, labels)


def test_segment_refuses_bad_results_naming_the_segmenter():
    with pytest.raises(PluginError, match=r"segmenter 'recording' returned labels of shape \(2, 2\)"):
        Recording(np.zeros((2, 2), np.int32)).segment(np.zeros((3, 3)))
    with pytest.raises(PluginError, match="segmenter 'recording' returned float64 labels; integers expected"):
        Recording(np.zeros((3, 3))).segment(np.zeros((3, 3)))


def test_segmenter_defaults():
    seg = Recording()
    assert seg.sample_input() is None and repr(seg) == "<Recording 'recording'>"
    with pytest.raises(TypeError):
        Segmenter()  # abstract


# ---- FunctionSegmenter -------------------------------------------------------------------------------------


def test_function_segmenter_passes_its_options_and_describes_itself():
    calls = []

    def fn(image, *, level, bright):
        calls.append((image.shape, level, bright))
        return image > level if bright else image <= level

    options = {"level": 0.5, "bright": True}
    seg = FunctionSegmenter(fn, name="mine", summary="a test", class_names=["bg", "fg"], options=options)
    out = seg.segment(np.array([[0.2, 0.8]]))
    np.testing.assert_array_equal(out, [[0, 1]])
    assert out.dtype == np.int32 and calls == [((1, 2), 0.5, True)]
    info = seg.info
    assert (info.name, info.task, info.summary, info.classes) == (
        "mine",
        "segmentation",
        "a test",
        ("bg", "fg"),
    )
    assert info.options == options
    options["level"] = 0.1  # the caller's dict is copied: later changes do not reach the segmenter
    assert seg.info.options["level"] == 0.5
    np.testing.assert_array_equal(seg.segment(np.array([[0.2, 0.8]])), [[0, 1]])
    assert seg.sample_input() is None and repr(seg) == "<FunctionSegmenter 'mine'>"


def test_function_segmenter_sample_and_no_options():
    sample = np.arange(4.0).reshape(2, 2)
    seg = FunctionSegmenter(lambda img: img > 1, name="s", sample=lambda: sample)
    assert seg.sample_input() is sample and seg.info.options == {} and seg.info.classes == ()
    np.testing.assert_array_equal(seg.segment(seg.sample_input()), [[0, 0], [1, 1]])


# ---- Generator ---------------------------------------------------------------------------------------------


class Toy(Generator):
    """Images that show their latent vector: pixel (0, j) = round(clip(z_j, -4, 4) * 30 + 128); row 1 holds
    the label. Records what _generate received."""

    def __init__(self, latent_size=4, num_classes=None, result=None):
        self.info = ModelInfo(name="toy", task="generation", latent_size=latent_size, num_classes=num_classes)
        self.calls = []
        self.result = result

    def _generate(self, n, *, rng, labels, z):
        self.calls.append({"n": n, "rng": rng, "labels": labels, "z": z})
        if self.result is not None:
            return self.result
        if z is None:
            z = self._draw(n, rng, labels).astype(np.float32)
        out = np.zeros((n, 2, self.info.latent_size), np.uint8)
        out[:, 0] = np.round(np.clip(z, -4, 4) * 30 + 128)
        out[:, 1] = 0 if labels is None else labels[:, None]
        return out


def test_generate_seeds():
    gen = Toy()
    a = gen.generate(3, seed=5)
    np.testing.assert_array_equal(a, gen.generate(3, seed=5))  # same seed, same images
    assert not np.array_equal(a, gen.generate(3, seed=6))
    z = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(a[:, 0], np.round(np.clip(z, -4, 4) * 30 + 128).astype(np.uint8))
    rng = np.random.default_rng(9)
    gen.generate(2, seed=rng)
    assert gen.calls[-1]["rng"] is rng  # a Generator is used as is
    gen.generate(1)
    assert isinstance(gen.calls[-1]["rng"], np.random.Generator)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"n": 0}, InvalidArgumentError, "`n` must be >= 1; got 0"),
        ({"n": True}, DTypeError, "`n` must be an int"),
        ({"n": 2.0}, DTypeError, "`n` must be an int"),
        ({"n": MAX_GENERATE + 1}, InvalidArgumentError, f"`n` must be <= {MAX_GENERATE}"),
        ({"n": 2, "seed": -1}, InvalidArgumentError, "`seed` must be >= 0"),
        ({"n": 2, "seed": 1.5}, InvalidArgumentError, "`seed` must be None, an int"),
        ({"n": 2, "labels": 1}, InvalidArgumentError, "`labels` given, but generator 'toy' is unconditional"),
        (
            {"n": 2, "z": np.zeros((2, 3))},
            InvalidArgumentError,
            r"`z` must have shape \(2, 4\); got \(2, 3\)",
        ),
        ({"n": 2, "z": np.zeros(4)}, InvalidArgumentError, r"`z` must have shape \(2, 4\)"),
    ],
)
def test_generate_validates_arguments_before_the_subclass_runs(kwargs, exc, match):
    gen = Toy()
    with pytest.raises(exc, match=match):
        gen.generate(**kwargs)
    assert gen.calls == []


def test_generate_labels_of_a_conditional_generator():
    gen = Toy(num_classes=3)
    np.testing.assert_array_equal(gen.generate(7, seed=0)[:, 1, 0], [0, 1, 2, 0, 1, 2, 0])  # classes in turn
    np.testing.assert_array_equal(gen.generate(3, seed=0, labels=2)[:, 1, 0], [2, 2, 2])  # one for all
    np.testing.assert_array_equal(gen.generate(3, seed=0, labels=[2, 0, 1])[:, 1, 0], [2, 0, 1])
    got = gen.generate(2, seed=0, labels=np.array([1, 1], np.uint8))
    assert gen.calls[-1]["labels"].dtype == np.int64 and (got[:, 1] == 1).all()
    for n, labels, match in [
        (3, [0, 1], r"one label per image \(3\); got 2$"),
        (3, [0.0, 1.0, 2.0], "must be an int or a 1-D sequence of ints"),
        (3, [[0, 1, 2]], "must be an int or a 1-D sequence of ints"),
        (3, [0, 3, -1], r"`labels` must be in \[0, 2\]; got -1, 3$"),
        (7, list(range(3, 10)), r"`labels` must be in \[0, 2\]; got 3, 4, 5, 6, 7, \.\.\.$"),
    ]:
        with pytest.raises(InvalidArgumentError, match=match):
            gen.generate(n, labels=labels)


def test_generate_with_z():
    gen = Toy()
    z = np.array([[0, 1, -1, 4.5], [0.5, 0, 0, -9]])
    out = gen.generate(2, z=z)
    assert gen.calls[-1]["z"].dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], [[128, 158, 98, 248], [143, 128, 128, 8]])
    with pytest.raises(InvalidArgumentError, match=r"`z` must have shape \(2, None\)"):
        Toy(latent_size=None).generate(2, z=z)


@pytest.mark.parametrize(
    "result, match",
    [
        (np.zeros((2, 4, 4), np.float32), "returned float32 \\(2, 4, 4\\); expected uint8"),
        (np.zeros((2, 4), np.uint8), "returned uint8 \\(2, 4\\)"),
        (np.zeros((3, 4, 4), np.uint8), "returned uint8 \\(3, 4, 4\\)"),
        (
            np.zeros((2, 4, 4, 3, 1), np.uint8),
            r"returned uint8 \(2, 4, 4, 3, 1\); expected uint8 \(n=2, H, W\[, C\]\)",
        ),
    ],
)
def test_generate_refuses_bad_results_naming_the_generator(result, match):
    with pytest.raises(PluginError, match="generator 'toy' " + match):
        Toy(result=result).generate(2, seed=0)


def test_generate_accepts_grey_and_colour_results():
    for shape in ((2, 4, 4), (2, 4, 4, 3)):
        out = Toy(result=np.zeros(shape, np.uint8)).generate(2)
        assert out.shape == shape


def test_latent_is_the_seed_draw_of_generate():
    gen = Toy()
    np.testing.assert_array_equal(gen.latent(11), np.random.default_rng(11).standard_normal((1, 4))[0])
    z = gen.latent(11).astype(np.float32)  # as the generator casts it
    np.testing.assert_array_equal(gen.generate(1, seed=11)[0, 0], np.round(np.clip(z, -4, 4) * 30 + 128))
    with pytest.raises(InvalidArgumentError, match="has no latent vector"):
        Toy(latent_size=None).latent(1)
    with pytest.raises(InvalidArgumentError, match="`seed_x` must be >= 0"):
        gen.latent(-2, name="seed_x")
    with pytest.raises(InvalidArgumentError, match="`label` given, but generator 'toy' is unconditional"):
        gen.latent(1, label=0)


class Shifted(Toy):
    """Another prior: the standard normal shifted by 2 x label (as a mixture prior would be)."""

    def _draw(self, n, rng, labels):
        shift = 0 if labels is None else 2.0 * labels[:, None]
        return rng.standard_normal((n, self.info.latent_size)) + shift


def test_latent_and_interpolate_follow_an_overridden_prior():
    gen = Shifted(num_classes=3)
    np.testing.assert_array_equal(gen.latent(4, label=2), np.random.default_rng(4).standard_normal(4) + 4.0)
    np.testing.assert_array_equal(gen.latent(4), gen.latent(4, label=0))  # default label 0
    path = gen.interpolate(4, 8, steps=5, label=2)
    np.testing.assert_array_equal(path[0], gen.generate(1, seed=4, labels=2)[0])
    np.testing.assert_array_equal(path[-1], gen.generate(1, seed=8, labels=2)[0])
    assert (path[:, 1] == 2).all()


@pytest.mark.parametrize("spherical", [True, False])
def test_interpolate_path(spherical):
    gen = Toy(latent_size=8)
    path = gen.interpolate(1, 2, steps=7, spherical=spherical)
    assert path.shape == (7, 2, 8) and path.dtype == np.uint8
    np.testing.assert_array_equal(path[0], gen.generate(1, seed=1)[0])
    np.testing.assert_array_equal(path[-1], gen.generate(1, seed=2)[0])
    z = gen.calls[-3]["z"].astype(np.float64)  # the interpolate call (then the two generate calls)
    a, b = gen.latent(1), gen.latent(2)
    t = np.linspace(0, 1, 7)[:, None]
    if spherical:
        omega = np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        want = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    else:
        want = (1 - t) * a + t * b
    np.testing.assert_allclose(z, want, rtol=1e-6, atol=1e-6)


def test_interpolate_parallel_ends_fall_back_to_a_line():
    gen = Toy(latent_size=4)
    gen.latent = lambda seed, label=None, name="seed": np.ones(4) * (1.0 if seed == 1 else 3.0)
    gen.interpolate(1, 2, steps=3)
    np.testing.assert_allclose(gen.calls[-1]["z"], [[1] * 4, [2] * 4, [3] * 4])  # no division by sin(0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"steps": 1}, "`steps` must be >= 2"),
        ({"steps": MAX_GENERATE + 1}, f"`steps` must be <= {MAX_GENERATE}"),
        ({"label": 1}, "unconditional"),
    ],
)
def test_interpolate_refuses_bad_arguments(kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match):
        Toy().interpolate(1, 2, **kwargs)


def test_generator_defaults():
    assert repr(Toy()) == "<Toy 'toy'>" and Generator.info.task == "generation"
    with pytest.raises(TypeError):
        Generator()  # abstract


# ---- ModelInfo ---------------------------------------------------------------------------------------------

META = {
    "name": "unet-x",
    "task": "segmentation",
    "summary": "a test model",
    "classes": ["background", 1],
    "input_size": [64.0, 32],
    "channels": 3,
    "mean": 0.5,
    "std": [0.25, 0.25, 0.25],
    "metrics": {"iou": 0.8},
    "training": {"epochs": 3},
    "segen_version": "0.1.0",
    "sha256": "ab" * 32,
    "license": "BSD-3-Clause",
    "inputs": {"image": {"shape": ["N", 3, 64, 32], "dtype": "float32"}},
}


def test_from_metadata():
    info = ModelInfo.from_metadata(META, file="models/unet-x.onnx")
    assert info.name == "unet-x" and info.task == "segmentation" and info.summary == "a test model"
    assert info.classes == ("background", "1")  # strings
    assert info.input_size == (64, 32) and all(type(v) is int for v in info.input_size)
    assert info.mean == (0.5,) and info.std == (0.25, 0.25, 0.25) and info.channels == 3
    assert info.metrics == {"iou": 0.8} and info.metrics is not META["metrics"]
    assert info.provenance == {
        "training": {"epochs": 3},
        "segen_version": "0.1.0",
        "sha256": "ab" * 32,
        "license": "BSD-3-Clause",
    }
    assert info.file == "models/unet-x.onnx" and info.options == {}
    assert info.latent_size is None and info.num_classes is None and info.output_size is None
    assert ModelInfo.from_metadata(META, name="other").name == "other"


def test_from_metadata_of_a_generator_and_minimal_metadata():
    info = ModelInfo.from_metadata(
        {"task": "generation", "latent_size": 16, "num_classes": 10, "output_size": [16, 16]}
    )
    assert (info.name, info.latent_size, info.num_classes, info.output_size) == ("", 16, 10, (16, 16))
    assert info.classes == () and info.mean is None and info.provenance == {} and info.file is None
    with pytest.raises(KeyError):
        ModelInfo.from_metadata({"name": "no task"})


def test_as_dict_is_json_ready_without_empty_fields():
    info = ModelInfo.from_metadata(META, file="m.onnx")
    d = info.as_dict()
    assert d == {
        "name": "unet-x",
        "task": "segmentation",
        "summary": "a test model",
        "classes": ["background", "1"],
        "labels": "classes",  # a segmenter's labels are classes unless it says instances
        "input_size": [64, 32],
        "channels": 3,
        "mean": [0.5],
        "std": [0.25, 0.25, 0.25],
        "metrics": {"iou": 0.8},
        "provenance": info.provenance,
        "file": "m.onnx",
    }
    assert ModelInfo(name="x", task="generation").as_dict() == {"name": "x", "task": "generation"}
    assert ModelInfo(name="x", task="segmentation", options={"k": 0}).as_dict()["options"] == {"k": 0}


def test_model_info_is_frozen():
    info = ModelInfo(name="x", task="segmentation")
    with pytest.raises(AttributeError):
        info.name = "y"
