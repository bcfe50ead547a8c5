"""The model sidecar: its schema, reader and writer in one place.

A model is two files side by side: ``<name>.onnx`` and ``<name>.json``, its metadata (the "sidecar")::

    {
      "name": "unet-nuclei", "task": "segmentation",  # or "generation", "classification"
      "sha256": "<hex digest of the model: see below>",
      "inputs": {"image": {"shape": ["N", 3, 128, 128], "dtype": "float32"}},
      "input_size": [128, 128], "channels": 3, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
      "classes": ["background", "nucleus"],                    # segmentation
      "labels": "instances",    # segmentation: "classes" (default) or "instances" (each object its own id)
      "latent_size": 64, "num_classes": 10, "output_range": [-1, 1],   # generation
      "training": {"data": "...", "epochs": 20, "seed": 0}, "metrics": {"iou": 0.81},
      "segen_version": "0.1.0"
    }

In ``inputs`` a dimension is an int (fixed) or a string/null (free, e.g. the batch). The runtime-critical
keys may also be stored inside the ``.onnx`` as ``metadata_props`` named ``segen.<key>`` with JSON values;
when both are present they must agree. Torch is never imported here.

Checked at load (:func:`load_metadata`), each refusal naming the field: ``mean`` and ``std`` finite (one
value or one per channel), ``std`` > 0; ``output_range`` / ``input_range`` two finite numbers, low < high;
size fields bounded before anything is allocated from them: ``latent_size`` and ``num_classes`` and the
number of ``classes`` <= :data:`MAX_COUNT`, ``input_size`` / ``output_size`` sides <= :data:`MAX_SIDE`
(and <= :data:`MAX_PIXELS` pixels), ``stride`` <= 1024, ``channels`` 1 or 3, fixed ``inputs`` / ``outputs``
dimensions 1 .. 2**31 - 1.

The digest
----------
``sha256`` is the model's digest, :func:`model_digest`, over the bytes segen reads to load it:

- a self-contained ``.onnx`` (no tensor stored in an external file): the plain sha256 of the file's bytes,
  as ``sha256sum`` prints it (every sidecar written before external data was covered stays valid);
- a model with external data: the sha256 of ``b"segen-model-digest-v1\0"``, then the ``.onnx``'s bytes,
  then for each external file, sorted by its normalised relative name (``/``-separated, no ``./``): the
  name in UTF-8 and the file's bytes, every one of these pieces preceded by its length as an 8-byte
  little-endian integer (so no two different sets of files give the same byte stream).

:func:`read_model` reads the model and its external files into memory once (their total size bounded),
computes the digest of those bytes, and :class:`~segen.onnx.OnnxModel` makes its ONNX Runtime session from
the same bytes, external tensors copied into the model (ONNX Runtime opens no file itself): what is
verified is what runs. An external location must be a relative path inside the model's folder: absolute
paths, ``..``, drive letters, backslashes and symlinks resolving outside the folder are
:class:`~segen.errors.UnsafeModelError`, refused before any file is opened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import pathlib
import re
import stat
import tempfile
from typing import Mapping

import numpy as np

from .._core import __version__
from ..errors import ModelError, ModelIntegrityError, UnsafeModelError
from . import _proto

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_COUNT",
    "MAX_PIXELS",
    "MAX_SIDE",
    "PROPS_PREFIX",
    "TASKS",
    "ModelBytes",
    "load_metadata",
    "model_digest",
    "props_in",
    "read_model",
    "sha256_of",
    "write_sidecar",
]

TASKS = ("segmentation", "generation", "classification")
#: Prefix of the keys segen stores in an ONNX file's ``metadata_props`` (``segen.<key>``, JSON values).
PROPS_PREFIX = "segen."
#: Most bytes read for one model, its external data included (2 GiB, protobuf's own limit for the .onnx).
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Largest ``latent_size``, ``num_classes`` and number of ``classes`` a sidecar may declare.
MAX_COUNT = 65536
#: Largest side of an ``input_size`` / ``output_size``, and largest number of pixels of one.
MAX_SIDE = 16384
MAX_PIXELS = 1 << 26
#: Largest ``stride``, ``min_size`` / ``receptive_margin``, and fixed dimension of an input or output.
MAX_STRIDE = 1024
MAX_DIM = 2**31 - 1

#: Keys read with a default when absent: present, they may not be null.
_NOT_NULL = ("name", "summary", "classes", "metrics", "training", "output_range", "threshold", "stride")
_NOT_NULL += ("min_size", "receptive_margin")
#: Tensor element types of ``inputs`` / ``outputs`` (those ONNX Runtime and numpy share).
_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")
_DTYPES += ("uint64", "bool")

_DIGEST_MAGIC = b"segen-model-digest-v1\0"
_O_FLAGS = (
    os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


def model_digest(onnx_bytes, external: Mapping[str, bytes] | None = None) -> str:
    """The digest a sidecar records (see the module docstring): the plain sha256 of a self-contained model,
    else the length-prefixed sha256 of the ``.onnx`` and its external files (`external`: normalised name ->
    bytes).

    Examples
    --------
    >>> import hashlib
    >>> model_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    True
    >>> model_digest(b"abc", {"w.bin": b"1"}) != model_digest(b"abc", {"w.bin": b"2"})
    True
    """
    if not external:
        return hashlib.sha256(onnx_bytes).hexdigest()
    h = hashlib.sha256(_DIGEST_MAGIC)

    def put(piece) -> None:
        h.update(len(piece).to_bytes(8, "little"))
        h.update(piece)

    put(onnx_bytes)
    for name in sorted(external):
        put(name.encode("utf-8"))
        put(external[name])
    return h.hexdigest()


def _read_file(path: pathlib.Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file, at most `limit` of them (never blocks on a FIFO or device)."""
    try:
        fd = os.open(path, _O_FLAGS)
    except FileNotFoundError:
        raise ModelIntegrityError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ModelError(f"{what} {path} cannot be opened: {exc}") from exc
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"{what} {path} is not a regular file")
        if st.st_size > limit:
            raise ModelError(
                f"{what} {path} is {st.st_size} bytes, over the limit of {limit} bytes left of `max_bytes`"
            )
        data = f.read(limit + 1)
    if len(data) > limit:  # grew since fstat
        raise ModelError(f"{what} {path} is over the limit of {limit} bytes left of `max_bytes`")
    return data


