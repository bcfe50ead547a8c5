"""OnnxGenerator: a generator backed by an ONNX model with a segen sidecar."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._shared.docs import fill_doc
from ..errors import ModelError
from ..models import Generator
from .session import OnnxBacked


@fill_doc
class OnnxGenerator(OnnxBacked, Generator):
    """A generator backed by an ONNX model with segen metadata (see :mod:`segen.onnx.sidecar`).

    The model's float32 input ``(N, latent_size)`` receives standard-normal latent vectors; a conditional
    model (``num_classes`` in the metadata) also has an int64 input ``(N,)`` of labels. The first output
    ``(N, C, H, W)`` or ``(N, H, W)`` is mapped from ``output_range`` (default [-1, 1]) to uint8. A model with
    a fixed batch size is run in chunks.

    Parameters
    ----------
    %(onnx_model)s
    """

    task = "generation"

    def __init__(self, path=None, *, threads: int | None = None, providers=("CPUExecutionProvider",)):
        self._load(path, threads, providers)
        spec = self.model.input_spec
        floats = [n for n, s in spec.items() if s["dtype"].kind == "f"]
        ints = [n for n, s in spec.items() if s["dtype"].kind in "iu"]
        if len(floats) != 1:
            raise ModelError(
                f"model {self.model.path}: a generator needs one float latent input; got {list(spec)}"
            )
        self._z = floats[0]
        self._labels = ints[0] if ints else None
        zshape = spec[self._z]["shape"]
        if self.info.latent_size is None:
            if len(zshape) != 2 or zshape[1] is None:
                raise ModelError(f"model {self.model.path}: no `latent_size` in the metadata")
            self.info = dataclasses.replace(self.info, latent_size=int(zshape[1]))
        if (self._labels is not None) != bool(self.info.num_classes):
            raise ModelError(
                f"model {self.model.path}: `num_classes` in the metadata and a label input must go together"
            )
        self._batch = zshape[0]

    def _generate(self, n, *, rng, labels, z):
        if z is None:
            z = np.asarray(self._draw(n, rng, labels), dtype=np.float32)
        step = self._batch or n
        outs = []
        for start in range(0, n, step):
            zb = z[start : start + step]
            lb = labels[start : start + step] if labels is not None else None
            real = zb.shape[0]
            if real < step:  # pad a fixed-size batch
                zb = np.concatenate([zb, np.zeros((step - real, zb.shape[1]), np.float32)])
                lb = None if lb is None else np.concatenate([lb, np.zeros(step - real, np.int64)])
            feeds = {self._z: np.ascontiguousarray(zb)}
            if self._labels is not None:
                feeds[self._labels] = lb.astype(self.model.input_spec[self._labels]["dtype"])
            outs.append(self.model.run(feeds)[0][:real])
        y = np.concatenate(outs)
        lo, hi = self.model.metadata.get("output_range", [-1.0, 1.0])
        y = np.clip((y.astype(np.float32) - lo) / (hi - lo), 0, 1)
        y = (y * 255).round().astype(np.uint8)
        if y.ndim == 4:
            y = y.transpose(0, 2, 3, 1)
            if y.shape[3] == 1:
                y = y[..., 0]
        return np.ascontiguousarray(y)
