"""The front door: segmenters, generators and training recipes by name (:func:`segen.get_segmenter`, ...).

The first call loads the plugins (:func:`segen.plugins.host.get_host`); ``import segen`` does not.
"""

from __future__ import annotations

from .host import get_host
from .registry import Entry, Registry
from .user_models import load_model_file, looks_like_path

__all__ = [
    "get_segmenter",
    "get_generator",
    "list_segmenters",
    "list_generators",
    "get_trainer",
    "list_trainers",
]


def _registry() -> Registry:
    return get_host().registry


def recreate(kind: str, name: str, options: dict):
    """Make the segmenter or generator that ``get_segmenter(name, **options)`` (or ``get_generator``) makes:
    how registered objects built from local functions are unpickled in another process."""
    return _registry().create(kind, name, options)


def get_segmenter(name: str, **options):
    """Return a ready segmenter registered under `name`.

    Parameters
    ----------
    name : str or path-like
        Short name (``"kmeans"``), alias, or qualified ``"<plugin>:<name>"`` (``"builtin:kmeans"``); or the
        path of an ONNX model file with its JSON sidecar beside it (a name ending in ``.onnx``), such as
        ``segen train`` writes (see :mod:`segen.plugins.user_models`).
    **options
        Passed to the segmenter's factory (e.g. ``k=4`` for ``kmeans``; ``threads=2`` for ONNX models).

    Returns
    -------
    segmenter : segen.Segmenter
        ``segmenter.segment(image)`` gives an ``(H, W)`` int32 label image; ``segmenter.info`` describes it.

    Raises
    ------
    UnknownModelError
        If no plugin registered `name` (the message suggests close names) or the short name is ambiguous.
    InvalidArgumentError
        If an option is not one the factory accepts, or has a bad value.
    ModelError
        If the model file of an ONNX segmenter is missing, truncated or does not match its metadata.

    See Also
    --------
    list_segmenters, get_generator

    Notes
    -----
    The first call of any registry function loads the plugins (entry-point group ``segen``); a model's
    file is read, and its ONNX session made, here and not while registering.

    Examples
    --------
    >>> import numpy as np, segen
    >>> seg = segen.get_segmenter("threshold")
    >>> seg.segment(np.array([[0, 0, 200, 210]], np.uint8)).tolist()
    [[0, 0, 1, 1]]
    """
    if looks_like_path(name):
        return load_model_file("segmenter", name, options)
    return _registry().create("segmenter", name, options)


def get_generator(name: str, **options):
    """Return a ready generator registered under `name`.

    Parameters
    ----------
    name : str or path-like
        Short name, alias, or qualified ``"<plugin>:<name>"``; or the path of an ONNX model file with its
        JSON sidecar (a name ending in ``.onnx``).
    **options
        Passed to the generator's factory.

    Returns
    -------
    generator : segen.Generator
        ``generator.generate(n, seed=0)`` gives an ``(n, H, W[, C])`` uint8 array.

    Raises
    ------
    UnknownModelError
        If no plugin registered `name`, or the short name is ambiguous.
    InvalidArgumentError
        If an option is not one the factory accepts, or has a bad value.
    ModelError
        If the model file is missing, truncated or does not match its metadata.

    See Also
    --------
    list_generators, get_segmenter
    """
    if looks_like_path(name):
        return load_model_file("generator", name, options)
    return _registry().create("generator", name, options)


def _listing(kind: str) -> dict[str, str]:
    reg = _registry()
    return {
        reg.display_name(e): e.summary for e in sorted(reg.entries(kind), key=lambda e: (e.name, e.plugin))
    }


def list_segmenters() -> dict[str, str]:
    """Return the registered segmenters as ``{name: one-line description}``, sorted by name.

    A name registered by two plugins appears in its qualified forms ``<plugin>:<name>``.

    Examples
    --------
    >>> import segen
    >>> "kmeans" in segen.list_segmenters()
    True
    """
    return _listing("segmenter")


def list_generators() -> dict[str, str]:
    """Return the registered generators as ``{name: one-line description}``, sorted by name."""
    return _listing("generator")


def list_trainers() -> dict[str, str]:
    """Return the registered training recipes as ``{name: one-line description}``."""
    return _listing("trainer")


def get_trainer(name: str) -> Entry:
    """Return the registry entry of training recipe `name` (its ``factory`` is the ``train_fn``)."""
    return _registry().resolve("trainer", name)
