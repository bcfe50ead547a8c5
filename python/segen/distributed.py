"""Scale-out with Dask (the ``dist`` extra): chunked, lazy versions of segen's local operations, and
segmentation of many image files on a cluster.

segen does not schedule work across machines itself; Dask does. This module only gives segen's
operations the shape Dask needs:

- :func:`map_overlap` runs a local operation (a filter, a fully convolutional segmenter) on every chunk
  of a ``dask.array`` with enough overlap (the operation's reach) that the result equals the in-memory
  one exactly, borders included: the array is first padded with the operation's own border mode, so each
  chunk sees the same neighbours it would in one piece. Nothing is computed until ``.compute()``.
- :func:`gaussian`, :func:`sobel`, ... are the :mod:`segen.filters` functions with their reach worked out
  from their parameters.
- :func:`segment` runs a dense (fully convolutional) segmenter chunk by chunk, on the stride grid, with
  the model's receptive-field margin.
- :func:`segment_files` segments a list of image files as one task per file (on a
  ``dask.distributed`` client when given, else Dask's local threads), writes each label image atomically
  and reports failures per file instead of stopping at the first.
- :func:`client` starts a local cluster (or connects to a scheduler address) with one segen thread per
  task, so Dask's workers and segen's own thread pool do not oversubscribe the cores.

Parameters are checked when the graph is built, so a bad `sigma` fails at the call, not on a worker.
"""

from __future__ import annotations

import functools
import math
import os
import pathlib

import numpy as np

from . import _core, filters, io
from ._core import __version__
from ._shared.validation import check_int, check_mode
from .errors import InvalidArgumentError, SegenError
from .plugins import get_segmenter

__all__ = [
    "client",
    "gaussian",
    "gaussian_laplace",
    "laplace",
    "map_overlap",
    "scharr",
    "segment",
    "segment_files",
    "sobel",
    "uniform",
]

#: scipy.ndimage border mode -> numpy.pad mode (the same neighbours, so padding then filtering with any
#: mode gives the unpadded result).
_PAD_MODES = {
    "reflect": "symmetric",
    "mirror": "reflect",
    "nearest": "edge",
    "wrap": "wrap",
    "constant": "constant",
}


def _dask():
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("segen.distributed needs Dask: pip install 'segen[dist]'") from exc
    return da


def _as_dask(array, channel_axis):
    """(dask array with the channel axis last and whole, number of spatial dims) from `array`."""
    da = _dask()
    arr = array if isinstance(array, da.Array) else da.from_array(np.asarray(array))
    if arr.ndim not in (2, 3):
        raise InvalidArgumentError(f"`array` must be 2-D (H, W) or 3-D (H, W, C); got shape {arr.shape}")
    if 0 in arr.shape:
        raise InvalidArgumentError(f"`array` must not be empty; got shape {arr.shape}")
    if arr.ndim == 3:
        if channel_axis is None:
            raise InvalidArgumentError("a 3-D `array` needs `channel_axis` (the axis of the channels)")
        ax = channel_axis % 3 if -3 <= channel_axis < 3 else None
        if ax is None:
            raise InvalidArgumentError(f"`channel_axis` must be in [-3, 2]; got {channel_axis}")
        arr = da.moveaxis(arr, ax, -1)
        arr = arr.rechunk({2: -1})
    return arr


