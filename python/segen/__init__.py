"""segen: image segmentation and generation on a fast C++ core.

Subpackages (imported on first use, so ``import segen`` stays cheap):

=============  =====================================================================
io             read and write PNG, JPEG and TIFF images (8/16 bit, grey/RGB/RGBA)
filters        convolution, Gaussian, box, Laplace/LoG, Sobel/Scharr gradients
features       Canny edges, Gabor kernels and filter banks, HSV colour histograms
color          RGB <-> grey, HSV, Lab
transform      resize, rotate, flip
cluster        k-means and DBSCAN on (N, D) data
segmentation   watershed, labelling, distance transform, Otsu, region tools and recipes
viz            display scaling, label colouring, overlays and contact sheets
runtime        ONNX models with their metadata (OnnxModel)
dense          fully convolutional ONNX segmenters, any size, overlap-tile inference
datasets       shapes, texture mosaics and handwritten digits for training and evaluation
judge          the digit classifier and measures that score generators (Fréchet distance, ...)
distributed    Dask: chunked filters and segmentation, many files on a cluster (extra "dist")
plugins        the plugin host (pluggy); registry: names of segmenters and generators
=============  =====================================================================

Segmenters and generators, segen's own and every installed plugin's, are found by name:
``segen.list_segmenters()``, ``segen.get_segmenter("kmeans", k=3).segment(image)``,
``segen.get_generator(name).generate(16, seed=0)``; plugins implement the hooks of :mod:`segen.hookspecs`
with the :data:`hookimpl` decorator.

Images are numpy arrays, (H, W) grey or (H, W, C) channels-last RGB; see the README for the conventions.
"""

from __future__ import annotations

import importlib

from .errors import (DTypeError, InvalidArgumentError, ModelError, PluginError, SegenError, SegenPluginWarning,
                     UnknownModelError)

__all__ = [
    "__version__",
    "SegenError",
    "InvalidArgumentError",
    "DTypeError",
    "UnknownModelError",
    "PluginError",
    "ModelError",
    "SegenPluginWarning",
    "set_num_threads",
    "get_num_threads",
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
    "runtime",
    "plugins",
    "registry",
    "hookspecs",
    "base",
    "io",
    "filters",
    "features",
    "color",
    "transform",
    "cluster",
    "segmentation",
    "viz",
    "dense",
    "datasets",
    "judge",
    "distributed",
    "DenseSegmenter",
]

_SUBMODULES = {"io", "filters", "features", "color", "transform", "cluster", "segmentation", "viz", "runtime",
               "plugins", "registry", "hookspecs", "base", "builtin", "dense", "datasets", "judge",
               "distributed"}
# public names that live in a submodule, imported (with pluggy, numpy, ...) only when first used
_LAZY = {
    "get_segmenter": "registry", "get_generator": "registry", "list_segmenters": "registry",
    "list_generators": "registry", "hookimpl": "hookspecs", "Segmenter": "base", "Generator": "base",
    "OnnxSegmenter": "base", "OnnxGenerator": "base", "FunctionSegmenter": "base", "ModelInfo": "base",
    "DenseSegmenter": "dense",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name == "__version__":
        from ._core import __version__

        return __version__
    raise AttributeError(f"module 'segen' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_LAZY) | {"__version__"})


def set_num_threads(n: int | None) -> None:
    """Set the number of threads segen's C++ core uses (``None`` or 0 restores the default).

    The default is the ``SEGEN_NUM_THREADS`` environment variable if set, else the number of hardware
    threads. Results never depend on the thread count.
    """
    from . import _core
    from ._validate import check_int

    _core.set_num_threads(0 if n is None else check_int(n, "n", minimum=0))


def get_num_threads() -> int:
    """Return the number of threads segen's C++ core uses."""
    from . import _core

    return _core.get_num_threads()
