"""What a plugin provides: :class:`Segmenter` and :class:`Generator`, their :class:`ModelInfo`, and ready-made
bases for ONNX models (:class:`OnnxSegmenter`, :class:`OnnxGenerator`) and plain functions
(:class:`FunctionSegmenter`).

The public methods (``segment``, ``generate``) validate their arguments and the result; subclasses
implement the private ``_segment`` / ``_generate`` on already-checked input.
"""

from __future__ import annotations

import abc
import dataclasses
import os
import pathlib
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from .errors import InvalidArgumentError, ModelError, PluginError

__all__ = [
    "ModelInfo",
    "Segmenter",
    "Generator",
    "FunctionSegmenter",
    "OnnxSegmenter",
    "OnnxGenerator",
    "MAX_GENERATE",
]

#: Largest `n` accepted by :meth:`Generator.generate` in one call.
MAX_GENERATE = 4096

_PROVENANCE_KEYS = ("training", "segen_version", "sha256", "source", "license", "authors")


@dataclass(frozen=True)
class ModelInfo:
    """Description of a segmenter or generator: what it does, what it expects, where it comes from.

    For ONNX models it is built from the model's metadata (:meth:`from_metadata`); classical methods fill
    in `options` with their parameters.
    """

    name: str
    task: str  #: "segmentation" or "generation"
    summary: str = ""
    classes: tuple[str, ...] = ()  #: segmentation: class names, index = label value (0 = background)
    input_size: tuple[int, int] | None = None  #: (H, W) the model runs at (inputs are resized to it)
    channels: int | None = None  #: 1 (grey) or 3 (RGB) input / output channels
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    latent_size: int | None = None  #: generation: length of the latent vector z
    num_classes: int | None = None  #: generation: number of conditioning labels (None: unconditional)
    output_size: tuple[int, int] | None = None  #: generation: (H, W) of a sample
    metrics: dict = field(default_factory=dict)  #: measured on held-out data
    provenance: dict = field(default_factory=dict)  #: training data, epochs, seed, segen version, sha256
    options: dict = field(default_factory=dict)  #: the parameters this instance was made with
    file: str | None = None  #: the model file, if any

    @classmethod
    def from_metadata(cls, meta: dict, *, name: str | None = None, file=None) -> ModelInfo:
        """Build from a model's metadata dict (see :mod:`segen.runtime`)."""

        def pair(v):
            return tuple(int(x) for x in v) if v is not None else None

        def floats(v):
            if v is None:
                return None
            return tuple(float(x) for x in (v if isinstance(v, (list, tuple)) else [v]))

        return cls(
            name=name or str(meta.get("name", "")),
            task=meta["task"],
            summary=str(meta.get("summary", "")),
            classes=tuple(str(c) for c in meta.get("classes", ())),
            input_size=pair(meta.get("input_size")),
            channels=meta.get("channels"),
            mean=floats(meta.get("mean")),
            std=floats(meta.get("std")),
            latent_size=meta.get("latent_size"),
            num_classes=meta.get("num_classes"),
            output_size=pair(meta.get("output_size")),
            metrics=dict(meta.get("metrics", {})),
            provenance={k: meta[k] for k in _PROVENANCE_KEYS if k in meta},
            file=None if file is None else str(file),
        )

    def as_dict(self) -> dict:
        """JSON-ready dict without the empty fields."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if v not in (None, (), {}, "")
        }


def _check_image(image, channel_axis):
    from ._validate import check_image

    arr, _ = check_image(image, "image", channel_axis=channel_axis)
    return arr


class Segmenter(abc.ABC):
    """Base class of segmenters: ``segment(image) -> (H, W) int32 labels``.

    Subclasses set :attr:`info` and implement :meth:`_segment`. Labels are int32, 0 = background or
    unlabelled, 1..N regions (or class indices for semantic models: see ``info.classes``).
    """

    info: ModelInfo = ModelInfo(name="", task="segmentation")

    def segment(self, image, *, channel_axis: int | None = -1) -> np.ndarray:
        """Segment one image.

        Parameters
        ----------
        image : (H, W) or (H, W, C) ndarray
            Grey or multichannel image, uint8, uint16 or float (floats in [0, 1]).
        channel_axis : int or None, optional
            Axis of the channels of a 3-D image (default -1).

        Returns
        -------
        labels : (H, W) ndarray of int32

        Raises
        ------
        InvalidArgumentError
            If `image` is empty or not 2-D/3-D.
        DTypeError
            If `image` is not numeric.
        """
        arr = _check_image(image, channel_axis)
        labels = np.asarray(self._segment(arr))
        if labels.shape != arr.shape[:2]:
            raise PluginError(
                f"segmenter {self.info.name!r} returned labels of shape {labels.shape} for an image "
                f"of shape {arr.shape[:2]}"
            )
        if labels.dtype != np.int32:
            if labels.dtype.kind not in "biu":
                raise PluginError(
                    f"segmenter {self.info.name!r} returned {labels.dtype} labels; integers expected"
                )
            labels = labels.astype(np.int32)
        return labels

    @abc.abstractmethod
    def _segment(self, image: np.ndarray) -> np.ndarray:
        """Segment a checked image: C-contiguous, (H, W) or (H, W, C) channels last, a core dtype."""

    def sample_input(self) -> np.ndarray | None:
        """An image this segmenter is meant for (the demo uses it); None for the default sample scene."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name!r}>"