_DRIVE = re.compile(r"^[A-Za-z]:")


def _external_file(folder: pathlib.Path, location: str, where: str) -> tuple[str, pathlib.Path]:
    """(normalised name, resolved path) of an external data location, or :class:`UnsafeModelError`."""
    parts = location.split("/")
    if (
        not location
        or "\0" in location
        or "\\" in location
        or location.startswith("/")
        or _DRIVE.match(location)
        or ".." in parts
    ):
        raise UnsafeModelError(
            f"{where}: external data location {location!r} is not a relative path inside the model's folder"
        )
    parts = [p for p in parts if p not in ("", ".")]
    if not parts:
        raise UnsafeModelError(f"{where}: external data location {location!r} names no file")
    base = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(base, *parts))
    if os.path.commonpath([base, target]) != base or target == base:
        raise UnsafeModelError(
            f"{where}: external data location {location!r} resolves to {target}, outside the model's folder "
            f"{base} (a symlink?)"
        )
    return "/".join(parts), pathlib.Path(target)


@dataclasses.dataclass(frozen=True)
class ModelBytes:
    """A model read into memory once (:func:`read_model`): the ``.onnx`` bytes, its external files
    (normalised name -> bytes), what the protobuf holds (None if segen cannot read it: ``error`` says why)
    and the digest of exactly these bytes."""

    path: pathlib.Path
    data: bytes
    files: dict
    scan: _proto.ModelScan | None
    error: str | None
    digest: str

    @property
    def size(self) -> int:
        """Bytes read, external files included."""
        return len(self.data) + sum(len(b) for b in self.files.values())

    def session_bytes(self) -> bytes:
        """The serialized model ONNX Runtime gets: these bytes, with every external tensor's data copied in
        from the files read (so ONNX Runtime opens no file)."""
        if self.scan is None:
            raise ModelError(
                f"cannot load model {self.path}: not an ONNX protobuf segen can read ({self.error})"
            )
        if not self.files:
            return self.data
        if self.size >= 2**31:
            raise ModelError(f"model {self.path} with its external data is over protobuf's 2 GiB limit")
        folder = self.path.parent

        def data_of(ref: _proto.ExternalRef) -> bytes:
            name, _ = _external_file(folder, ref.location, f"model {self.path}")
            return _slice(self.files[name], ref, name, self.path)

        return _proto.inline_external(self.data, data_of)


def _slice(blob: bytes, ref: _proto.ExternalRef, name: str, path) -> bytes:
    stop = len(blob) if ref.length is None else ref.offset + ref.length
    if ref.offset > len(blob) or stop > len(blob):
        raise ModelIntegrityError(
            f"model {path}: tensor {ref.tensor!r} reads bytes {ref.offset}..{stop} of external data file "
            f"{name!r}, which has {len(blob)}: the file is truncated or from another model"
        )
    return blob[ref.offset : stop]


