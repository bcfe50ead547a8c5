"""Running ONNX models: :class:`OnnxModel`, a checked, lazily created ONNX Runtime session over a model
file and its sidecar (:mod:`segen.onnx.sidecar`). Torch is never imported here."""

from __future__ import annotations

import os
import pathlib
import threading
import warnings
from typing import Mapping, Sequence

import numpy as np

from .. import _core
from .._shared.validation import check_int
from ..errors import DTypeError, InvalidArgumentError, ModelError, PluginError
from ..models import ModelInfo
from .sidecar import _check_metadata, _check_spec, load_metadata, props_in, sha256_of

__all__ = ["DEFAULT_MAX_BYTES", "RANDOM_OPS", "OnnxModel", "OnnxBacked", "random_ops"]

#: Largest model file read (2 GiB, protobuf's own limit); a larger file is refused before parsing.
DEFAULT_MAX_BYTES = 2 * 1024**3

_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(uint16)": "uint16",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}
#: ONNX operators that draw random numbers inside the graph: a model using them gives different results on
#: every run, so a generator must take its noise as an input instead.
RANDOM_OPS = (
    "RandomNormal",
    "RandomNormalLike",
    "RandomUniform",
    "RandomUniformLike",
    "Multinomial",
    "Bernoulli",
)


def random_ops(path) -> list[str]:
    """Names of the :data:`RANDOM_OPS` used by the nodes of an ONNX file (without parsing it: a node's
    ``op_type`` is stored as protobuf field 4, a length-prefixed string, so each operator name is searched
    for with its field tag and length in front; functions and subgraphs are covered the same way)."""
    data = pathlib.Path(path).read_bytes()
    return [op for op in RANDOM_OPS if b"\x22" + bytes([len(op)]) + op.encode() in data]


