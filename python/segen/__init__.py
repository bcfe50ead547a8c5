"""segen: image segmentation and generation on a fast C++ core.

Subpackages (imported on first use, so ``import segen`` stays cheap), from the top layer down; a layer
imports only from layers below it (``docs/architecture.md``):

=============  =========================================================================================
cli            the ``segen`` command (click), one module per command
distributed    Dask: chunked filters and segmentation, many files on a cluster (extra "dist")
plugins        the plugin host (pluggy), registry, built-in plugin and the ``get_segmenter`` front door
training       PyTorch training, ONNX export and int8 (extra "train"; the only place torch is imported)
eval           segmentation scores and the digit judge that scores generators
metrics        segmentation scores, semantic and instance (the module segen.eval.metrics)
onnx           ONNX models: sidecar, session, preprocessing, OnnxSegmenter/DenseSegmenter/OnnxGenerator
models         Segmenter, Generator, ModelInfo, FunctionSegmenter (no ONNX Runtime)
data           data sets: shapes, texture mosaics, handwritten digits
segmentation   watershed, labelling, distance transform, thresholds, region tools and recipes
io, viz        image files (PNG, JPEG, TIFF; 8/16 bit); display scaling, overlays, contact sheets
filters        convolution, Gaussian, box, Laplace/LoG, Sobel/Scharr gradients
features       Canny edges, Gabor kernels and filter banks, HSV colour histograms
color          RGB <-> grey, HSV, Lab
transform      resize, rotate, flip
cluster        k-means and DBSCAN on (N, D) data
=============  =========================================================================================

Segmenters and generators, segen's own and every installed plugin's, are found by name:
``segen.list_segmenters()``, ``segen.get_segmenter("kmeans", k=3).segment(image)``,
``segen.get_generator(name).generate(16, seed=0)``; plugins implement the hooks of
:mod:`segen.plugins.hookspecs` with the :data:`hookimpl` decorator.

Images are numpy arrays, (H, W) grey or (H, W, C) channels-last RGB; see the README for the conventions.
"""

from __future__ import annotations

import importlib
import os

from .errors import (
    DTypeError,
    InvalidArgumentError,
    ModelError,
    PluginError,
    ResourceLimitError,
    SegenError,
    SegenPluginWarning,
    UnknownModelError,
)

__all__ = [
    "__version__",
    "SegenError",
    "InvalidArgumentError",
    "DTypeError",
    "UnknownModelError",
    "PluginError",
    "ModelError",
    "ResourceLimitError",
    "SegenPluginWarning",
    "set_num_threads",
    "get_num_threads",
    "set_scratch_cache_limit",
    "get_scratch_cache_limit",
    "set_memory_limit",
    "get_memory_limit",
    "get_segmenter",
    "get_generator",
    "list_segmenters",
    "list_generators",
    "hookimpl",
    "Segmenter",
    "Generator",
    "OnnxSegmenter",
    "OnnxGenerator",
    "FunctionSegmenter",
    "ModelInfo",
    "register_shipped_models",
    "plugins",
    "onnx",
    "models",
    "data",
    "eval",
    "metrics",
    "io",
    "filters",
    "features",
    "color",
    "transform",
    "cluster",
    "segmentation",
    "viz",
    "distributed",
    "DenseSegmenter",
]

_SUBMODULES = frozenset(
    "io filters features color transform cluster segmentation viz data models onnx eval metrics training "
    "plugins distributed cli".split()
)
# public names that live in a subpackage, imported (with pluggy, numpy, ...) only when first used
_LAZY = {
    "get_segmenter": "plugins",
    "get_generator": "plugins",
    "list_segmenters": "plugins",
    "list_generators": "plugins",
    "hookimpl": "plugins",
    "register_shipped_models": "plugins",
    "Segmenter": "models",
    "Generator": "models",
    "FunctionSegmenter": "models",
    "ModelInfo": "models",
    "OnnxSegmenter": "onnx",
    "OnnxGenerator": "onnx",
    "DenseSegmenter": "onnx",
}
# segen 0.1's module names (segen.datasets, ...): one-line modules in _moved/ that import the new module with
# a DeprecationWarning (segen._shared.moved); the folder is on the package's path, so they import as before
_MOVED = frozenset(
    "runtime base dense datasets judge registry hookspecs builtin gen_training judge_training".split()
)
__path__.append(os.path.join(__path__[0], "_moved"))


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _MOVED:
        return importlib.import_module(f"{__name__}.{name}")  # segen/_moved/<name>.py: warns once
    if name == "__version__":
        from ._core import __version__

        return __version__
    raise AttributeError(f"module 'segen' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_LAZY) | {"__version__"})


def set_num_threads(n: int | None) -> None:
    """Set the number of threads segen's C++ core uses (``None`` or 0 restores the default).

    The default is the ``SEGEN_NUM_THREADS`` environment variable if set, else the number of hardware
    threads. At most 1024 (``segen._core.MAX_THREADS``; the environment variable is capped there). Results
    never depend on the thread count.
    """
    from . import _core
    from ._shared.validation import check_int

    _core.set_num_threads(0 if n is None else check_int(n, "n", minimum=0, maximum=_core.MAX_THREADS))


def set_scratch_cache_limit(nbytes: int | str | None) -> None:
    """Set how many bytes of large scratch buffers segen keeps between calls for reuse (0 keeps none).

    The float watershed needs scratch arrays as large as the image, and results of 4 MiB or more have their
    own memory. A fresh array of that size is fresh memory pages, which the operating system maps and zeroes
    on first touch (about a tenth of a float watershed on a 1212 x 1536 image, more than half of an
    ``rgb2hsv`` of a 2048 x 2048 float32 photo); up to this many bytes of released buffers and results (four
    at most) are kept instead, so a loop over images of one size pays that once. ``nbytes`` is an int or a
    string such as ``"256M"``; ``None`` restores the default: ``SEGEN_SCRATCH_CACHE`` if set, else 64 MiB.
    Lowering the limit frees what it no longer allows, and 0 frees every kept buffer. A buffer larger than
    the limit is never kept.
    """
    from . import _core
    from ._shared.limits import parse_size
    from ._shared.validation import check_int

    if nbytes is None:
        value = _core.default_scratch_cache_limit()
    elif isinstance(nbytes, str):
        value = 0 if nbytes.strip() == "0" else parse_size(nbytes, "nbytes")
    else:
        value = check_int(nbytes, "nbytes", minimum=0)
    value = check_int(value, "nbytes", maximum=2**63 - 1)
    _core.set_scratch_cache_limit(value)


def get_scratch_cache_limit() -> int:
    """Return the limit of :func:`set_scratch_cache_limit`, in bytes."""
    from . import _core

    return _core.scratch_cache_limit()


def set_memory_limit(nbytes) -> None:
    """Set the budget for allocations sized by a parameter or by values in the data (bytes, or ``"8G"``).

    Bin counts, the largest label, a model's declared sizes and the like are checked against it before
    anything is allocated; over it, the call raises :class:`~segen.errors.ResourceLimitError` naming the
    parameter. The default is ``SEGEN_MEMORY_LIMIT`` if set, else 4 GiB; ``None`` restores it. Arrays that
    are as large as the input (a filtered image) are not counted.
    """
    from ._shared.limits import set_memory_limit as _set

    _set(nbytes)


def get_memory_limit() -> int:
    """Return the budget of :func:`set_memory_limit`, in bytes."""
    from ._shared.limits import get_memory_limit as _get

    return _get()


def get_num_threads() -> int:
    """Return the number of threads segen's C++ core uses."""
    from . import _core

    return _core.get_num_threads()
