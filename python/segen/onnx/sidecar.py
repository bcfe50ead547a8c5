"""The model sidecar: its schema, reader and writer in one place.

A model is two files side by side: ``<name>.onnx`` and ``<name>.json``, its metadata (the "sidecar")::

    {
      "name": "unet-nuclei", "task": "segmentation",  # or "generation", "classification"
      "sha256": "<hex digest of the .onnx>",
      "inputs": {"image": {"shape": ["N", 3, 128, 128], "dtype": "float32"}},
      "input_size": [128, 128], "channels": 3, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
      "classes": ["background", "nucleus"],                    # segmentation
      "latent_size": 64, "num_classes": 10, "output_range": [-1, 1],   # generation
      "training": {"data": "...", "epochs": 20, "seed": 0}, "metrics": {"iou": 0.81},
      "segen_version": "0.1.0"
    }

In ``inputs`` a dimension is an int (fixed) or a string/null (free, e.g. the batch). The runtime-critical
keys may also be stored inside the ``.onnx`` as ``metadata_props`` named ``segen.<key>`` with JSON values;
when both are present they must agree. Torch is never imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import tempfile
from typing import Mapping

import numpy as np

from .._core import __version__
from ..errors import ModelError

__all__ = ["PROPS_PREFIX", "TASKS", "load_metadata", "props_in", "sha256_of", "write_sidecar"]

TASKS = ("segmentation", "generation", "classification")
#: Prefix of the keys segen stores in an ONNX file's ``metadata_props`` (``segen.<key>``, JSON values).
PROPS_PREFIX = "segen."

_hash_cache: dict[tuple, str] = {}


def sha256_of(path) -> str:
    """Hex sha256 of a file (cached by path, size and modification time)."""
    p = pathlib.Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _hash_cache[key] = h.hexdigest()
    return _hash_cache[key]


def _check_spec(spec, where: str) -> dict:
    if not isinstance(spec, Mapping) or not spec:
        raise ModelError(f"{where}: `inputs` must be a non-empty object {{name: {{shape, dtype}}}}")
    out = {}
    for name, s in spec.items():
        if not isinstance(s, Mapping) or "shape" not in s or "dtype" not in s:
            raise ModelError(f"{where}: input {name!r} needs `shape` and `dtype`; got {s!r}")
        shape = s["shape"]
        if not isinstance(shape, list) or not all(d is None or isinstance(d, (int, str)) for d in shape):
            raise ModelError(
                f"{where}: shape of input {name!r} must be a list of ints, strings or nulls; got {shape!r}"
            )
        try:
            dtype = np.dtype(s["dtype"])
        except TypeError:
            raise ModelError(
                f"{where}: dtype of input {name!r} is not a numpy dtype; got {s['dtype']!r}"
            ) from None
        out[name] = {"shape": [d if isinstance(d, int) else None for d in shape], "dtype": dtype}
    return out


def load_metadata(path) -> dict:
    """Read and check a model's sidecar JSON (``<name>.json``); :class:`ModelError` if it is unusable."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise ModelError(
            f"model metadata file not found: {p} (a model is <name>.onnx with <name>.json beside it)"
        )
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model metadata {p} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {p} must be a JSON object; got {type(meta).__name__}")
    _check_metadata(meta, str(p))
    return meta


def _check_metadata(meta: dict, where: str) -> None:
    if meta.get("task") not in TASKS:
        raise ModelError(f"{where}: `task` must be one of {TASKS}; got {meta.get('task')!r}")
    _check_spec(meta.get("inputs"), where)
    sha = meta.get("sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha.lower())):
        raise ModelError(f"{where}: `sha256` must be the 64-hex-digit digest of the .onnx file; got {sha!r}")


def props_in(metadata_props: Mapping[str, str], where: str) -> dict:
    """The ``segen.<key>`` entries of an ONNX file's metadata properties, decoded from JSON."""
    out = {}
    for key, raw in metadata_props.items():
        if not key.startswith(PROPS_PREFIX):
            continue
        try:
            out[key[len(PROPS_PREFIX) :]] = json.loads(raw)
        except json.JSONDecodeError:
            raise ModelError(f"{where}: metadata_props {key!r} is not JSON: {raw[:60]!r}") from None
    return out


def write_sidecar(onnx_path, meta: dict, *, json_path=None) -> dict:
    """Write the sidecar of `onnx_path` (default ``<name>.json`` beside it) and return what was written.

    ``sha256`` (of the .onnx as it is now) and ``segen_version`` are filled in here, so every writer
    records them the same way; the result is checked against the schema :func:`load_metadata` applies
    before anything is written, and the file is replaced atomically.

    Parameters
    ----------
    onnx_path : str or os.PathLike
        The exported ``.onnx`` file (already final: its digest is recorded).
    meta : dict
        The other keys: ``task``, ``inputs`` and whatever the model kind records (classes, metrics, ...).
    json_path : str or os.PathLike, optional
        Where to write (default: `onnx_path` with the suffix ``.json``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> d = pathlib.Path(tmp.name)
    >>> _ = (d / "m.onnx").write_bytes(b"not a real model")
    >>> meta = write_sidecar(d / "m.onnx", {"task": "segmentation",
    ...                                     "inputs": {"x": {"shape": ["N", 1, 8, 8], "dtype": "float32"}}})
    >>> load_metadata(d / "m.json")["sha256"] == meta["sha256"]
    True
    >>> tmp.cleanup()
    """
    onnx_path = pathlib.Path(onnx_path)
    target = pathlib.Path(json_path) if json_path is not None else onnx_path.with_suffix(".json")
    meta = dict(meta)
    meta["sha256"] = sha256_of(onnx_path)
    meta["segen_version"] = meta.get("segen_version") or __version__
    _check_metadata(meta, str(target))
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, target)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return meta