class OnnxModel:
    """An ONNX model file with its metadata, run through ONNX Runtime.

    Constructing checks the files (they exist, the size is sane, the sha256 matches the metadata) but does
    not parse the model: the ONNX Runtime session is made on first use (:meth:`run` or :attr:`session`).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.onnx`` file.
    metadata : dict or str or os.PathLike, optional
        The metadata, or the path of its JSON file. Default: ``<path without .onnx>.json``.
    threads : int, optional
        Intra-op threads of the session (default :func:`segen.get_num_threads`); inter-op work is
        sequential.
    providers : sequence of str, optional
        ONNX Runtime execution providers, in order of preference (default CPU only, explicitly).
    enable_mem_arena : bool, optional
        ONNX Runtime's CPU memory arena (default False: lower peak memory, slightly slower first runs).
    allow_spinning : bool, optional
        Let ONNX Runtime's idle intra-op threads spin waiting for work (default False: they sleep, which
        costs a wake-up per kernel but burns no CPU between calls; generators turn it on, their many
        small kernels gain more than they lose).
    max_bytes : int, optional
        Refuse model files larger than this before parsing them (default 2 GiB).

    Raises
    ------
    ModelError
        If a file is missing, empty, too large, truncated or corrupt (sha256 mismatch), or the metadata is
        invalid. Later, from :attr:`session`: if ONNX Runtime cannot load the model, or the model's own
        ``segen.*`` metadata or its input signature disagree with the metadata.

    Examples
    --------
    >>> import numpy as np, segen
    >>> path = segen.get_segmenter("unet-textures").model.path     # a model segen_unet ships
    >>> model = OnnxModel(path)
    >>> model.input_names, model.metadata["classes"]
    (['image'], ['brick', 'grass', 'gravel', 'immunohistochemistry'])
    >>> (scores,) = model.run({"image": np.zeros((1, 1, 64, 64), np.float32)})
    >>> scores.shape, scores.dtype
    ((1, 4, 64, 64), dtype('float32'))
    """

    def __init__(
        self,
        path,
        *,
        metadata=None,
        threads: int | None = None,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        enable_mem_arena: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allow_spinning: bool = False,
    ):
        self._args = dict(  # noqa: C408 - for pickling (see __reduce__)
            metadata=metadata,
            threads=threads,
            providers=providers,
            enable_mem_arena=enable_mem_arena,
            max_bytes=max_bytes,
            allow_spinning=allow_spinning,
        )
        self.path = pathlib.Path(os.fspath(path))
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}")
        if metadata is None or isinstance(metadata, (str, os.PathLike)):
            self.metadata_path = (
                self.path.with_suffix(".json") if metadata is None else pathlib.Path(metadata)
            )
            self.metadata = load_metadata(self.metadata_path)
        elif isinstance(metadata, Mapping):
            self.metadata_path = None
            self.metadata = dict(metadata)
            _check_metadata(self.metadata, f"metadata of {self.path}")
        else:
            raise InvalidArgumentError(f"`metadata` must be a dict or a path; got {type(metadata).__name__}")
        if threads is not None:
            threads = check_int(threads, "threads", minimum=1, maximum=_core.MAX_THREADS)
        self.threads = threads
        if isinstance(providers, str) or not providers:
            raise InvalidArgumentError(
                f"`providers` must be a non-empty sequence of names; got {providers!r}"
            )
        self.providers = tuple(providers)
        self.enable_mem_arena = bool(enable_mem_arena)
        self.allow_spinning = bool(allow_spinning)
        self.input_spec = _check_spec(self.metadata["inputs"], str(self.metadata_path or self.path))
        size = self.path.stat().st_size
        if size == 0:
            raise ModelError(f"model file {self.path} is empty")
        if size > max_bytes:
            raise ModelError(
                f"model file {self.path} is {size} bytes, over the limit of {max_bytes} (`max_bytes`)"
            )
        digest = sha256_of(self.path)
        if digest != self.metadata["sha256"].lower():
            raise ModelError(
                f"model file {self.path} does not match its metadata (sha256 {digest[:12]}…, "
                f"expected {self.metadata['sha256'][:12]}…; {size} bytes): the file is truncated, "
                "corrupt or from another model"
            )
        self._session = None
        self._session_lock = threading.Lock()  # one session even when many threads ask first

    def __reduce__(self):
        """Pickle as the constructor's arguments plus the metadata (e.g. to send to a Dask worker): the
        receiving process re-checks the file against the same sha256 and makes its own session."""
        args = dict(self._args, metadata=self.metadata)
        return (_rebuild, (str(self.path), args))

    def __repr__(self) -> str:
        state = "loaded" if self._session is not None else "not loaded"
        return f"OnnxModel({str(self.path)!r}, task={self.metadata['task']!r}, {state})"

    @property
    def input_names(self) -> list[str]:
        """Input names, in the order of the metadata."""
        return list(self.input_spec)

    @property
    def session(self):
        """The ``onnxruntime.InferenceSession``, created on first access."""
        if self._session is None:
            with self._session_lock:
                if self._session is None:
                    self._session = self._make_session()
        return self._session

    def _make_session(self):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        threads = _core.get_num_threads() if self.threads is None else self.threads
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_cpu_mem_arena = self.enable_mem_arena
        # by default idle workers sleep instead of spinning: no CPU burnt between calls (edge devices, Dask
        # workers, a busy machine), and measured 15-25% faster at 2 threads when the cores are shared
        # (docs/neural.md); many tiny kernels in a row (generators) pay a wake-up each, so they may spin
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.allow_spinning else "0")
        opts.log_severity_level = 3
        rand = random_ops(self.path)
        if rand:
            msg = (
                f"model {self.path} draws random numbers inside the graph ({', '.join(rand)}): its results "
                "change from run to run"
            )
            if self.metadata["task"] == "generation":
                raise ModelError(msg + "; a generator must take its latent noise as an input (`z`)")
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
        try:
            session = ort.InferenceSession(str(self.path), sess_options=opts, providers=list(self.providers))
        except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf/... types
            raise ModelError(f"ONNX Runtime cannot load model {self.path}: {exc}".splitlines()[0]) from exc
        granted = session.get_providers()
        missing = [p for p in self.providers if p not in granted]
        if missing:
            warnings.warn(
                f"model {self.path.name}: providers {missing} were not granted; running on {granted}",
                RuntimeWarning,
                stacklevel=3,
            )
        self._check_against_model(session)
        return session

    def _check_against_model(self, session) -> None:
        props = props_in(session.get_modelmeta().custom_metadata_map or {}, f"model {self.path}")
        for k, value in props.items():
            if k in self.metadata and self.metadata[k] != value:
                raise ModelError(
                    f"model {self.path}: key {k!r} differs between the .onnx ({value!r}) and its "
                    f"metadata ({self.metadata[k]!r})"
                )
        actual = {i.name: i for i in session.get_inputs()}
        if set(actual) != set(self.input_spec):
            raise ModelError(
                f"model {self.path}: inputs are {sorted(actual)} but the metadata lists "
                f"{sorted(self.input_spec)}"
            )
        for name, spec in self.input_spec.items():
            node = actual[name]
            dtype = _ORT_TYPES.get(node.type)
            if dtype is None or np.dtype(dtype) != spec["dtype"]:
                raise ModelError(
                    f"model {self.path}: input {name!r} is {node.type} but the metadata says {spec['dtype']}"
                )
            dims = [d if isinstance(d, int) else None for d in node.shape]
            if len(dims) != len(spec["shape"]) or any(
                a is not None and b is not None and a != b for a, b in zip(dims, spec["shape"])
            ):
                raise ModelError(
                    f"model {self.path}: input {name!r} has shape {node.shape} but the metadata "
                    f"says {spec['shape']}"
                )

    def validate_inputs(self, inputs) -> dict[str, np.ndarray]:
        """Check arrays against the metadata's input signature; returns ``{name: array}``.

        A single array is accepted for a one-input model. Raises :class:`~segen.InvalidArgumentError` for a
        missing or unknown input or a wrong shape, :class:`~segen.DTypeError` for a wrong dtype.
        """
        if not isinstance(inputs, Mapping):
            if len(self.input_spec) != 1:
                raise InvalidArgumentError(
                    f"`inputs` must be a dict for a model with inputs {self.input_names}"
                )
            inputs = {self.input_names[0]: inputs}
        unknown = sorted(set(inputs) - set(self.input_spec))
        if unknown:
            raise InvalidArgumentError(
                f"`inputs` has unknown names {unknown}; the model takes {self.input_names}"
            )
        out = {}
        for name, spec in self.input_spec.items():
            if name not in inputs:
                raise InvalidArgumentError(f"`inputs` lacks {name!r}; the model takes {self.input_names}")
            a = np.asarray(inputs[name])
            if a.dtype != spec["dtype"]:
                raise DTypeError(f"`{name}` must have dtype {spec['dtype']}; got {a.dtype}")
            want = spec["shape"]
            if a.ndim != len(want) or any(w is not None and w != s for w, s in zip(want, a.shape)):
                shown = tuple("?" if w is None else w for w in want)
                raise InvalidArgumentError(f"`{name}` must have shape {shown}; got {a.shape}")
            out[name] = np.ascontiguousarray(a)
        return out

    def run(self, inputs, output_names: Sequence[str] | None = None) -> list[np.ndarray]:
        """Validate `inputs` and run the model; returns the outputs as a list of arrays.

        Raises
        ------
        InvalidArgumentError, DTypeError
            If an input does not match the metadata.
        ModelError
            If ONNX Runtime fails while loading or running the model.
        """
        feeds = self.validate_inputs(inputs)
        session = self.session
        try:
            return session.run(None if output_names is None else list(output_names), feeds)
        except Exception as exc:
            raise ModelError(f"model {self.path.name} failed in ONNX Runtime: {exc}".splitlines()[0]) from exc

    __call__ = run


def _rebuild(path, kwargs):
    return OnnxModel(path, **kwargs)


def _model_file(path):
    """A real file path from a str, PathLike or importlib.resources Traversable."""
    if path is None:
        return None
    if isinstance(path, (str, os.PathLike)):
        return pathlib.Path(path)
    return pathlib.Path(str(path))  # a Traversable of an installed (unzipped) package


class OnnxBacked:
    """Mixin of the ONNX model classes: loads `path` (or the class attribute `model_path`) as an
    :class:`OnnxModel` and sets ``self.model`` and ``self.info``."""

    model_path = None  #: class attribute: where the .onnx lives (str, Path or importlib.resources path)
    task = ""

    def _load(self, path, threads, providers):
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
