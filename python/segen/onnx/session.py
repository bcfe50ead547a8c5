"""Running ONNX models: :class:`OnnxModel`, a checked, lazily created ONNX Runtime session over a model
file and its sidecar (:mod:`segen.onnx.sidecar`). Torch is never imported here."""

from __future__ import annotations

import os
import pathlib
import threading
import time
import warnings
from typing import Mapping, Sequence

import numpy as np

from .. import _core
from .._shared.validation import check_int
from ..errors import (
    DTypeError,
    InvalidArgumentError,
    ModelError,
    ModelIntegrityError,
    ModelSignatureError,
    PluginError,
)
from ..models import ModelInfo
from . import _proto
from .preprocessing import all_finite
from .sidecar import DEFAULT_MAX_BYTES, _check_metadata, _check_spec, load_metadata, props_in, read_model

__all__ = ["DEFAULT_MAX_BYTES", "RANDOM_OPS", "OnnxModel", "OnnxBacked", "random_ops"]

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
#: A name no model uses, given to ONNX Runtime as the only in-memory external data file.
_NO_FILE = "segen-no-external-data-file"
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


def random_ops(model) -> list[str]:
    """Names of the :data:`RANDOM_OPS` used anywhere in an ONNX model: its graph, every subgraph (``If``,
    ``Loop``, ``Scan`` bodies, at any depth) and every model-local function, whatever the operator's domain;
    also ``Dropout`` given a ``training_mode`` input (random when that is true) and ONNX Runtime's
    ``com.microsoft`` dropout operators.

    `model` is a path, the serialized bytes, or a scan from :mod:`segen.onnx._proto`. Raises
    :class:`~segen.ModelError` if the bytes are not an ONNX protobuf segen can read.
    """
    if isinstance(model, _proto.ModelScan):
        found = model
    else:
        data = (
            model if isinstance(model, (bytes, bytearray, memoryview)) else pathlib.Path(model).read_bytes()
        )
        try:
            found = _proto.scan(data)
        except _proto.ProtoError as exc:
            raise ModelError(f"not an ONNX protobuf segen can read: {exc}") from None
    ops = set()
    for domain, op, inputs in found.nodes:
        if op in RANDOM_OPS:
            ops.add(op)
        elif op == "Dropout" and domain in ("", "ai.onnx") and len(inputs) > 2 and inputs[2]:
            ops.add("Dropout(training_mode)")
        elif op.endswith("Dropout") and domain == "com.microsoft":
            ops.add(op)
    return [op for op in RANDOM_OPS if op in ops] + sorted(ops - set(RANDOM_OPS))


