"""``segen train judge``: the digit classifier behind :mod:`segen.eval.judge` (imports torch; the ``train`` extra).

The judge is trained on the training split of :func:`segen.data.digits` only (never on generated
images, never on the held-out split), with small random shifts as augmentation, for a fixed number of
epochs (no model selection on the held-out set). It is exported to ONNX with two outputs: the class
``logits`` and the ``features`` (the penultimate layer) that Fréchet distances are measured in.
"""

from __future__ import annotations

import pathlib

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from ..data import digits
from ..onnx.sidecar import write_sidecar
from .export import onnx_parity, to_onnx
from .loop import fit, shuffled_batches

FEATURES = 64


class JudgeNet(nn.Module):
    """A small CNN for 16x16 grey digits: three conv blocks, a `features`-wide hidden layer, 10 logits."""

    def __init__(self, width: int = 32, features: int = FEATURES):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1, stride=2), nn.ReLU(),  # 8x8
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1, stride=2), nn.ReLU(),  # 4x4
            nn.Flatten(),
            nn.Linear(2 * w * 16, features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(features, 10)

    def forward(self, x):
        f = self.body(x)
        return self.head(f), f


def _shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 1) -> torch.Tensor:
    """Each image moved by a random whole-pixel offset in [-max_shift, max_shift]², zeros shifted in."""
    n, _, h, w = x.shape
    pad = nn.functional.pad(x, (max_shift,) * 4)
    off = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=gen).tolist()
    return torch.stack([pad[i, :, r : r + h, c : c + w] for i, (r, c) in enumerate(off)])


def train(
    output,
    *,
    epochs: int = 40,
    seed: int = 0,
    width: int = 32,
    batch_size: int = 64,
    lr: float = 2e-3,
    progress: bool = True,
) -> dict:
    """Train the judge and write ``digits-judge.onnx`` + ``.json`` into `output`; returns the metadata."""
    params = dict(epochs=epochs, seed=seed, width=width, batch_size=batch_size, lr=lr)  # noqa: C408
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    train_d, test_d = digits("train"), digits("test")
    model, history = _fit_judge(train_d, params, progress=progress)
    onnx_path = out / "digits-judge.onnx"
    to_onnx(model, (torch.zeros(2, 1, 16, 16),), onnx_path, inputs=["images"], outputs=["logits", "features"])
    xt = test_d.images.astype(np.float32)[:, None] / 255.0
    diff = onnx_parity(model, onnx_path, [{"images": xt}])
    if diff > 1e-4:
        raise RuntimeError(f"judge ONNX export: torch and ONNX Runtime differ by {diff:.2e} > 1e-4")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    acc = float((sess.run(["logits"], {"images": xt})[0].argmax(1) == test_d.labels).mean())
    meta = _judge_meta(model, onnx_path, params, train_d, history)
    meta["metrics"] = {
        "held_out_accuracy": round(acc, 5),
        "held_out_images": len(test_d),
        "onnx_parity_max_abs_diff": diff,
    }
    return write_sidecar(onnx_path, meta)


def _fit_judge(train_d, params: dict, *, progress: bool):
    """The judge trained with AdamW + one-cycle schedule, label smoothing and random shifts."""
    x = torch.from_numpy(train_d.images.astype(np.float32) / 255.0)[:, None]
    y = torch.from_numpy(train_d.labels)
    torch.manual_seed(params["seed"])
    gen = torch.Generator().manual_seed(params["seed"])
    model = JudgeNet(params["width"])
    opt = torch.optim.AdamW(model.parameters(), lr=params["lr"], weight_decay=1e-4)
    steps = params["epochs"] * -(-len(x) // params["batch_size"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=params["lr"], total_steps=steps)

    def step(idx, at):
        logits, _ = model(_shift(x[idx], gen))
        loss = nn.functional.cross_entropy(logits, y[idx], label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": (loss.item() * len(idx), len(idx))}

    loop = fit(
        step,
        lambda epoch: shuffled_batches(len(x), params["batch_size"], gen),
        epochs=params["epochs"],
        modules=[model],
        name="judge",
        progress=progress,
    )
    model.eval()
    return model, loop.history


def _judge_meta(model, onnx_path, params: dict, train_d, history) -> dict:
    command = "segen train judge " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in params.items())
    return {
        "name": "digits-judge",
        "task": "classification",
        "summary": "CNN digit classifier (16x16 grey) used to evaluate generators: logits and features",
        "inputs": {"images": {"shape": ["N", 1, 16, 16], "dtype": "float32"}},
        "outputs": {
            "logits": {"shape": ["N", 10], "dtype": "float32"},
            "features": {"shape": ["N", FEATURES], "dtype": "float32"},
        },
        "input_range": [0.0, 1.0],
        "classes": list(train_d.classes),
        "architecture": {"type": "judge-cnn", "width": params["width"], "features": FEATURES},
        "training": {
            "command": command,
            "params": params,
            "data": f"segen.data.digits('train', size=16): {len(train_d)} images, shifts of +-1 px",
            "torch": torch.__version__,
            "seconds": round(history.seconds, 1),
            "loss_first": round(history["loss"][0], 5),
            "loss_last": round(history["loss"][-1], 5),
        },
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx_bytes": onnx_path.stat().st_size,
    }
