"""Training utilities shared by segen's generators (the ``train`` extra): image tensors, ONNX export with a
dynamic batch, the torch-vs-ONNX Runtime parity check, sample grids, checkpoints and the sidecar JSON.

A shipped generator is an ONNX graph with a float32 input ``z`` of shape ``(N, latent_size)``, for a
conditional model an int64 input ``labels`` of shape ``(N,)``, and one output ``images`` of shape
``(N, 1, H, W)`` whose values span ``output_range`` ([-1, 1] for a tanh output, [0, 1] for a sigmoid);
:class:`segen.onnx.OnnxGenerator` maps it to uint8. The recipes (``segen train dcgan|cgan|vae``) live in
their plugins and use the functions here, which import torch (as all of :mod:`segen.training`; never
:mod:`segen` itself nor inference).
"""

from __future__ import annotations

import pathlib

import numpy as np
import torch

from ..io import imwrite
from ..onnx.sidecar import write_sidecar
from ..viz import image_grid
from .export import onnx_parity, to_onnx

__all__ = [
    "FolderImages",
    "export_generator",
    "generator_parity",
    "load_checkpoint",
    "save_checkpoint",
    "save_grid",
    "to_tensor",
    "write_generator_json",
]


def to_tensor(images: np.ndarray, output_range=(-1.0, 1.0)) -> torch.Tensor:
    """uint8 (N, H, W) or (N, H, W, 3) images -> float32 (N, C, H, W) tensor scaled linearly to
    `output_range`."""
    lo, hi = output_range
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32) / 255.0)
    x = x * (hi - lo) + lo
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()


class FolderImages:
    """A :class:`segen.data.ImageFolder` as training batches: ``batch(indices, step)`` reads the images from
    disk (through the folder's cache) and returns ``(images (n, C, size, size) float32 in `output_range`,
    labels (n,) int64)`` on `device`. A ``crop="random"`` window is drawn from a generator seeded by
    ``(seed, step)``, so a resumed run draws the same windows as an uninterrupted one."""

    def __init__(self, folder, *, seed: int, device=None, output_range=(-1.0, 1.0)):
        self.folder, self.seed, self.output_range = folder, int(seed), output_range
        self.device = torch.device("cpu") if device is None else device

    def __len__(self) -> int:
        return len(self.folder)

    def batch(self, indices, step: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The images and labels of `indices` (a bad file skipped with ``skip_bad`` is left out)."""
        rng = np.random.default_rng([self.seed, int(step)])
        images, labels = self.folder.batch(np.asarray(indices).tolist(), rng)
        x = to_tensor(images, self.output_range)
        return x.to(self.device), torch.from_numpy(labels).to(self.device)

    def record(self, root_label: str | None = None) -> dict:
        """What the sidecar says about the data: folder, classes, size, crop, channels, fingerprint and the
        files skipped or enlarged."""
        f = self.folder
        return {
            "folder": root_label or f.root.name,
            "classes": list(f.classes),
            "images": len(f),
            "size": f.size,
            "channels": f.channels,
            "crop": f"short side resized to {f.size}, then the {f.crop} {f.size} x {f.size} window",
            "fingerprint": f.fingerprint(),
            "skipped": list(f.skipped),
            "upsampled": f.upsampled,
        }


def _inputs(latent_size: int, num_classes: int | None, n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, latent_size, generator=gen)
    if not num_classes:
        return (z,)
    return z, torch.randint(0, num_classes, (n,), generator=gen)


def export_generator(
    model: torch.nn.Module,
    path,
    *,
    latent_size: int,
    num_classes: int | None = None,
    props: dict | None = None,
) -> None:
    """Export ``model(z[, labels]) -> images`` to ONNX with a dynamic batch; run onnx.checker; store `props`
    as ``segen.<key>`` metadata properties (JSON values)."""
    dummy = _inputs(latent_size, num_classes, 2, 0)
    to_onnx(model, dummy, path, inputs=["z", "labels"][: len(dummy)], outputs=["images"], props=props)


def generator_parity(
    model: torch.nn.Module,
    path,
    *,
    latent_size: int,
    num_classes: int | None = None,
    batches=(1, 7, 64),
    seed: int = 0,
) -> float:
    """Largest absolute difference between torch and ONNX Runtime outputs for the same latent inputs
    (batch sizes `batches`)."""
    feeds = []
    for i, n in enumerate(batches):
        args = _inputs(latent_size, num_classes, n, seed + i)
        feeds.append(dict(zip(("z", "labels"), (a.numpy() for a in args))))
    return onnx_parity(model, path, feeds)


def save_grid(images: np.ndarray, path, *, columns: int | None = None, scale: int = 2) -> None:
    """Write uint8 (N, H, W) images as one PNG grid, each pixel drawn `scale` x `scale`."""

    big = np.repeat(np.repeat(np.asarray(images), scale, axis=1), scale, axis=2)
    imwrite(pathlib.Path(path), image_grid(big, columns=columns))


def save_checkpoint(path, *, epoch: int, **state) -> None:
    """Save modules' and optimisers' ``state_dict()`` (keyword arguments) with the epoch to `path`."""
    torch.save({"epoch": epoch, **{k: v.state_dict() for k, v in state.items()}}, str(path))


def load_checkpoint(path, **state) -> int:
    """Load a :func:`save_checkpoint` file into the given modules/optimisers; returns its epoch."""
    ckpt = torch.load(str(path), weights_only=True)
    for k, v in state.items():
        v.load_state_dict(ckpt[k])
    return int(ckpt["epoch"])


def write_generator_json(
    onnx_path,
    *,
    name: str,
    summary: str,
    latent_size: int,
    num_classes: int | None,
    image_size: int,
    output_range=(-1.0, 1.0),
    architecture: dict,
    training: dict,
    metrics: dict,
    parameters: int,
    extra: dict | None = None,
    channels: int = 1,
    classes=None,
) -> dict:
    """Write ``<name>.json`` beside `onnx_path` (DESIGN.md's sidecar: sha256, input/output specs, latent
    size, classes, output range, provenance, held-out metrics); returns the metadata. `classes` are the
    class names of a conditional model (default "0", "1", ...), `channels` those of its images."""

    onnx_path = pathlib.Path(onnx_path)
    inputs = {"z": {"shape": ["N", latent_size], "dtype": "float32"}}
    if num_classes:
        inputs["labels"] = {"shape": ["N"], "dtype": "int64"}
    meta = {
        "name": name,
        "task": "generation",
        "summary": summary,
        "inputs": inputs,
        "outputs": {"images": {"shape": ["N", channels, image_size, image_size], "dtype": "float32"}},
        "latent_size": latent_size,
        **(
            {
                "num_classes": num_classes,
                "classes": [str(k) for k in (classes if classes is not None else range(num_classes))],
            }
            if num_classes
            else {}
        ),
        "channels": int(channels),
        "output_size": [image_size, image_size],
        "output_range": [float(v) for v in output_range],
        "architecture": architecture,
        "training": training,
        "metrics": metrics,
        "parameters": int(parameters),
        "onnx_bytes": onnx_path.stat().st_size,
        **(extra or {}),
    }
    return write_sidecar(onnx_path, meta)