class OnnxModel:
    """An ONNX model file with its metadata, run through ONNX Runtime.

    Constructing checks the files (they exist, the size is sane, the digest of the model and its external
    data matches the metadata's ``sha256``); the ONNX Runtime session is made on first use (:meth:`run` or
    :attr:`session`), from bytes read and checked against the digest again then: the session runs exactly
    the bytes that were verified, however the files change in between (:func:`segen.onnx.read_model`).
    Every run checks the outputs against the metadata's ``outputs`` (rank, fixed sizes, sizes named like
    an input's) and refuses NaN or infinite values in float inputs and outputs.

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
        Refuse models larger than this, external data included, before reading them (default 2 GiB).
    timeout : float, optional
        Stop a run that takes longer than this many seconds with :class:`~segen.ModelError` (default:
        no limit). For models from elsewhere: a graph can loop 2**62 times on a tiny input. The attribute
        of the same name can be changed later.

    Raises
    ------
    ModelError
        If a file is missing, empty, too large, or the metadata is invalid. Later, from :attr:`session`: if
        ONNX Runtime cannot load the model, or the model's own ``segen.*`` metadata or its input signature
        disagree with the metadata, or a generator draws random numbers inside its graph.
    ModelIntegrityError
        If the model or its external data does not match the metadata's ``sha256`` (truncated, corrupt,
        tampered with), now or when the session is made.
    UnsafeModelError
        If an external data location leaves the model's folder.

    Notes
    -----
    Ctrl-C stops a run: on Python's main thread a run on a large input (from 65,536 input values) or with
    a `timeout` is made on a helper thread while the main thread waits, and a ``KeyboardInterrupt`` (or
    the timeout) sets ONNX Runtime's terminate flag, which ends the run at its next operator.

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
        timeout: float | None = None,
    ):
        self._args = dict(  # noqa: C408 - for pickling (see __reduce__)
            metadata=metadata,
            threads=threads,
            providers=providers,
            enable_mem_arena=enable_mem_arena,
            max_bytes=max_bytes,
            allow_spinning=allow_spinning,
            timeout=timeout,
        )
        self.timeout = timeout
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
        where = str(self.metadata_path or self.path)
        self.input_spec = _check_spec(self.metadata["inputs"], where)
        self.max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
        # shapes with their dimension names ("N", "H", ...): an output's H must be the input's H
        self._named_inputs = _check_spec(self.metadata["inputs"], where, names=True)
        outputs = self.metadata.get("outputs")
        self._named_outputs = _check_spec(outputs, where, "outputs", names=True) if outputs else {}
        self._read_verified()  # fail early; the session reads and checks again (no window in between)
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

    def _read_verified(self):
        """The model's bytes (:func:`~segen.onnx.read_model`), checked against the metadata's digest."""
        loaded = read_model(self.path, max_bytes=self.max_bytes)
        expected = self.metadata["sha256"].lower()
        if loaded.digest != expected:
            extra = f" and {len(loaded.files)} external data file(s)" if loaded.files else ""
            raise ModelIntegrityError(
                f"model file {self.path}{extra} does not match its metadata (sha256 {loaded.digest[:12]}…, "
                f"expected {expected[:12]}…; {loaded.size} bytes): the file is truncated, corrupt, changed "
                "or from another model"
            )
        return loaded

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
        loaded = self._read_verified()
        model_bytes = loaded.session_bytes()  # external tensors copied in from the bytes just verified
        rand = random_ops(loaded.scan)
        if rand:
            msg = (
                f"model {self.path} draws random numbers inside the graph ({', '.join(rand)}): its results "
                "change from run to run"
            )
            if self.metadata["task"] == "generation":
                raise ModelError(msg + "; a generator must take its latent noise as an input (`z`)")
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
        if hasattr(opts, "add_external_initializers_from_files_in_memory"):
            # every external tensor was copied in above; a reference segen's reader missed fails here
            # instead of ONNX Runtime reading a file nobody verified
            opts.add_external_initializers_from_files_in_memory([_NO_FILE], [b"\0"], [1])
        try:
            session = ort.InferenceSession(model_bytes, sess_options=opts, providers=list(self.providers))
        except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf/... types
            raise ModelError(f"ONNX Runtime cannot load model {self.path}: {exc}".splitlines()[0]) from exc
        del model_bytes, loaded
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
        declared = {o.name: o for o in session.get_outputs()}
        for name, spec in self._named_outputs.items():
            node = declared.get(name)
            if node is None:
                raise ModelSignatureError(
                    f"model {self.path}: the metadata lists output {name!r}; the model's outputs are "
                    f"{sorted(declared)}"
                )
            dtype = _ORT_TYPES.get(node.type)
            if dtype is not None and np.dtype(dtype) != spec["dtype"]:
                raise ModelSignatureError(
                    f"model {self.path}: output {name!r} is {node.type} but the metadata says {spec['dtype']}"
                )
            shape = node.shape if isinstance(node.shape, list) else None
            if shape is not None and (
                len(shape) != len(spec["shape"])
                or any(
                    isinstance(a, int) and isinstance(b, int) and a != b for a, b in zip(shape, spec["shape"])
                )
            ):
                raise ModelSignatureError(
                    f"model {self.path}: output {name!r} has shape {shape} but the metadata says {spec['shape']}"
                )

    def _check_outputs(self, feeds: dict, names: list[str], outputs: list) -> None:
        """Outputs against the metadata's ``outputs``: rank, fixed sizes, sizes named like an input's
        dimension; and no NaN or infinity in a float output (RELIABILITY M10)."""
        bound = {}
        for name, spec in self._named_inputs.items():
            for d, size in zip(spec["shape"], feeds[name].shape):
                if isinstance(d, str):
                    bound.setdefault(d, (size, name))
        for name, out in zip(names, outputs):
            spec = self._named_outputs.get(name)
            if spec is not None:
                want = spec["shape"]
                bad = out.ndim != len(want)
                for d, size in zip(want, out.shape):
                    if isinstance(d, int):
                        bad = bad or size != d
                    elif isinstance(d, str):
                        bad = bad or bound.setdefault(d, (size, name))[0] != size
                if bad:
                    shown = [f"{d}={bound[d][0]}" if isinstance(d, str) and d in bound else d for d in want]
                    raise ModelSignatureError(
                        f"model {self.path}: output {name!r} has shape {out.shape}; the metadata says "
                        f"{shown} (named sizes from the inputs {sorted(self._named_inputs)})"
                    )
            if not all_finite(out):
                raise ModelError(
                    f"model {self.path}: output {name!r} holds NaN or infinite values (the inputs were "
                    "finite): the model or its weights are broken"
                )

    def validate_inputs(self, inputs) -> dict[str, np.ndarray]:
        """Check arrays against the metadata's input signature; returns ``{name: array}``.

        A single array is accepted for a one-input model. Raises :class:`~segen.InvalidArgumentError` for a
        missing or unknown input, a wrong shape, sizes named alike in the metadata (e.g. the batch ``N``)
        that differ between inputs, or NaN or infinite values; :class:`~segen.DTypeError` for a wrong dtype.
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
            if not all_finite(a):
                raise InvalidArgumentError(f"`{name}` must be finite; it holds NaN or infinite values")
            out[name] = np.ascontiguousarray(a)
        seen = {}
        for name, spec in self._named_inputs.items():
            for d, size in zip(spec["shape"], out[name].shape):
                if isinstance(d, str) and seen.setdefault(d, (size, name))[0] != size:
                    raise InvalidArgumentError(
                        f"`{name}` has {d} = {size} but `{seen[d][1]}` has {d} = {seen[d][0]}; they must agree"
                    )
        return out

    def run(self, inputs, output_names: Sequence[str] | None = None) -> list[np.ndarray]:
        """Validate `inputs` and run the model; returns the outputs as a list of arrays.

        Raises
        ------
        InvalidArgumentError, DTypeError
            If an input does not match the metadata.
        ModelError
            If ONNX Runtime fails while loading or running the model, or an output holds NaN or infinity.
        ModelSignatureError
            If an output's shape contradicts the metadata's ``outputs``.
        """
        feeds = self.validate_inputs(inputs)
        session = self.session
        names = [o.name for o in session.get_outputs()] if output_names is None else list(output_names)
        outputs = self._run_session(session, names, feeds)
        self._check_outputs(feeds, names, outputs)
        return outputs

    @property
    def timeout(self) -> float | None:
        """Seconds a run may take before it is stopped (None: no limit)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value) -> None:
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise InvalidArgumentError(f"`timeout` must be a number of seconds or None; got {value!r}")
            if not 0 < float(value) < float("inf"):
                raise InvalidArgumentError(f"`timeout` must be positive and finite; got {value!r}")
            value = float(value)
        self._timeout = value

    def _run_session(self, session, names, feeds) -> list:
        import onnxruntime as ort

        opts = ort.RunOptions()
        opts.log_severity_level = 4  # a run stopped on purpose is not logged as an ONNX Runtime error
        timeout = self._timeout
        big = sum(int(v.size) for v in feeds.values()) >= 1 << 16
        watched = timeout is not None or (big and threading.current_thread() is threading.main_thread())
        stopped = None
        try:
            if not watched:
                return session.run(names, feeds, opts)
            box: dict = {}
            done = threading.Event()

            def work():
                try:
                    box["out"] = session.run(names, feeds, opts)
                except BaseException as exc:  # handed to the waiting thread
                    box["exc"] = exc
                finally:
                    done.set()

            # waited for with an Event, not Thread.join: Python 3.11's join, interrupted by Ctrl-C, can mark a
            # thread that is still running as stopped (the interpreter then exits under a running session)
            worker = threading.Thread(target=work, name=f"segen-onnx-{self.path.name}", daemon=True)
            deadline = None if timeout is None else time.monotonic() + timeout
            worker.start()
            try:
                while not done.is_set():
                    left = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
                    done.wait(max(left, 0.0))  # returns at once when the run ends; Ctrl-C interrupts it
                    if deadline is not None and not done.is_set() and time.monotonic() >= deadline:
                        stopped = f"stopped after its timeout of {timeout:g} s"
                        opts.terminate = True
                        done.wait()
            except KeyboardInterrupt:
                opts.terminate = True
                done.wait()
                raise
            if "exc" in box:
                raise box["exc"]
            return box["out"]
        except Exception as exc:
            why = stopped or (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ModelError(f"model {self.path.name} failed in ONNX Runtime: {why}") from exc

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
