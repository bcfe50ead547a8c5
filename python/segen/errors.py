"""Exceptions raised by segen.

Every segen exception derives from :class:`SegenError` *and* from the builtin that fits, so code that
catches ``ValueError`` or ``TypeError`` keeps working. Messages name the parameter in backticks, state what
was expected and what was received.
"""

from __future__ import annotations

__all__ = [
    "SegenError",
    "InvalidArgumentError",
    "DTypeError",
    "ImageReadError",
    "ImageFileNotFoundError",
    "ImageIsADirectoryError",
    "ImagePermissionError",
    "ImageLimitError",
    "UnknownModelError",
    "PluginError",
    "ModelError",
    "ModelIntegrityError",
    "ModelSignatureError",
    "UnsafeModelError",
    "ResourceLimitError",
    "SegenPluginWarning",
    "ImageReadWarning",
    "DataError",
    "DataWarning",
]


class SegenError(Exception):
    """Base class of every exception segen raises."""


class InvalidArgumentError(SegenError, ValueError):
    """A parameter has a bad value or shape (also a ``ValueError``)."""


class DTypeError(SegenError, TypeError, ValueError):
    """A parameter has an unsupported dtype or type (both a ``TypeError`` and a ``ValueError``)."""


class ImageReadError(SegenError, ValueError):
    """An image file could not be read: unknown format, truncated, corrupt, or over the pixel limit."""


class UnknownModelError(SegenError, KeyError):
    """No segmenter or generator is registered under a name, or a short name is ambiguous (also a
    ``KeyError``). The message suggests close names and the qualified ``plugin:name`` forms."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PluginError(SegenError, RuntimeError):
    """A plugin broke the rules of the plugin surface: a bad registration, a duplicate name in one plugin,
    a factory that does not return a segmenter or generator (also a ``RuntimeError``)."""


class ModelError(SegenError, RuntimeError):
    """A model file is missing, truncated, does not match its metadata or fails in ONNX Runtime (also a
    ``RuntimeError``). The message names the model file; ONNX Runtime's own error is chained."""


class ModelIntegrityError(ModelError):
    """A model's bytes (the ``.onnx`` or an external data file) do not match the digest of its metadata,
    or an external data file is missing or short: truncated, corrupt, tampered with or from another model."""


class ModelSignatureError(ModelError):
    """A model's inputs or outputs contradict its metadata or what segen needs: output channels other than
    the declared classes, a generator image with other than 1 or 3 channels, an output size that does not
    follow the input or the declared size."""


class UnsafeModelError(ModelError):
    """A model would make segen read outside its folder (an external data location with ``..``, an absolute
    path, a symlink leaving the folder): refused before any such file is opened."""


class ResourceLimitError(SegenError, ValueError, MemoryError):
    """A call would allocate more than segen's memory limit (:func:`segen.set_memory_limit`) for a size set
    by a parameter or by a value inside the data (bin counts, the largest label, a latent size), refused
    before allocating (also a ``ValueError`` and a ``MemoryError``)."""


class SegenPluginWarning(UserWarning):
    """A plugin failed to import or to register and was skipped; ``segen plugins`` shows the error."""


class ImageFileNotFoundError(ImageReadError, FileNotFoundError):
    """:func:`segen.io.imread` was given a path that does not exist (also a ``FileNotFoundError``)."""


class ImageIsADirectoryError(ImageReadError, IsADirectoryError):
    """:func:`segen.io.imread` was given a directory (also an ``IsADirectoryError``)."""


class ImagePermissionError(ImageReadError, PermissionError):
    """:func:`segen.io.imread` may not read the file (also a ``PermissionError``)."""


class ImageLimitError(ImageReadError, ResourceLimitError):
    """An image file declares more than :func:`segen.io.imread` accepts (pixels, decoded bytes, pages or
    file size), refused from its header before decoding; the message names the limit and how to raise it
    (also a ``ResourceLimitError``)."""


class ImageReadWarning(UserWarning):
    """An image file decoded, but showed corrupt data the decoder concealed: the pixels may differ from
    what was written."""


class DataError(SegenError, ValueError):
    """A data-set folder (:class:`segen.data.SegmentationFolder`) is unusable: empty, a mask missing, an
    image and its mask of different sizes, mask values beyond the declared classes, an unreadable file; the
    message names the file (also a ``ValueError``)."""


class DataWarning(UserWarning):
    """A data-set folder has something to look at that does not stop the work: files skipped with
    ``skip_bad``, a mask without its image, a class absent from the validation split."""
