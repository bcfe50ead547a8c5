"""ONNX segmenters: :class:`OnnxSegmenter` resizes the image to the model's one input size;
:class:`DenseSegmenter`, for fully convolutional models, takes any size (padded to the stride) and runs
overlap-tile inference.

:class:`DenseSegmenter` runs a model whose ONNX input is ``(N, C, H, W)`` with free H and W and whose
metadata gives its ``stride`` (H and W must be multiples of it: the U-Net and FCN plugins' models). The
image is padded by reflection up to the next multiple of the stride, normalised with the metadata's
``mean``/``std``, and the labels are cropped back: no resizing, so the labels are at full resolution.

Large images are cut into tiles with a margin (overlap-tile inference): each tile is run with `margin`
extra pixels of context on every side that has an image there, and only its centre is kept, so memory is
bounded by the tile size while the result has no seams. Tiles start on the stride grid so the pooling
layers see the same pixel groups as in a whole-image run; with a margin at least as large as the network's
receptive-field radius the labels equal the whole-image ones exactly.

Torch is never imported here.
"""

from __future__ import annotations

import numpy as np

from .._shared.docs import fill_doc
from .._shared.validation import check_image, check_int
from ..errors import InvalidArgumentError, ModelError, ModelSignatureError
from ..models import Segmenter
from .preprocessing import check_finite, nearest_resize, normalise
from .session import OnnxBacked

__all__ = ["OnnxSegmenter", "DenseSegmenter"]


@fill_doc
class OnnxSegmenter(OnnxBacked, Segmenter):
    """A segmenter backed by an ONNX model with segen metadata (see :mod:`segen.onnx.sidecar`).

    The model takes one float32 input ``(N, C, H, W)``: the image is scaled to [0, 1], made grey or RGB to
    match ``channels``, resized to ``input_size`` (bilinear), normalised with ``mean``/``std``. The first
    output ``(N, K, H, W)`` holds per-class scores (label = argmax, an index into ``classes``); with K = 1 it
    is a foreground score thresholded at the metadata's ``threshold`` (default 0). Labels are resized back
    to the image (nearest).

    Every run checks the scores: K must be the number of ``classes`` in the metadata (or 1 for two
    classes), H and W the input's, and no score NaN or infinite (:class:`~segen.errors.ModelSignatureError`,
    :class:`~segen.ModelError`); an image holding NaN or infinity is an
    :class:`~segen.InvalidArgumentError` naming `image`.

    Parameters
    ----------
    %(onnx_model)s
    %(onnx_sample)s
    """

    task = "segmentation"

    def __init__(
        self, path=None, *, threads: int | None = None, providers=("CPUExecutionProvider",), sample=None
    ):
        shape = self._open(path, threads, providers, sample)
        size = self.info.input_size or (shape[2], shape[3])
        if size[0] is None or size[1] is None:
            raise ModelError(f"model {self.model.path}: no `input_size` in the metadata and no fixed H, W")
        self._size = (int(size[0]), int(size[1]))

    def _open(self, path, threads, providers, sample) -> list:
        """Load the model, check its (N, C, H, W) image input and set the channels; returns that shape."""
        self._load(path, threads, providers)
        self._sample = sample
        (self._input,) = self.model.input_names[:1]
        spec = self.model.input_spec[self._input]
        shape = spec["shape"]
        if len(shape) != 4:
            raise ModelError(f"model {self.model.path}: segmenter input must be (N, C, H, W); got {shape}")
        self._channels = int(self.info.channels or shape[1] or 3)
        if spec["dtype"] != np.float32 or shape[0] not in (None, 1) or shape[1] not in (None, self._channels):
            raise ModelSignatureError(
                f"model {self.model.path}: segmenter input {self._input!r} must be float32 (N, "
                f"{self._channels}, H, W) with a free or 1 batch; the metadata says {spec['dtype']} {shape}"
            )
        size = self.info.input_size
        if size is not None and any(d is not None and d != s for d, s in zip(shape[2:], size)):
            raise ModelSignatureError(
                f"model {self.model.path}: `input_size` {list(size)} contradicts the input shape {shape}"
            )
        return shape

    def sample_input(self):
        """``sample()`` if a `sample` callable was given (shipped models get one drawing from their training
        data set), else None (the default sample scene)."""
        return self._sample() if self._sample is not None else None

    def _check_scores(self, scores: np.ndarray, size) -> None:
        """(1, K, H, W) scores against the metadata's classes and the input's size (H, W)."""
        if scores.ndim != 4 or scores.shape[0] != 1:
            raise ModelSignatureError(
                f"model {self.model.path}: output must be (1, K, {size[0]}, {size[1]}); got {scores.shape}"
            )
        k, n = scores.shape[1], len(self.info.classes)
        if n and k != n and not (k == 1 and n == 2):
            raise ModelSignatureError(
                f"model {self.model.path}: output has {k} channels but the metadata names {n} classes "
                f"{list(self.info.classes)[:8]}"
            )
        if tuple(scores.shape[2:]) != tuple(size):
            raise ModelSignatureError(
                f"model {self.model.path}: output must be (1, K, {size[0]}, {size[1]}) for an input of "
                f"{size[0]} x {size[1]}; got {scores.shape}"
            )

    def _segment(self, image):
        check_finite(image, "image")
        x = normalise(
            image,
            channels=self._channels,
            mean=self.info.mean,
            std=self.info.std,
            size=self._size,
            name=self.info.name,
        )
        batch = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
        scores = self.model.run({self._input: batch})[0]
        self._check_scores(scores, self._size)
        if scores.shape[1] == 1:
            labels = (scores[0, 0] > float(self.model.metadata.get("threshold", 0.0))).astype(np.int32)
        else:
            labels = np.argmax(scores[0], axis=0).astype(np.int32)
        return nearest_resize(labels, image.shape[:2])


