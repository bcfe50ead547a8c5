"""Models from files: a model given by its path, and the user's model folders listed beside the plugins'.

A trained model is ``<name>.onnx`` with ``<name>.json`` beside it (what ``segen train`` writes). It is used
at once by its path, ``segen.get_segmenter("runs/unet/unet-mydata-int8.onnx")`` or ``segen segment -m
runs/unet/unet-mydata-int8.onnx``, or by its name once the two files are copied into a user model folder:

* the folders in the environment variable ``SEGEN_MODEL_DIR`` (several separated by ``os.pathsep``), then
* the per-user data folder: ``$XDG_DATA_HOME/segen/models`` (default ``~/.local/share/segen/models``) on
  Linux and other Unix, ``~/Library/Application Support/segen/models`` on macOS,
  ``%LOCALAPPDATA%\\segen\\models`` on Windows.

Their models are registered by the built-in plugin ``user-models`` under their file stem: ``segen list``
shows them with the plugins' models, reading only their JSON sidecars (up to 1 MiB each). A model loads
with the same checks as a shipped one (the sidecar's sha256 of the ONNX file, the input and output
layout). A file the folder holds that cannot be registered (no sidecar, unreadable or malformed JSON, not
a segmenter or generator) is skipped with a :class:`~segen.errors.SegenPluginWarning` naming it.

A sidecar that names a ``loader`` (``segen train vae`` writes ``"segen-vae"``: the decoder with its fitted
prior; ``segen train nuclei`` ``"segen-nuclei"``: the network with its watershed) is made by the model
loader a plugin registered under that name (:func:`~segen.plugins.hookspecs.register_model_loaders`).
Other segmenters load as :class:`segen.onnx.DenseSegmenter` (class labels;
:class:`segen.onnx.OnnxSegmenter`, which resizes images to the model's input, when its height and width
are fixed) and generators as :class:`segen.onnx.OnnxGenerator`. A model that declares instance labels but
no loader cannot be used here (it needs its plugin's post-processing). A VAE's encoder
(``<name>-encoder.onnx``, sidecar ``"role": "encoder"``) is not listed: it is used through its decoder.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import warnings

from ..errors import InvalidArgumentError, ModelError, SegenPluginWarning
from .hookspecs import hookimpl

__all__ = [
    "load_model_file",
    "looks_like_path",
    "model_dirs",
    "model_file_kind",
    "register_generators",
    "register_segmenters",
]

#: Largest sidecar read while listing (bytes): a sidecar holds metadata only.
MAX_SIDECAR_BYTES = 1 << 20

_TASKS = {"segmenter": "segmentation", "generator": "generation"}


def model_dirs() -> list[pathlib.Path]:
    """The user model folders, in search order: ``SEGEN_MODEL_DIR``'s, then the per-user data folder."""
    dirs = [
        pathlib.Path(p).expanduser() for p in os.environ.get("SEGEN_MODEL_DIR", "").split(os.pathsep) if p
    ]
    if sys.platform == "win32":
        base = pathlib.Path(os.environ.get("LOCALAPPDATA") or pathlib.Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = pathlib.Path.home() / "Library" / "Application Support"
    else:
        base = pathlib.Path(os.environ.get("XDG_DATA_HOME") or pathlib.Path.home() / ".local" / "share")
    dirs.append(base / "segen" / "models")
    return dirs


def looks_like_path(name) -> bool:
    """Whether a model name given by a user is a file path (ends in ``.onnx``) rather than a registered name."""
    return isinstance(name, (str, os.PathLike)) and str(name).lower().endswith(".onnx")


def _sidecar(path: pathlib.Path) -> dict:
    side = path.with_suffix(".json")
    try:
        size = side.stat().st_size
    except FileNotFoundError:
        raise ModelError(
            f"model {path}: no sidecar {side.name} beside it (segen train writes both)"
        ) from None
    if size > MAX_SIDECAR_BYTES:
        raise ModelError(f"model {path}: sidecar {side.name} is {size} bytes (at most {MAX_SIDECAR_BYTES})")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model {path}: sidecar {side.name} is not readable JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"model {path}: sidecar {side.name} is not a JSON object")
    return meta


def model_file_kind(path) -> str:
    """ "segmenter" or "generator": what the model file `path` is, by its sidecar's ``task``;
    :class:`ModelError` for a missing file or sidecar, or another task."""
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise ModelError(f"model file {path} not found")
    task = _sidecar(path).get("task")
    for kind, t in _TASKS.items():
        if task == t:
            return kind
    raise ModelError(f"model {path}: its sidecar's `task` is {task!r}, not segmentation or generation")


