"""OnnxGenerator: a generator backed by an ONNX model with a segen sidecar."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._shared.docs import fill_doc
from ..errors import ModelError, ModelSignatureError
from ..models import Generator
from ..models.generator import MAX_GENERATE
from .preprocessing import check_finite
from .session import OnnxBacked


@fill_doc
class OnnxGenerator(OnnxBacked, Generator):
    """A generator backed by an ONNX model with segen metadata (see :mod:`segen.onnx.sidecar`).

    The model's float32 input ``(N, latent_size)`` receives standard-normal latent vectors; a conditional
    model (``num_classes`` in the metadata) also has an int64 input ``(N,)`` of labels. The first output
    ``(N, C, H, W)`` or ``(N, H, W)`` is mapped from ``output_range`` (default [-1, 1]) to uint8. A model with
    a fixed batch size is run in chunks.

    Every run checks the images: 1 or 3 channels (the metadata's ``channels`` if given), the metadata's
    ``output_size`` if given, no NaN or infinity (:class:`~segen.errors.ModelSignatureError`,
    :class:`~segen.ModelError`, never noise in uint8); latent vectors `z` holding NaN or infinity are an
    :class:`~segen.InvalidArgumentError`.

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
        if (
            len(floats) + len(ints) != len(spec)
            or len(ints) > 1
            or (ints and len(spec[ints[0]]["shape"]) != 1)
        ):
            raise ModelSignatureError(
                f"model {self.model.path}: a generator takes a float latent input (N, latent_size) and "
                f"optionally an int label input (N,); the metadata lists "
                f"{ {n: (str(s['dtype']), s['shape']) for n, s in spec.items()} }"
            )
        zshape = spec[self._z]["shape"]
        if len(zshape) != 2:
            raise ModelSignatureError(
                f"model {self.model.path}: latent input must be (N, latent_size); got {zshape}"
            )
        if self.info.latent_size is not None and zshape[1] is not None and zshape[1] != self.info.latent_size:
            raise ModelSignatureError(
                f"model {self.model.path}: latent input {self._z!r} has size {zshape[1]} but the metadata's "
                f"`latent_size` is {self.info.latent_size}"
            )
        if zshape[0] is not None and zshape[0] > MAX_GENERATE:
            raise ModelError(f"model {self.model.path}: a fixed batch of {zshape[0]} is over {MAX_GENERATE}")
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
        check_finite(np.asarray(z), "z", " (or values beyond float32's range)")
        step = self._batch or n
        outs = []
        for start in range(0, n, step):
            zb = z[start : start + step]
            lb = labels[start : start + step] if labels is not None else None
            real = zb.shape[0]
            if real < step:  # pad a fixed-size batch
                zb = np.concatenate([zb, np.zeros((step - real, zb.shape[1]), np.float32)])
                lb = None if lb is None else np.concatenate([lb, np.zeros(step - real, np.int64)])
            feeds = {self._z: np.ascontiguousarray(zb, dtype=self.model.input_spec[self._z]["dtype"])}
            if self._labels is not None:
                feeds[self._labels] = lb.astype(self.model.input_spec[self._labels]["dtype"])
            out = self.model.run(feeds)[0]
            if out.ndim not in (3, 4) or out.shape[0] != step:
                raise ModelSignatureError(
                    f"model {self.model.path}: output must be ({step}, C, H, W) or ({step}, H, W) for {step} "
                    f"latent vectors; got {out.shape}"
                )
            outs.append(out[:real])
        y = np.concatenate(outs)
        self._check_output(y)
        lo, hi = self.model.metadata.get("output_range", [-1.0, 1.0])
        y = np.clip((y.astype(np.float32) - lo) / (hi - lo), 0, 1)
        y = (y * 255).round().astype(np.uint8)
        if y.ndim == 4:
            y = y.transpose(0, 2, 3, 1)
            if y.shape[3] == 1:
                y = y[..., 0]
        return np.ascontiguousarray(y)

    def _check_output(self, y: np.ndarray) -> None:
        """The model's (n, C, H, W) or (n, H, W) output against the metadata (values are checked finite by
        :meth:`OnnxModel.run <segen.onnx.OnnxModel.run>`)."""
        meta = self.model.metadata
        if y.ndim == 4:
            c = y.shape[1]
            if c not in (1, 3) or c != (meta.get("channels") or c):
                want = meta.get("channels") or "1 or 3"
                raise ModelSignatureError(
                    f"model {self.model.path}: images must have {want} channel(s); the model gives {c} "
                    f"(output {y.shape})"
                )
        size = self.info.output_size
        if size is not None and tuple(y.shape[-2:]) != tuple(size):
            raise ModelSignatureError(
                f"model {self.model.path}: images must be {size[0]} x {size[1]} (`output_size`); the model "
                f"gives {y.shape[-2]} x {y.shape[-1]}"
            )
        if y.ndim == 3 and (meta.get("channels") or 1) != 1:
            raise ModelSignatureError(
                f"model {self.model.path}: images must have {meta['channels']} channel(s); the model gives "
                f"(N, H, W) {y.shape}"
            )