def map_overlap(
    func,
    array,
    depth,
    *,
    mode: str = "reflect",
    cval: float = 0.0,
    channel_axis: int | None = -1,
    kwargs: dict | None = None,
):
    """Apply a local image operation chunk by chunk with overlap; lazy, equal to ``func(whole array)``.

    Parameters
    ----------
    func : callable
        ``func(block, **kwargs) -> result`` with the block's spatial shape (and its channels, if any, on
        the last axis): a segen filter or any operation whose output pixel depends only on input pixels
        within `depth` of it. `func` is called once here on a small block, to check the parameters and
        learn the output dtype.
    array : dask.array.Array or array_like
        2-D (H, W) or 3-D image with a channel axis; any chunking (chunks smaller than `depth` are
        merged by Dask). The channel axis is kept whole.
    depth : int or (int, int)
        Reach of `func` in pixels along rows and columns (at least the true reach; more is only slower).
    mode : {"reflect", "mirror", "nearest", "constant", "wrap"}, optional
        The border mode `func` uses (scipy.ndimage's names); the array is padded with it before chunking.
    cval : float, optional
        Value outside the image for ``mode="constant"``.
    channel_axis : int or None, optional
        Axis of the channels of a 3-D array (default -1).
    kwargs : dict, optional
        Keyword arguments of `func` (include the same `mode` and `cval` when `func` takes them).

    Returns
    -------
    result : dask.array.Array
        Lazy result, chunked like `array` (channels last for 3-D input).

    Raises
    ------
    InvalidArgumentError
        If `array` is not 2-D/3-D or empty, `depth` is negative, or `mode` is unknown.
    """
    da = _dask()
    mode = check_mode(mode)
    d = (depth, depth) if np.ndim(depth) == 0 else tuple(depth)
    if len(d) != 2 or any(isinstance(v, bool) or int(v) != v or v < 0 for v in d):
        raise InvalidArgumentError(f"`depth` must be an int >= 0 or a pair of them; got {depth!r}")
    d = tuple(int(v) for v in d)
    kwargs = dict(kwargs or {})
    arr = _as_dask(array, channel_axis)
    # A reach of half the axis or more (a sigma far larger than the image) needs the whole axis per block:
    # keep that axis in one chunk and let `func` apply its own border mode there (padding by more than
    # the axis once built a graph for minutes and failed; the result is the same).
    whole = [i for i in (0, 1) if 2 * d[i] >= arr.shape[i]]
    if whole:
        arr = arr.rechunk({i: -1 for i in whole})
        d = tuple(0 if i in whole else d[i] for i in (0, 1))
    side = min(2 * max(d) + 3, 33)  # the probe only checks parameters and the dtype: a small block will do
    probe_shape = (side, side) + arr.shape[2:]
    probe = func(np.zeros(probe_shape, arr.dtype), **kwargs)  # bad parameters fail now, not on a worker
    out_dtype = np.asarray(probe).dtype
    if np.asarray(probe).shape[:2] != probe_shape[:2]:
        raise InvalidArgumentError("`func` must return an array with the spatial shape of its input")
    pad = [(d[0], d[0]), (d[1], d[1])] + [(0, 0)] * (arr.ndim - 2)
    if any(d):
        pad_kw = {"constant_values": cval} if mode == "constant" else {}
        padded = da.pad(arr, pad, mode=_PAD_MODES[mode], **pad_kw)
        # padding adds thin edge chunks; give them back to their neighbours
        padded = padded.rechunk({0: _merge_edges(arr.chunks[0], d[0]), 1: _merge_edges(arr.chunks[1], d[1])})
    else:
        padded = arr
    depth_map = {0: d[0], 1: d[1]} | ({2: 0} if arr.ndim == 3 else {})
    out_ndim = np.asarray(probe).ndim
    out = padded.map_overlap(
        _call,
        depth=depth_map,
        boundary="none",
        trim=True,
        dtype=out_dtype,
        meta=np.empty((0,) * out_ndim, out_dtype),
        drop_axis=[2] if arr.ndim == 3 and out_ndim == 2 else [],
        op=func,
        op_kwargs=kwargs,
    )
    if any(d):
        out = out[d[0] : d[0] + arr.shape[0], d[1] : d[1] + arr.shape[1]]
    return out


def _merge_edges(chunks, d):
    """Chunks of an axis after padding `d` on both ends, with the padding joined to the end chunks."""
    c = list(chunks)
    c[0] += d
    c[-1] += d
    return tuple(c)


