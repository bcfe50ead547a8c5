"""The nuclei segmenter at inference: ONNX Runtime + numpy + segen's core (never torch)."""

from __future__ import annotations

import numpy as np
import segen
from segen.errors import InvalidArgumentError
from segen.onnx import DenseSegmenter

from .post import PERCENTILES, instances, normalise


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    c = image.shape[2]
    if c == 1:
        return image[..., 0]
    if c in (3, 4):  # RGB(A): grey, alpha dropped
        return segen.color.rgb2gray(np.ascontiguousarray(image[..., :3]))
    raise InvalidArgumentError(f"`image` must be grey, RGB or RGBA for the nuclei model; got {c} channels")


class NucleiSegmenter(DenseSegmenter):
    """Nuclei instances from a three-class (background / interior / boundary) ONNX network.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file (its ``.json`` sidecar beside it).
    threads : int, optional
        ONNX Runtime intra-op threads.
    tile : int, optional
        Images with more than ``tile * tile`` pixels run in overlapping tiles (default 1024).
    threshold, min_marker, min_size : optional
        Post-processing (:func:`segen_nuclei.post.instances`); default from the sidecar.
    """

    def __init__(self, path=None, *, threads=None, tile: int = 1024, sample=None, **post):
        super().__init__(path, threads=threads, tile=tile, margin=64, sample=sample or self._default_sample)
        meta = self.model.metadata
        self.percentiles = tuple((meta.get("normalisation") or {}).get("percentiles", PERCENTILES))
        defaults = {k: v for k, v in (meta.get("postprocessing") or {}).items() if k != "kind"}
        unknown = set(post) - set(defaults)
        if unknown:
            raise InvalidArgumentError(
                f"unknown option(s) {sorted(unknown)}; the nuclei model takes {sorted(defaults)}"
            )
        self.post = {**defaults, **post}

    @staticmethod
    def _default_sample():
        return segen.data.nuclei(1, size=256, seed=7).images[0]

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        return image[..., None].astype(np.float32, copy=False)  # already normalised by probabilities()

    def probabilities(self, image) -> np.ndarray:
        """(3, H, W) float32 softmax probabilities of background, interior and boundary."""
        arr = np.asarray(image)
        if arr.ndim not in (2, 3) or arr.size == 0 or arr.dtype.kind not in "buif":
            raise InvalidArgumentError(
                f"`image` must be a non-empty numeric (H, W) or (H, W, C) array; got {arr.dtype} {arr.shape}"
            )
        grey = normalise(_grey(arr), self.percentiles)
        self._check_size(grey)
        h, w = grey.shape

        def softmax(s):
            e = np.exp(s - s.max(0, keepdims=True))
            return e / e.sum(0, keepdims=True)

        if -(-h // self.stride) * -(-w // self.stride) * self.stride**2 > self.tile * self.tile:
            return self._tiled(grey, self.tile, softmax)
        return softmax(self._run(self.prepare(grey))[:, :h, :w])

    def _segment(self, image):
        return instances(self.probabilities(image), **self.post)
