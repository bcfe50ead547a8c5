"""Registering the ONNX models a plugin ships: one call per plugin, nothing loaded until a model is asked for.

The ONNX classes (:mod:`segen.onnx`, with numpy and the C++ core) are imported when a model is first
made, so listing the registered models stays cheap."""

from __future__ import annotations

import functools
import importlib
import json
import pathlib
import sys
from importlib.resources import files
from typing import Callable

from ..errors import InvalidArgumentError

__all__ = ["lazy", "register_shipped_models", "training_sample"]


def register_shipped_models(
    register: Callable,
    package: str,
    models: dict[str, str],
    *,
    kind: str = "segmenter",
    make: Callable | None = None,
    labels: str | None = None,
) -> None:
    """Register the ONNX models a plugin ships in ``<package>/models/``, each with its int8 variant.

    For every ``name -> summary`` in `models` whose ``<name>.onnx`` (or ``<name>-int8.onnx``) exists, a
    factory making the model from that file is registered; nothing is loaded until the model is asked for.
    The U-Net, FCN and GAN plugins use it; third-party plugins may too.

    Parameters
    ----------
    register : callable
        The ``register`` callback the hook received (:func:`segen.plugins.hookspecs.register_segmenters` or
        :func:`~segen.plugins.hookspecs.register_generators`).
    package : str
        The plugin's package (its ``__name__``); the files are looked up in its ``models`` folder.
    models : dict of str to str
        Model name (the file stem) -> one-line summary.
    kind : {"segmenter", "generator"}, optional
        What the files are: segmenters become :class:`segen.onnx.DenseSegmenter`, generators
        :class:`segen.onnx.OnnxGenerator` (default ``"segmenter"``).
    make : callable, optional
        ``make(path, **options)`` building the model instead of the default class of `kind` (e.g. a
        generator subclass with extra methods).
    labels : {"classes", "instances"}, optional
        For segmenters: what their label values are, passed on to `register` (e.g. ``"instances"`` for
        the nuclei models, so ``segen list`` says so without loading them).
    """
    if kind not in ("segmenter", "generator"):
        raise InvalidArgumentError(f"`kind` must be 'segmenter' or 'generator'; got {kind!r}")

    def factory(path, summary: str):
        def build(**options):
            if make is not None:
                return make(path, **options)
            from .. import onnx  # numpy, the C++ core and the ONNX classes: only when a model is made

            if kind == "generator":
                return onnx.OnnxGenerator(path, **options)
            options.setdefault("sample", functools.partial(training_sample, path))
            return onnx.DenseSegmenter(path, **options)

        build.__doc__ = summary
        return build

    folder = files(package) / "models"
    for name, summary in models.items():
        for variant, note in ((name, ""), (f"{name}-int8", " (int8)")):
            path = folder / f"{variant}.onnx"
            if path.is_file():
                extra = {} if labels is None else {"labels": labels}
                register(variant, factory(path, summary + note), summary=summary + note, **extra)


#: How the sample images shipped beside models were made (a test regenerates each and compares).
#: unet-textures: seed 8 is the first from 7 up whose three textures each cover at least 20 % of the mosaic.
SAMPLE_RECIPES = {
    "unet-textures": dict(
        size=64, seed=8, split="test", textures=("brick", "grass", "gravel"), regions=(3, 3)
    ),
}


def training_sample(path):
    """An image of the kind the segmenter at `path` was trained on, or None (the demo's sample scene).

    A ``<model>_sample.png`` beside the model (the ``-int8`` variant shares its fp32 model's) is read
    first: the shipped texture models carry one, a held-out :func:`segen.data.textures` mosaic of
    scikit-image's CC0 photographs brick, grass and gravel (:data:`SAMPLE_RECIPES`), so the demo shows them
    on textures without scikit-image installed. Else shapes models get a fresh :func:`segen.data.shapes`
    image (numpy only) and texture models a held-out mosaic when scikit-image is already imported.
    """
    from .. import data, io  # numpy and the C++ core: only when a sample is asked for

    p = pathlib.Path(str(path))
    stem = p.stem.removesuffix("-int8")
    shipped = p.with_name(f"{stem}_sample.png")
    if shipped.is_file():
        return io.imread(shipped)
    meta = json.loads(pathlib.Path(str(path)).with_suffix(".json").read_text(encoding="utf-8"))
    dataset = ((meta.get("training") or {}).get("params") or {}).get("dataset")
    if dataset == "shapes":
        return data.shapes(1, size=128, seed=7, max_shapes=6).images[0]
    if dataset == "textures" and "skimage" in sys.modules:
        return data.textures(1, size=64, seed=7, split="test").images[0]
    return None


def lazy(target: str, **bound):
    """A callable that imports ``"package.module:name"`` when first called and calls it.

    For a plugin's hooks: a training recipe or a model class whose module imports torch (or anything
    heavy) is registered without importing it, e.g. ``register("fcn", lazy(f"{__name__}.train:train"))``.
    `bound` keyword arguments are passed on every call, before the caller's (which may override them).

    Examples
    --------
    >>> hypot = lazy("math:hypot")
    >>> hypot(3, 4)
    5.0
    >>> lazy("builtins:int", base=2)("101")
    5
    """
    module, sep, name = target.partition(":")
    if not sep or not module or not name.isidentifier():
        raise InvalidArgumentError(f"`target` must be 'package.module:name'; got {target!r}")

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **{**bound, **kwargs})

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{target}`` (imported when first called)"
    return call