class Generator(abc.ABC):
    """Base class of generators: ``generate(n, seed=...) -> (n, H, W[, C]) uint8``.

    Subclasses set :attr:`info` (``num_classes`` for conditional models, ``latent_size`` when `z` may be
    given) and implement :meth:`_generate`.
    """

    info: ModelInfo = ModelInfo(name="", task="generation")

    def generate(self, n: int, *, seed=None, labels=None, z=None) -> np.ndarray:
        """Generate `n` images.

        Parameters
        ----------
        n : int
            Number of images, 1..:data:`MAX_GENERATE`.
        seed : None, int or numpy.random.Generator, optional
            Seed of the latent vectors; the same seed gives the same images.
        labels : int or sequence of int, optional
            Classes to generate, for conditional models (``info.num_classes``): one per image, or one for
            all. Default: the classes in turn.
        z : (n, latent_size) ndarray, optional
            Latent vectors to use instead of random ones.

        Returns
        -------
        images : (n, H, W) or (n, H, W, C) ndarray of uint8

        Raises
        ------
        InvalidArgumentError
            If `n` is out of range, `labels` are given to an unconditional model or are out of range,
            `z` has the wrong shape, or `seed` is not None, an int >= 0 or a ``numpy.random.Generator``.
        """
        from ._validate import check_int, check_seed

        n = check_int(n, "n", minimum=1)
        if n > MAX_GENERATE:
            raise InvalidArgumentError(f"`n` must be <= {MAX_GENERATE}; got {n}")
        k = self.info.num_classes
        if labels is not None:
            if not k:
                raise InvalidArgumentError(
                    f"`labels` given, but generator {self.info.name!r} is unconditional"
                )
            lab = np.asarray(labels)
            if lab.dtype.kind not in "iu" or lab.ndim > 1:
                raise InvalidArgumentError(
                    f"`labels` must be an int or a 1-D sequence of ints; got {labels!r}"
                )
            lab = np.broadcast_to(lab, (n,)) if lab.ndim == 0 else lab
            if lab.shape != (n,):
                raise InvalidArgumentError(
                    f"`labels` must have one label per image ({n}); got {lab.shape[0]}"
                )
            if lab.size and (lab.min() < 0 or lab.max() >= k):
                bad = sorted({int(v) for v in lab[(lab < 0) | (lab >= k)]})
                shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
                raise InvalidArgumentError(f"`labels` must be in [0, {k - 1}]; got {shown}")
            labels = lab.astype(np.int64)
        elif k:
            labels = np.arange(n, dtype=np.int64) % k
        if z is not None:
            z = np.asarray(z, dtype=np.float32)
            want = (n, self.info.latent_size)
            if self.info.latent_size is None or z.shape != want:
                raise InvalidArgumentError(f"`z` must have shape {want}; got {z.shape}")
        rng = check_seed(seed)
        out = np.asarray(self._generate(n, rng=rng, labels=labels, z=z))
        if out.dtype != np.uint8 or out.ndim not in (3, 4) or out.shape[0] != n:
            raise PluginError(
                f"generator {self.info.name!r} returned {out.dtype} {out.shape}; expected uint8 "
                f"(n={n}, H, W[, C])"
            )
        return out

    def _draw(self, n: int, rng: np.random.Generator, labels: np.ndarray | None) -> np.ndarray:
        """The latent vectors ``(n, latent_size)`` that :meth:`generate` uses when no `z` is given: standard
        normal by default. A generator with another prior overrides this (and draws through it in
        ``_generate``), so that :meth:`latent` and :meth:`interpolate` follow it."""
        return rng.standard_normal((n, self.info.latent_size))

    def latent(self, seed, *, label=None, name: str = "seed") -> np.ndarray:
        """The latent vector ``generate(1, seed=seed, labels=label)`` uses: ``(latent_size,)``, drawn from
        ``numpy.random.default_rng(seed)`` (float64 standard normal for the default prior; the generator
        casts it to float32).

        Raises
        ------
        InvalidArgumentError
            If the generator has no ``latent_size`` (it does not take `z`), or `seed` is not None, an int
            >= 0 or a ``numpy.random.Generator`` (the message names it `name`).
        """
        from ._validate import check_seed

        if not self.info.latent_size:
            raise InvalidArgumentError(
                f"generator {self.info.name!r} has no latent vector (no `latent_size`); it cannot interpolate"
            )
        rng = check_seed(seed, name)
        labels = None
        if label is not None or self.info.num_classes:
            labels = np.array([0 if label is None else self._check_label(label)], np.int64)
        return np.asarray(self._draw(1, rng, labels))[0]

    def _check_label(self, label) -> int:
        k = self.info.num_classes
        if not k:
            raise InvalidArgumentError(f"`label` given, but generator {self.info.name!r} is unconditional")
        kind = np.asarray(label).dtype.kind
        if isinstance(label, (bool, np.bool_)) or np.ndim(label) != 0 or kind not in "iu":
            raise InvalidArgumentError(f"`label` must be one int; got {label!r}")
        if not 0 <= int(label) < k:
            raise InvalidArgumentError(f"`label` must be in [0, {k - 1}]; got {int(label)}")
        return int(label)

    def interpolate(
        self, seed_a, seed_b, steps: int = 8, *, label=None, spherical: bool = True
    ) -> np.ndarray:
        """Images along the latent path between the samples of two seeds.

        Parameters
        ----------
        seed_a, seed_b : int
            Seeds of the two ends: the first image is ``generate(1, seed=seed_a)`` and the last
            ``generate(1, seed=seed_b)``, exactly.
        steps : int, optional
            Number of images, 2..:data:`MAX_GENERATE` (default 8), ends included, equally spaced in the
            interpolation parameter.
        label : int, optional
            Class of every image, for conditional models (default 0: the label ``generate(1)`` uses).
        spherical : bool, optional
            Spherical linear interpolation (slerp, default) or a straight line between the two latents.

        Returns
        -------
        images : (steps, H, W) or (steps, H, W, C) ndarray of uint8

        Raises
        ------
        InvalidArgumentError
            If `steps` is out of range, `label` is given to an unconditional model or is out of range, a
            seed is not an int >= 0 (or None, or a ``numpy.random.Generator``), or the generator has no
            latent vector.

        Notes
        -----
        The ends are the latents :meth:`latent` draws (the generator's own prior, standard normal by
        default). Standard-normal latents concentrate near the sphere of radius ``sqrt(latent_size)``; a
        straight line between two of them passes through shorter vectors, which a generator rarely saw in
        training (the middle images look faded). Slerp follows the great circle between them and keeps
        the norm in between the two ends'. The path is computed in float64 from the draws, so its ends
        are bit-identical to the seeds' latents.

        Examples
        --------
        >>> import segen
        >>> gen = segen.get_generator("dcgan-digits")  # doctest: +SKIP
        >>> gen.interpolate(1, 2, steps=5).shape  # doctest: +SKIP
        (5, 16, 16)
        """
        from ._validate import check_int

        steps = check_int(steps, "steps", minimum=2)
        if steps > MAX_GENERATE:
            raise InvalidArgumentError(f"`steps` must be <= {MAX_GENERATE}; got {steps}")
        labels = None
        if label is not None or self.info.num_classes:
            labels = 0 if label is None else self._check_label(label)
        a = self.latent(seed_a, label=labels, name="seed_a")
        b = self.latent(seed_b, label=labels, name="seed_b")
        t = np.linspace(0.0, 1.0, steps)[:, None]
        omega = float(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0)))
        if spherical and omega > 1e-6 and np.pi - omega > 1e-6:
            z = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
        else:  # lerp (also the limit of slerp for (anti)parallel ends)
            z = (1 - t) * a + t * b
        z[0], z[-1] = a, b
        return self.generate(steps, z=z.astype(np.float32), labels=labels)

    @abc.abstractmethod
    def _generate(
        self, n: int, *, rng: np.random.Generator, labels: np.ndarray | None, z: np.ndarray | None
    ) -> np.ndarray:
        """Make `n` uint8 images; `labels` is (n,) int64 for conditional models, `z` checked or None."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name!r}>"


class FunctionSegmenter(Segmenter):
    """A segmenter made from a function ``fn(image, **options) -> labels or bool mask``.

    A bool mask becomes labels 0/1. `options` are passed to `fn` and shown in ``info.options``; `sample`
    returns the image :meth:`sample_input` gives. Used by the built-in classical methods; handy for plugins.
    """

    def __init__(
        self,
        fn: Callable,
        *,
        name: str,
        summary: str = "",
        class_names=(),
        options: dict | None = None,
        sample: Callable | None = None,
    ):
        self._fn = fn
        self._options = dict(options or {})
        self._sample = sample
        self.info = ModelInfo(
            name=name,
            task="segmentation",
            summary=summary,
            classes=tuple(class_names),
            options=dict(self._options),
        )

    def _segment(self, image):
        return self._fn(image, **self._options)

    def sample_input(self):
        return self._sample() if self._sample is not None else None


# ---- ONNX --------------------------------------------------------------------------------------------------


def _model_file(path):
    """A real file path from a str, PathLike or importlib.resources Traversable."""
    if path is None:
        return None
    if isinstance(path, (str, os.PathLike)):
        return pathlib.Path(path)
    return pathlib.Path(str(path))  # a Traversable of an installed (unzipped) package


class _OnnxMixin:
    model_path = None  #: class attribute: where the .onnx lives (str, Path or importlib.resources path)
    task = ""

    def _load(self, path, threads, providers):
        from .runtime import OnnxModel

        path = _model_file(path if path is not None else self.model_path)
        if path is None:
            raise PluginError(f"{type(self).__name__} has no model file: set `model_path` or pass `path`")
        # generators run many small kernels per call: idle threads spinning beats a wake-up per kernel
        self.model = OnnxModel(
            path, threads=threads, providers=providers, allow_spinning=self.task == "generation"
        )
        meta = self.model.metadata
        if meta["task"] != self.task:
            raise ModelError(
                f"model {path} is a {meta['task']} model; {type(self).__name__} needs {self.task}"
            )
        self.info = ModelInfo.from_metadata(meta, name=meta.get("name") or path.stem, file=path)


def _as_float01(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image.astype(np.float32) / np.float32(255)
    if image.dtype == np.uint16:
        return image.astype(np.float32) / np.float32(65535)
    return image.astype(np.float32, copy=False)


def _nearest_resize(labels: np.ndarray, shape) -> np.ndarray:
    h, w = shape
    sh, sw = labels.shape
    rows = np.minimum(((np.arange(h) + 0.5) * sh / h).astype(np.intp), sh - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * sw / w).astype(np.intp), sw - 1)
    return labels[rows[:, None], cols[None, :]]


class OnnxSegmenter(_OnnxMixin, Segmenter):
    """A segmenter backed by an ONNX model with segen metadata (see :mod:`segen.runtime`).

    The model takes one float32 input ``(N, C, H, W)``: the image is scaled to [0, 1], made grey or RGB to
    match ``channels``, resized to ``input_size`` (bilinear), normalised with ``mean``/``std``. The first
    output ``(N, K, H, W)`` holds per-class scores (label = argmax, an index into ``classes``); with K = 1 it
    is a foreground score thresholded at the metadata's ``threshold`` (default 0). Labels are resized back
    to the image (nearest).

    Parameters
    ----------
    path : str or os.PathLike, optional
        The ``.onnx`` file (default: the class attribute ``model_path``).
    threads : int, optional
        ONNX Runtime intra-op threads (default :func:`segen.get_num_threads`).
    providers : sequence of str, optional
        Execution providers (default CPU).
    """

    task = "segmentation"

    def __init__(self, path=None, *, threads: int | None = None, providers=("CPUExecutionProvider",)):
        self._load(path, threads, providers)
        (self._input,) = self.model.input_names[:1]
        shape = self.model.input_spec[self._input]["shape"]
        if len(shape) != 4:
            raise ModelError(f"model {self.model.path}: segmenter input must be (N, C, H, W); got {shape}")
        self._channels = int(self.info.channels or shape[1] or 3)
        size = self.info.input_size or (shape[2], shape[3])
        if size[0] is None or size[1] is None:
            raise ModelError(f"model {self.model.path}: no `input_size` in the metadata and no fixed H, W")
        self._size = (int(size[0]), int(size[1]))

    def _segment(self, image):
        x = _as_float01(image)
        if x.ndim == 2:
            x = x[..., None]
        if self._channels == 3 and x.shape[2] == 1:
            x = np.repeat(x, 3, axis=2)
        elif self._channels == 1 and x.shape[2] >= 3:
            x = (x[..., :3] @ np.array([0.2125, 0.7154, 0.0721], np.float32))[..., None]
        elif x.shape[2] != self._channels:
            raise InvalidArgumentError(
                f"`image` must have 1 or 3 channels for {self.info.name!r}; got {x.shape[2]}"
            )
        if x.shape[:2] != self._size:
            from .transform import resize

            x = resize(np.ascontiguousarray(x), self._size, method="bilinear")
            x = x.reshape(self._size + (self._channels,))
        if self.info.mean is not None:
            x = x - np.asarray(self.info.mean, np.float32)
        if self.info.std is not None:
            x = x / np.asarray(self.info.std, np.float32)
        batch = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        scores = self.model.run({self._input: batch})[0]
        if scores.ndim != 4 or scores.shape[0] != 1:
            raise ModelError(f"model {self.model.path}: output must be (1, K, H, W); got {scores.shape}")
        if scores.shape[1] == 1:
            labels = (scores[0, 0] > float(self.model.metadata.get("threshold", 0.0))).astype(np.int32)
        else:
            labels = np.argmax(scores[0], axis=0).astype(np.int32)
        return _nearest_resize(labels, image.shape[:2])


class OnnxGenerator(_OnnxMixin, Generator):
    """A generator backed by an ONNX model with segen metadata (see :mod:`segen.runtime`).

    The model's float32 input ``(N, latent_size)`` receives standard-normal latent vectors; a conditional
    model (``num_classes`` in the metadata) also has an int64 input ``(N,)`` of labels. The first output
    ``(N, C, H, W)`` or ``(N, H, W)`` is mapped from ``output_range`` (default [-1, 1]) to uint8. A model with
    a fixed batch size is run in chunks.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The ``.onnx`` file (default: the class attribute ``model_path``).
    threads : int, optional
        ONNX Runtime intra-op threads.
    providers : sequence of str, optional
        Execution providers (default CPU).
    """

    task = "generation"

    def __init__(self, path=None, *, threads: int | None = None, providers=("CPUExecutionProvider",)):
        self._load(path, threads, providers)
        spec = self.model.input_spec
        floats = [n for n, s in spec.items() if s["dtype"].kind == "f"]
        ints = [n for n, s in spec.items() if s["dtype"].kind in "iu"]
        if len(floats) != 1:
            raise ModelError(
                f"model {self.model.path}: a generator needs one float latent input; got {list(spec)}"
            )
        self._z = floats[0]
        self._labels = ints[0] if ints else None
        zshape = spec[self._z]["shape"]
        if self.info.latent_size is None:
            if len(zshape) != 2 or zshape[1] is None:
                raise ModelError(f"model {self.model.path}: no `latent_size` in the metadata")
            self.info = dataclasses.replace(self.info, latent_size=int(zshape[1]))
        if (self._labels is not None) != bool(self.info.num_classes):
            raise ModelError(
                f"model {self.model.path}: `num_classes` in the metadata and a label input must go together"
            )
        self._batch = zshape[0]

    def _generate(self, n, *, rng, labels, z):
        if z is None:
            z = np.asarray(self._draw(n, rng, labels), dtype=np.float32)
        step = self._batch or n
        outs = []
        for start in range(0, n, step):
            zb = z[start : start + step]
            lb = labels[start : start + step] if labels is not None else None
            real = zb.shape[0]
            if real < step:  # pad a fixed-size batch
                zb = np.concatenate([zb, np.zeros((step - real, zb.shape[1]), np.float32)])
                lb = None if lb is None else np.concatenate([lb, np.zeros(step - real, np.int64)])
            feeds = {self._z: np.ascontiguousarray(zb)}
            if self._labels is not None:
                feeds[self._labels] = lb.astype(self.model.input_spec[self._labels]["dtype"])
            outs.append(self.model.run(feeds)[0][:real])
        y = np.concatenate(outs)
        lo, hi = self.model.metadata.get("output_range", [-1.0, 1.0])
        y = np.clip((y.astype(np.float32) - lo) / (hi - lo), 0, 1)
        y = (y * 255).round().astype(np.uint8)
        if y.ndim == 4:
            y = y.transpose(0, 2, 3, 1)
            if y.shape[3] == 1:
                y = y[..., 0]
        return np.ascontiguousarray(y)