def _call(block, *, op, op_kwargs):
    return op(np.ascontiguousarray(block), **op_kwargs)


# ---- filters with their reach ------------------------------------------------------------------------


def _reach(fn, value) -> tuple[int, int]:
    """Per-axis reach ``fn(v)`` of a scalar-or-pair parameter; (0, 0) when it is invalid, so that the
    filter itself reports the bad parameter (map_overlap calls it once before building the graph)."""
    try:
        pair = (value, value) if np.ndim(value) == 0 else tuple(value)
        return tuple(max(0, fn(float(v))) for v in pair)
    except (TypeError, ValueError, OverflowError):
        return (0, 0)


def _gauss_radius(sigma, truncate) -> tuple[int, int]:
    try:
        t = float(truncate)
    except (TypeError, ValueError):
        return (0, 0)
    return _reach(lambda s: int(t * s + 0.5), sigma)  # scipy's kernel radius


def gaussian(array, sigma=1.0, *, mode="reflect", cval=0.0, truncate=4.0, channel_axis=-1):
    """Chunked :func:`segen.filters.gaussian` (lazy; equal to the in-memory result)."""
    depth = _gauss_radius(sigma, truncate)
    return _chunked(filters.gaussian, array, depth, mode, cval, channel_axis, sigma=sigma, truncate=truncate)


def gaussian_laplace(array, sigma=1.0, *, mode="reflect", cval=0.0, truncate=4.0, channel_axis=-1):
    """Chunked :func:`segen.filters.gaussian_laplace` (lazy; equal to the in-memory result).

    ``mode="constant"`` needs ``cval=0`` here: the in-memory filter (like scipy) fills the border with
    `cval` again between its derivative and smoothing passes, which padding the image once cannot
    reproduce.
    """
    if mode == "constant" and cval != 0:
        raise InvalidArgumentError(
            f"chunked gaussian_laplace with mode='constant' needs `cval` = 0; got {cval} (the border is "
            "refilled between the filter's passes); use cval=0 or another mode"
        )

    depth = _gauss_radius(sigma, truncate)
    op = filters.gaussian_laplace
    return _chunked(op, array, depth, mode, cval, channel_axis, sigma=sigma, truncate=truncate)


