"""The Segmenter base class and FunctionSegmenter, which wraps a plain function."""

from __future__ import annotations

import abc
from typing import Callable

import numpy as np

from .._shared.validation import check_bool, check_image
from ..errors import PluginError
from .info import ModelInfo


def _check_image(image, channel_axis):

    arr, _ = check_image(image, "image", channel_axis=channel_axis)
    return arr


class Segmenter(abc.ABC):
    """Base class of segmenters: ``segment(image) -> (H, W) int32 labels``.

    Subclasses set :attr:`info` and implement :meth:`_segment`. Labels are int32, 0 = background or
    unlabelled; what the other values mean is ``info.labels``: class indices (``"classes"``, the default;
    see ``info.classes``) or objects (``"instances"``: each object its own id, as the built-in
    ``watershed`` gives).
    """

    info: ModelInfo = ModelInfo(name="", task="segmentation")

    def segment(self, image, *, channel_axis: int | None = -1) -> np.ndarray:
        """Segment one image.

        Parameters
        ----------
        image : (H, W) or (H, W, C) ndarray
            Grey or multichannel image, uint8, uint16 or float (floats in [0, 1]).
        channel_axis : int or None, optional
            Axis of the channels of a 3-D image (default -1).

        Returns
        -------
        labels : (H, W) ndarray of int32

        Raises
        ------
        InvalidArgumentError
            If `image` is empty or not 2-D/3-D.
        DTypeError
            If `image` is not numeric.
        """
        arr = _check_image(image, channel_axis)
        labels = np.asarray(self._segment(arr))
        if labels.shape != arr.shape[:2]:
            raise PluginError(
                f"segmenter {self.info.name!r} returned labels of shape {labels.shape} for an image "
                f"of shape {arr.shape[:2]}"
            )
        if labels.dtype != np.int32:
            if labels.dtype.kind not in "biu":
                raise PluginError(
                    f"segmenter {self.info.name!r} returned {labels.dtype} labels; integers expected"
                )
            labels = labels.astype(np.int32)
        return labels

    @abc.abstractmethod
    def _segment(self, image: np.ndarray) -> np.ndarray:
        """Segment a checked image: C-contiguous, (H, W) or (H, W, C) channels last, a core dtype."""

    @property
    def instances(self) -> bool:
        """Whether the labels are instances (each object its own id, 0 = background) rather than classes."""
        return self.info.instances

    def sample_input(self) -> np.ndarray | None:
        """An image this segmenter is meant for (the demo uses it); None for the default sample scene."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name!r}>"


class FunctionSegmenter(Segmenter):
    """A segmenter made from a function ``fn(image, **options) -> labels or bool mask``.

    A bool mask becomes labels 0/1. `options` are passed to `fn` and shown in ``info.options``; `sample`
    returns the image :meth:`sample_input` gives; ``instances=True`` says that `fn` returns instances (each
    object its own id) rather than classes. Used by the built-in classical methods; handy for plugins.
    """

    def __init__(
        self,
        fn: Callable,
        *,
        name: str,
        summary: str = "",
        class_names=(),
        options: dict | None = None,
        sample: Callable | None = None,
        instances: bool = False,
    ):
        self._fn = fn
        self._options = dict(options or {})
        self._sample = sample
        self.info = ModelInfo(
            name=name,
            task="segmentation",
            summary=summary,
            classes=tuple(class_names),
            labels="instances" if check_bool(instances, "instances") else "classes",
            options=dict(self._options),
        )

    #: (callable, args) that makes this segmenter again in another process, set by the registry when
    #: ``segen.get_segmenter`` made it: it pickles as its registered name and options (its function is
    #: often local to the factory). A FunctionSegmenter made directly pickles only if its function does.
    _recreate = None

    def __reduce__(self):
        if self._recreate is not None:
            return self._recreate
        return super().__reduce__()

    def _segment(self, image):
        return self._fn(image, **self._options)

    def sample_input(self):
        return self._sample() if self._sample is not None else None