def read_model(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ModelBytes:
    """Read a model and every external data file it names into memory (at most `max_bytes` in all) and
    compute their digest (:func:`model_digest`).

    Raises
    ------
    ModelError
        If the model is missing, empty, not a regular file or over `max_bytes` with its external data.
    UnsafeModelError
        If an external data location leaves the model's folder (checked before any file is opened).
    ModelIntegrityError
        If an external data file is missing or shorter than a tensor stored in it says.
    """
    path = pathlib.Path(os.fspath(path))
    data = _read_file(path, max_bytes, "model file")
    if not data:
        raise ModelError(f"model file {path} is empty")
    try:
        scan, error = _proto.scan(data), None
    except _proto.ProtoError as exc:
        scan, error = None, str(exc)
    files: dict[str, bytes] = {}
    if scan is not None and scan.external:
        where = f"model {path}"
        named = [(ref, *_external_file(path.parent, ref.location, where)) for ref in scan.external]
        left = max_bytes - len(data)
        for ref, name, target in named:
            if name not in files:
                files[name] = _read_file(target, left, f"external data file {ref.location!r} of model {path}")
                left -= len(files[name])
            _slice(files[name], ref, name, path)
    return ModelBytes(path, data, files, scan, error, model_digest(data, files))


def sha256_of(path) -> str:
    """The digest of a model file and its external data (:func:`model_digest`), as a sidecar records it;
    for a self-contained file (or one that is not an ONNX model at all) its plain sha256. Never cached: the
    files are read each time.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ModelError
        If the model or an external file cannot be read (see :func:`read_model`).
    """
    pathlib.Path(path).stat()  # FileNotFoundError, as for any file
    return read_model(path).digest


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_spec(spec, where: str, key: str = "inputs", *, names: bool = False) -> dict:
    if not isinstance(spec, Mapping) or not spec:
        raise ModelError(f"{where}: `{key}` must be a non-empty object {{name: {{shape, dtype}}}}")
    if len(spec) > 64:
        raise ModelError(f"{where}: `{key}` lists {len(spec)} tensors; at most 64")
    out = {}
    for name, s in spec.items():
        if not isinstance(s, Mapping) or "shape" not in s or "dtype" not in s:
            raise ModelError(f"{where}: {key[:-1]} {name!r} needs `shape` and `dtype`; got {s!r}")
        shape = s["shape"]
        if (
            not isinstance(shape, list)
            or len(shape) > 8
            or not all(d is None or isinstance(d, str) or (_is_int(d) and 1 <= d <= MAX_DIM) for d in shape)
        ):
            raise ModelError(
                f"{where}: shape of {key[:-1]} {name!r} must be a list of ints (1..{MAX_DIM}), strings or "
                f"nulls, at most 8 of them; got {shape!r}"
            )
        try:
            dtype = np.dtype(s["dtype"])
        except (TypeError, ValueError):
            dtype = None
        if dtype is None or dtype.name not in _DTYPES:
            raise ModelError(
                f"{where}: dtype of {key[:-1]} {name!r} is not a numpy dtype segen runs ({', '.join(_DTYPES)}); "
                f"got {s['dtype']!r}"
            ) from None
        dims = [d if names or not isinstance(d, str) else None for d in shape]
        out[name] = {"shape": dims, "dtype": dtype}
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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelError(f"model metadata {p} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {p} must be a JSON object; got {type(meta).__name__}")
    _check_metadata(meta, str(p))
    return meta


def _check_count(meta: dict, key: str, where: str, lo: int = 1, hi: int = MAX_COUNT) -> None:
    v = meta.get(key)
    if v is not None and not (_is_int(v) and lo <= v <= hi):
        raise ModelError(f"{where}: `{key}` must be an int in {lo}..{hi}; got {v!r}")


def _check_size(meta: dict, key: str, where: str) -> None:
    v = meta.get(key)
    if v is None:
        return
    if not (isinstance(v, list) and len(v) == 2 and all(_is_int(x) and 1 <= x <= MAX_SIDE for x in v)):
        raise ModelError(f"{where}: `{key}` must be [height, width], ints in 1..{MAX_SIDE}; got {v!r}")
    if v[0] * v[1] > MAX_PIXELS:
        raise ModelError(f"{where}: `{key}` {v} is over {MAX_PIXELS} pixels")


def _check_range(meta: dict, key: str, where: str) -> None:
    v = meta.get(key)
    if v is None:
        return
    if not (
        isinstance(v, list)
        and len(v) == 2
        and all(_is_number(x) and math.isfinite(x) for x in v)
        and v[0] < v[1]
    ):
        raise ModelError(f"{where}: `{key}` must be [low, high], finite numbers with low < high; got {v!r}")


def _check_norm(meta: dict, key: str, where: str) -> None:
    v = meta.get(key)
    if v is None:
        return
    values = v if isinstance(v, list) else [v]
    channels = meta.get("channels")
    lengths = (1, channels) if _is_int(channels) else (1, 3)
    if not values or len(values) not in lengths or not all(_is_number(x) for x in values):
        raise ModelError(f"{where}: `{key}` must be a number or a list of one per channel; got {v!r}")
    if not all(math.isfinite(x) for x in values):
        raise ModelError(f"{where}: `{key}` must be finite; got {v!r}")
    if key == "std" and not all(x > 0 for x in values):
        raise ModelError(f"{where}: `std` must be > 0 (it divides the image); got {v!r}")


def _check_metadata(meta: dict, where: str) -> None:
    if meta.get("task") not in TASKS:
        raise ModelError(f"{where}: `task` must be one of {TASKS}; got {meta.get('task')!r}")
    _check_spec(meta.get("inputs"), where)
    if meta.get("outputs") is not None:
        _check_spec(meta["outputs"], where, "outputs")
    for key in _NOT_NULL:
        if key in meta and meta[key] is None:
            raise ModelError(f"{where}: `{key}` is null; leave it out or give a value")
    sha = meta.get("sha256")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha.lower())):
        raise ModelError(f"{where}: `sha256` must be the 64-hex-digit digest of the model; got {sha!r}")
    channels = meta.get("channels")
    if channels is not None and not (_is_int(channels) and channels in (1, 3)):
        raise ModelError(f"{where}: `channels` must be 1 or 3; got {channels!r}")
    for key in ("mean", "std"):
        _check_norm(meta, key, where)
    for key in ("output_range", "input_range"):
        _check_range(meta, key, where)
    for key in ("input_size", "output_size"):
        _check_size(meta, key, where)
    for key in ("latent_size", "num_classes"):
        _check_count(meta, key, where)
    _check_count(meta, "stride", where, 1, MAX_STRIDE)
    _check_count(meta, "min_size", where, 1, MAX_SIDE)
    _check_count(meta, "receptive_margin", where, 0, MAX_SIDE)
    if "labels" in meta and not (
        meta["task"] == "segmentation" and meta["labels"] in ("classes", "instances")
    ):
        raise ModelError(
            f"{where}: `labels` must be 'classes' or 'instances' (what a segmenter's label values are); got "
            f"{meta['labels']!r} for task {meta['task']!r}"
        )
    classes = meta.get("classes")
    if classes is not None and not (
        isinstance(classes, list)
        and 1 <= len(classes) <= MAX_COUNT
        and all(isinstance(c, str) for c in classes)
    ):
        shown = f"{len(classes)} of them" if isinstance(classes, list) else repr(classes)[:60]
        raise ModelError(f"{where}: `classes` must be a list of 1..{MAX_COUNT} names; got {shown}")
    for key in ("name", "summary"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise ModelError(f"{where}: `{key}` must be a string; got {type(meta[key]).__name__}")
    for key in ("metrics", "training"):
        if meta.get(key) is not None and not isinstance(meta[key], Mapping):
            raise ModelError(f"{where}: `{key}` must be an object; got {type(meta[key]).__name__}")
    threshold = meta.get("threshold")
    if threshold is not None and not (_is_number(threshold) and math.isfinite(threshold)):
        raise ModelError(f"{where}: `threshold` must be a finite number; got {threshold!r}")
    outputs = meta.get("outputs")
    if meta["task"] == "segmentation" and classes and isinstance(outputs, Mapping):
        shape = next(iter(outputs.values()))["shape"]
        k = shape[1] if len(shape) == 4 else None
        if _is_int(k) and k != len(classes) and not (k == 1 and len(classes) == 2):
            raise ModelError(
                f"{where}: the first output has {k} channels but `classes` names {len(classes)} classes"
            )


def props_in(metadata_props: Mapping[str, str], where: str) -> dict:
    """The ``segen.<key>`` entries of an ONNX file's metadata properties, decoded from JSON."""
    out = {}
    for key, raw in metadata_props.items():
        if not key.startswith(PROPS_PREFIX):
            continue
        try:
            out[key[len(PROPS_PREFIX) :]] = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):  # RecursionError: nested too deeply
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