def load_model_file(kind: str, path, options: dict):
    """The segmenter or generator in the ONNX file `path` (with its JSON sidecar), made with `options`."""
    if kind not in _TASKS:
        raise InvalidArgumentError(f"`kind` must be 'segmenter' or 'generator'; got {kind!r}")
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise ModelError(f"model file {path} not found")
    meta = _sidecar(path)
    task = meta.get("task")
    if task != _TASKS[kind]:
        raise ModelError(f"model {path} is a {task!r} model, not a {kind} (its sidecar's `task`)")
    if meta.get("loader") is not None:
        return _plugin_loaded(kind, path, meta["loader"], options)
    if kind == "generator" and meta.get("role") == "encoder":
        raise ModelError(
            f"model {path} is the encoder of the VAE {meta.get('decoder')!r}: load that (the generator); "
            "its encoder is found beside it"
        )
    if kind == "segmenter" and meta.get("labels") == "instances":
        raise ModelError(
            f"model {path} returns instances and its sidecar names no `loader` for the post-processing "
            "they need: load it through the plugin that trained it"
        )
    from .. import onnx  # numpy, the C++ core and ONNX Runtime: only when a model is made

    if kind == "generator":
        return onnx.OnnxGenerator(path, **options)
    shapes = [spec.get("shape") for spec in (meta.get("inputs") or {}).values() if isinstance(spec, dict)]
    fixed = bool(shapes) and isinstance(shapes[0], list) and all(isinstance(d, int) for d in shapes[0][2:4])
    # a fully convolutional network takes any size; one with a fixed input size gets images resized to it
    return (onnx.OnnxSegmenter if fixed else onnx.DenseSegmenter)(path, **options)


def _plugin_loaded(kind: str, path: pathlib.Path, name, options: dict):
    """The model at `path` made by the model loader `name` that a plugin registered
    (:func:`segen.plugins.hookspecs.register_model_loaders`)."""
    from ..errors import UnknownModelError
    from .host import get_host
    from .registry import call_plugin

    if not isinstance(name, str):
        raise ModelError(f"model {path}: its sidecar's `loader` must be a string; got {name!r:.60}")
    registry = get_host().registry
    try:
        entry = registry.resolve("loader", name)
    except UnknownModelError:
        raise ModelError(
            f"model {path} is loaded by the model loader {name!r} (its sidecar's `loader`), which no installed "
            "plugin registers: install the plugin that trained it (`segen plugins` lists the installed ones)"
        ) from None
    model = call_plugin(
        entry.factory, f"the model loader {entry.qualified_name!r} (loading {path})", path, **options
    )
    method = "segment" if kind == "segmenter" else "generate"
    if not callable(getattr(model, method, None)):
        raise ModelError(
            f"model {path}: the model loader {entry.qualified_name!r} returned {type(model).__name__}, which "
            f"has no {method}() method"
        )
    return model


def _found(kind: str):
    """(stem, path, summary) of the `kind` models in the user model folders (first folder wins a name)."""
    seen = set()
    for folder in model_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.onnx")):
            if path.stem in seen:
                continue
            try:
                meta = _sidecar(path)
            except ModelError as exc:
                warnings.warn(f"user model folder: skipped {exc}", SegenPluginWarning, stacklevel=2)
                continue
            if meta.get("task") not in _TASKS.values():
                warnings.warn(
                    f"user model folder: skipped {path}: its sidecar's `task` is {meta.get('task')!r}",
                    SegenPluginWarning,
                    stacklevel=2,
                )
                continue
            if meta.get("task") != _TASKS[kind]:
                continue
            seen.add(path.stem)
            yield path.stem, path, meta


def _builder(kind: str, path: pathlib.Path):
    def build(**options):
        return load_model_file(kind, path, options)

    return build


def _register(register, kind: str) -> None:
    for name, path, meta in _found(kind):
        if kind == "segmenter" and meta.get("labels") == "instances" and meta.get("loader") is None:
            continue  # needs its plugin's post-processing and names none (load_model_file says so by path)
        if meta.get("role") == "encoder":
            continue  # a VAE's encoder: used through its decoder, not a generator of its own

        build = _builder(kind, path)
        summary = f"{meta.get('summary') or 'user model'} (user model: {path})"
        build.__doc__ = summary
        labels = meta.get("labels") if kind == "segmenter" else None
        # an instance model (made by its loader) is marked so in `segen list`, as the plugins' own are
        register(
            name, build, summary=summary, **({"labels": labels} if labels in ("classes", "instances") else {})
        )


@hookimpl
def register_segmenters(register):
    """The segmenters of the user model folders."""
    _register(register, "segmenter")


@hookimpl
def register_generators(register):
    """The generators of the user model folders."""
    _register(register, "generator")