def _round_up(v: int, m: int) -> int:
    return -(-v // m) * m


@fill_doc
class DenseSegmenter(OnnxSegmenter):
    """A segmenter for fully convolutional ONNX models with a ``stride`` in their metadata.

    Parameters
    ----------
    %(onnx_model)s
    %(onnx_sample)s
    tile : int, optional
        Images with more than ``tile * tile`` pixels are segmented in tiles of ``tile`` x ``tile`` (rounded
        up to the stride). Default 512.
    margin : int, optional
        Context added around each tile (rounded up to the stride, at least one stride). Default: the
        metadata's ``receptive_margin`` (measured at export), else 64.

    Raises
    ------
    ModelError
        If the model's metadata lacks a positive integer ``stride`` or the input is not 4-D.
    InvalidArgumentError
        If `tile` or `margin` is not a positive int.

    Notes
    -----
    Unlike :class:`segen.OnnxSegmenter`, the image is not resized to a fixed input size. Images smaller
    than the metadata's ``min_size`` (default the stride) in either dimension are refused.
    """

    def __init__(
        self,
        path=None,
        *,
        threads=None,
        providers=("CPUExecutionProvider",),
        tile: int = 512,
        margin: int | None = None,
        sample=None,
    ):
        shape = self._open(path, threads, providers, sample)
        if shape[2] is not None or shape[3] is not None:
            raise ModelSignatureError(
                f"model {self.model.path}: a dense segmenter's input must have free H and W; the metadata "
                f"says {shape}"
            )
        meta = self.model.metadata
        stride = meta.get("stride")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ModelError(
                f"model {self.model.path}: metadata `stride` must be a positive int; got {stride!r}"
            )
        self.stride = stride
        self.min_size = int(meta.get("min_size", stride))
        self.tile = _round_up(check_int(tile, "tile", minimum=1), stride)
        margin = (
            int(meta.get("receptive_margin", 64))
            if margin is None
            else check_int(margin, "margin", minimum=0)
        )
        self.margin = max(_round_up(margin, stride), stride)

    # -- preparation -------------------------------------------------------------------------------------

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        """(h, w[, C]) image -> normalised float32 (h, w, channels), not padded."""
        return normalise(
            image, channels=self._channels, mean=self.info.mean, std=self.info.std, name=self.info.name
        )

    def _check_size(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        if h < self.min_size or w < self.min_size:
            raise InvalidArgumentError(
                f"`image` must be at least {self.min_size}x{self.min_size} for {self.info.name!r}; got {h}x{w}"
            )

    def _window(self, image: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Network input (C, r1-r0, c1-c0) for rows r0:r1, cols c0:c1 of the image padded by reflection
        up to the stride; only that window is converted, so memory follows the window size."""
        h, w = image.shape[:2]
        x = self._normalise(image[r0 : min(r1, h), c0 : min(c1, w)])
        ph, pw = r1 - min(r1, h), c1 - min(c1, w)
        if ph or pw:  # the same rows/cols as a reflection of the whole image (the window reaches them)
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect" if min(x.shape[:2]) > 1 else "edge")
        return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """(H, W[, C]) image -> normalised float32 (C, H', W') padded up to multiples of the stride."""
        self._check_size(image)
        h, w = image.shape[:2]
        return self._window(image, 0, _round_up(h, self.stride), 0, _round_up(w, self.stride))

    def _run(self, x: np.ndarray) -> np.ndarray:
        out = self.model.run({self._input: x[None]})[0]
        self._check_scores(out, x.shape[1:])
        return out[0]

    # -- inference ---------------------------------------------------------------------------------------

    def logits(self, image, *, tile: int | None = None) -> np.ndarray:
        """Per-class scores ``(K, H, W)`` float32 of an image (checked like :meth:`segment`).

        With `tile` (rounded up to the stride) the scores are computed tile by tile with the segmenter's
        margin; the default runs the whole image at once.
        """
        arr, _ = check_image(image, "image", channel_axis=-1)
        check_finite(arr, "image")
        h, w = arr.shape[:2]
        if tile is None:
            return self._run(self.prepare(arr))[:, :h, :w]
        self._check_size(arr)
        return self._tiled(arr, _round_up(tile, self.stride), lambda s: s)

    def _tiled(self, image: np.ndarray, tile: int, reduce) -> np.ndarray:
        """Overlap-tile inference: `reduce` of the scores of each tile's centre, stitched, (..., H, W)."""
        h, w = image.shape[:2]
        hp, wp = _round_up(h, self.stride), _round_up(w, self.stride)
        m = self.margin
        out = None
        for y0 in range(0, h, tile):
            y1 = min(y0 + tile, hp)
            a, b = max(0, y0 - m), min(hp, y1 + m)
            for x0 in range(0, w, tile):
                x1 = min(x0 + tile, wp)
                c, d = max(0, x0 - m), min(wp, x1 + m)
                part = reduce(self._run(self._window(image, a, b, c, d)))
                if out is None:
                    out = np.empty(part.shape[:-2] + (h, w), part.dtype)
                yk, xk = min(y1, h), min(x1, w)
                out[..., y0:yk, x0:xk] = part[..., y0 - a : yk - a, x0 - c : xk - c]
        return out

    def _segment(self, image):
        h, w = image.shape[:2]
        self._check_size(image)
        check_finite(image, "image")
        if _round_up(h, self.stride) * _round_up(w, self.stride) > self.tile * self.tile:
            return self._tiled(image, self.tile, lambda s: np.argmax(s, axis=0).astype(np.int32))
        labels = np.argmax(self._run(self.prepare(image)), axis=0).astype(np.int32)
        return np.ascontiguousarray(labels[:h, :w])