def uniform(array, size=3, *, mode="reflect", cval=0.0, channel_axis=-1):
    """Chunked :func:`segen.filters.uniform` (lazy; equal to the in-memory result)."""
    depth = _reach(lambda v: int(v) // 2 + 1, size)
    return _chunked(filters.uniform, array, depth, mode, cval, channel_axis, size=size)


def laplace(array, *, mode="reflect", cval=0.0, channel_axis=-1):
    """Chunked :func:`segen.filters.laplace` (lazy; equal to the in-memory result)."""
    return _chunked(filters.laplace, array, 1, mode, cval, channel_axis)


def sobel(array, *, axis=None, mode="reflect", cval=0.0, channel_axis=-1):
    """Chunked :func:`segen.filters.sobel` magnitude or one `axis` (lazy; equal to the in-memory result)."""
    return _chunked(filters.sobel, array, 1, mode, cval, channel_axis, axis=axis)


def scharr(array, *, axis=None, mode="reflect", cval=0.0, channel_axis=-1):
    """Chunked :func:`segen.filters.scharr` magnitude or one `axis` (lazy; equal to the in-memory result)."""
    return _chunked(filters.scharr, array, 1, mode, cval, channel_axis, axis=axis)


def _chunked(op, array, depth, mode, cval, channel_axis, **params):
    """`op` chunk by chunk with `depth` pixels of overlap; the border mode and `params` passed on."""
    kwargs = {"mode": mode, "cval": cval, **params}
    return map_overlap(op, array, depth, mode=mode, cval=cval, channel_axis=channel_axis, kwargs=kwargs)


# ---- segmentation ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _cached_segmenter(name: str, options: tuple):
    return get_segmenter(name, **dict(options))


def _resolve(segmenter, options: dict):
    """A Segmenter from an object or a registry name (made once per worker process)."""
    if isinstance(segmenter, str):
        return _cached_segmenter(segmenter, tuple(sorted(options.items())))
    if options:
        raise InvalidArgumentError("`options` are only for a segmenter given by name")
    return segmenter


def segment(array, segmenter, *, channel_axis=-1, **options):
    """Segment a large (dask) image with a dense segmenter, chunk by chunk; lazy int32 labels.

    Chunks are aligned to the model's stride and overlap by its receptive-field margin
    (``segmenter.margin``), so the labels equal those of ``segmenter.segment(whole image)``.

    Parameters
    ----------
    array : dask.array.Array or array_like
        (H, W) or (H, W, C) image.
    segmenter : str or segen.onnx.DenseSegmenter
        A fully convolutional segmenter (with a ``stride`` and a ``margin``), or its registry name (then
        each worker loads it once, with `options`).
    channel_axis : int or None, optional
        Axis of the channels of a 3-D image.

    Returns
    -------
    labels : dask.array.Array of int32, shape (H, W)

    Raises
    ------
    InvalidArgumentError
        If the segmenter is not dense (no stride/margin) or the image is smaller than the model allows.
    """
    _dask()  # a clear error if dask is not installed
    seg = _resolve(segmenter, options)
    stride, margin = getattr(seg, "stride", None), getattr(seg, "margin", None)
    if not stride or margin is None:
        raise InvalidArgumentError(
            f"`segmenter` must be a dense (fully convolutional) segmenter with a stride; got {seg!r}"
        )
    arr = _as_dask(array, channel_axis)
    # chunk edges on the stride grid: each chunk (and its margin) then pools the same pixel groups as a
    # whole-image run
    chunks = [tuple(_stride_chunks(c, stride)) for c in arr.chunks[:2]]
    arr = arr.rechunk({0: chunks[0], 1: chunks[1]})
    depth = {0: margin, 1: margin} | ({2: 0} if arr.ndim == 3 else {})
    return arr.map_overlap(
        _segment_block,
        depth=depth,
        boundary="none",
        trim=True,
        dtype=np.int32,
        meta=np.empty((0, 0), np.int32),
        drop_axis=[2] if arr.ndim == 3 else [],
        segmenter=segmenter,
        options=options,
    )


def _stride_chunks(chunks, stride):
    """Chunk sizes along an axis, each (but the last) rounded to a multiple of `stride`, at least one."""
    total, size = sum(chunks), max(max(chunks), stride)
    size = -(-size // stride) * stride  # rounded up to a multiple of the stride
    out = [size] * (total // size)
    if total % size:
        out.append(total % size)
    return out


def _segment_block(block, *, segmenter, options):
    return _resolve(segmenter, options).segment(np.ascontiguousarray(block)).astype(np.int32)


def _segment_one(path, target, segmenter, options, version):
    """One task of :func:`segment_files`: (input path, output path or None, error message or None)."""
    if version != __version__:  # a worker with another segen than the client (RELIABILITY D2)
        raise SegenError(f"segen version skew: client {version}, worker {__version__}")
    try:
        labels = _resolve(segmenter, options).segment(io.imread(path))
        out = io.write_labels(target, labels)
        return str(path), str(out), None
    except Exception as exc:  # one bad file must not stop the batch (RELIABILITY X2)
        return str(path), None, f"{type(exc).__name__}: {exc}"


def segment_files(paths, segmenter, out_dir, *, client=None, **options) -> list[dict]:
    """Segment image files in parallel, one task per file; writes ``<stem>_labels.png`` into `out_dir`.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Image files (anything :func:`segen.io.imread` reads); on a cluster, paths the workers can read.
    segmenter : str or segen.Segmenter
        A registry name (each worker makes it once, with `options`) or a picklable segmenter object.
    out_dir : str or os.PathLike
        Folder for the label images (created); each is written to a temporary file and renamed, so a
        failed task leaves nothing half-written. Inputs that share a stem (``a.png``, ``sub/a.png``) get
        ``a_labels.png``, ``a-2_labels.png``, ... in the order of `paths`, never one file for both.
    client : dask.distributed.Client, optional
        Where to run; default Dask's local threaded scheduler.

    Returns
    -------
    report : list of dict
        One ``{"input", "output", "error"}`` per file, in the order of `paths`; ``error`` is None on
        success and the exception's message otherwise (the other files still run). A task whose worker
        died (``KilledWorker``: a file too large for a worker's memory, say) is reported the same way.

    Raises
    ------
    InvalidArgumentError
        If `paths` is empty or a string.
    """
    import dask

    if isinstance(paths, (str, os.PathLike)) or not len(paths):
        raise InvalidArgumentError("`paths` must be a non-empty sequence of file paths")
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not isinstance(segmenter, str):
        _resolve(segmenter, options)  # options with an object: error now
    names = _output_names(paths)
    tasks = [
        dask.delayed(_segment_one, pure=True)(str(p), str(out_dir / n), segmenter, options, __version__)
        for p, n in zip(paths, names)
    ]
    if client is None:  # Dask's threaded scheduler: every error is caught inside the task
        results = dask.compute(*tasks)
    else:
        results = [_gather_one(str(p), f) for p, f in zip(paths, client.compute(tasks))]
    return [{"input": i, "output": o, "error": e} for i, o, e in results]


def _output_names(paths) -> list[str]:
    """``<stem>_labels.png`` for each path; a name already taken (case-insensitively) gets -2, -3, ..."""
    used: set[str] = set()
    names = []
    for p in paths:
        stem = pathlib.Path(p).stem
        name, k = f"{stem}_labels.png", 1
        while name.lower() in used:
            k += 1
            name = f"{stem}-{k}_labels.png"
        used.add(name.lower())
        names.append(name)
    return names


def _gather_one(path: str, future):
    """One future's result; a lost task (its worker died) becomes that file's error, not the call's."""
    try:
        return future.result()
    except SegenError:  # version skew between client and workers: the whole call is wrong
        raise
    except Exception as exc:
        return path, None, f"{type(exc).__name__}: {exc}"


def client(
    address: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
    **kwargs,
):
    """A ``dask.distributed.Client``: to the scheduler at `address`, or to a new local cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``"tcp://host:8786"``) of an existing cluster; default a local cluster.
    n_workers : int, optional
        Local cluster: worker processes (default: the number of cores / `threads_per_worker`).
    threads_per_worker : int, optional
        Local cluster: Dask threads per worker (default 1).
    processes : bool, optional
        Local cluster: workers in processes (default) or threads of this process.
    **kwargs
        Passed to ``dask.distributed.LocalCluster``.

    Returns
    -------
    client : dask.distributed.Client
        Every worker runs segen's own kernels with ``segen.set_num_threads(1)`` when there is more than
        one task per core, so the cores are not oversubscribed (RELIABILITY D3).
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover
        raise ImportError(
            "segen.distributed.client needs dask.distributed: pip install 'segen[dist]'"
        ) from exc
    if address is not None:
        if kwargs or n_workers is not None:
            raise InvalidArgumentError(
                "`n_workers` and cluster options are for a local cluster, not `address`"
            )
        return Client(address)
    cores = os.cpu_count() or 1
    if n_workers is None:
        n_workers = max(1, cores // max(1, threads_per_worker))
    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes, **kwargs
    )
    c = Client(cluster)
    if processes:
        per = max(1, math.floor(cores / (n_workers * threads_per_worker)))
        c.run(_set_threads, per)
    return c


def _set_threads(n):
    _core.set_num_threads(check_int(n, "n", minimum=0))
