"""``segen train nuclei``: the nuclei instance segmenter's recipe (imports torch; needs the ``train`` extra).

Data: :func:`segen.data.nuclei` images (seed ``seed``: training and validation; ``seed + 1000``: the
held-out test set, disjoint seeds), normalised per image by percentiles (:func:`segen_nuclei.post.normalise`)
and turned into three classes (background / interior / boundary). Loss: cross-entropy (boundary weighted
x2) + soft Dice; Adam with a one-cycle schedule; random flips and rotations by 90 degrees and a random
gamma. The weights with the best validation AP@0.5 (after the real post-processing) are kept. Then: ONNX
export (dynamic H and W) + parity check, an int8 variant (static QDQ), and held-out instance scores of
both through ONNX Runtime in the sidecars.
"""

from __future__ import annotations

import pathlib
import time

import numpy as np
import onnxruntime as ort
import segen
import torch
import torch.nn.functional as F
from segen.onnx import load_metadata, write_sidecar
from segen.training import (
    BestWeights,
    EarlyStopping,
    dice_loss,
    export_onnx,
    fit,
    parity,
    quantize_static_int8,
    shuffled_batches,
    torch_threads,
)

from .net import NucleiNet
from .post import CLASSES, PERCENTILES, instances, normalise, targets

NAME = "unet-nuclei"


def make_data(n: int, size: int, seed: int):
    """(x (N, 1, size, size) float32 normalised, instance labels (N, size, size) int32)."""
    d = segen.data.nuclei(n, size=size, seed=seed)
    x = np.stack([normalise(im) for im in d.images])[:, None]
    return np.ascontiguousarray(x, dtype=np.float32), d.labels


def _augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
    """One random flip / rotation by 90 degrees per batch, and a random gamma per image."""
    op = int(torch.randint(0, 8, (1,), generator=gen))
    if op & 4:
        x, y = x.flip(-1), y.flip(-1)
    if op & 3:
        x, y = torch.rot90(x, op & 3, (-2, -1)), torch.rot90(y, op & 3, (-2, -1))
    gamma = torch.exp(torch.empty(x.shape[0], 1, 1, 1).uniform_(-0.4, 0.4, generator=gen))
    x = x.clamp(min=0) ** gamma + (x - x.clamp(min=0))
    return x.contiguous(), y.contiguous()


@torch.no_grad()
def probabilities(model, x: np.ndarray, batch_size: int = 16) -> np.ndarray:
    model.eval()
    return np.concatenate(
        [
            model(torch.from_numpy(x[s : s + batch_size])).softmax(1).numpy()
            for s in range(0, len(x), batch_size)
        ]
    )


def score(prob: np.ndarray, truth: np.ndarray) -> dict:
    """Mean over images of AP@0.5 and the DSB mean AP (0.50:0.95) after :func:`instances`."""
    ap, dsb = [], []
    for p, t in zip(prob, truth):
        s = segen.metrics.average_precision(instances(p), t)
        ap.append(s["ap"][0])
        dsb.append(s["mean_ap"])
    return {"ap50": round(float(np.mean(ap)), 4), "dsb_mean_ap": round(float(np.mean(dsb)), 4)}


def _onnx_probabilities(path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(None, {"image": x[i : i + 1]})[0] for i in range(len(x))])
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def train(
    output,
    *,
    epochs: int = 20,
    seed: int = 0,
    size: int = 128,
    depth: int = 3,
    width: int = 8,
    n_train: int = 1500,
    n_val: int = 48,
    n_test: int = 24,
    test_size: int = 256,
    batch_size: int = 8,
    lr: float = 4e-3,
    patience: int = 6,
    threads: int | None = None,
    name: str = NAME,
    int8: bool = True,
    progress: bool = True,
) -> dict:
    """Train the nuclei network and write ``<name>.onnx`` + ``.json`` (and with `int8`
    ``<name>-int8.onnx`` + ``.json``) into `output`.

    Options (``segen train nuclei --epochs 20 --seed 0 ...``): `epochs`, `seed` (training images from
    `seed`, the held-out test images from ``seed + 1000``), `size` (training crop side, a multiple of
    ``2 ** depth``), `depth`, `width` (the network), `n_train`, `n_val` (validation images, size `size`),
    `n_test` and `test_size` (held-out images), `batch_size`, `lr`, `patience` (early stopping on the
    validation AP@0.5), `threads` (torch threads while training), `name`, `int8`, `progress`.
    Returns the metadata written to ``<name>.json``.
    """
    stride = 2**depth
    if size % stride:
        raise ValueError(f"`size` must be a multiple of 2**depth = {stride}; got {size}")
    params = dict(epochs=epochs, seed=seed, size=size, depth=depth, width=width, n_train=n_train)
    params.update(n_val=n_val, n_test=n_test, test_size=test_size, batch_size=batch_size, lr=lr)
    params.update(patience=patience)
    if threads is not None:
        params["threads"] = threads
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    x_all, lab_all = make_data(n_train + n_val, size, seed)
    x_test, lab_test = make_data(n_test, test_size, seed + 1000)
    data_seconds = time.perf_counter() - t0
    xt, yt = torch.from_numpy(x_all[:n_train]), torch.from_numpy(targets(lab_all[:n_train]))
    xv, lab_v = x_all[n_train:], lab_all[n_train:]

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = NucleiNet(depth=depth, width=width)
    weight = torch.tensor([1.0, 1.0, 2.0])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = max(1, epochs * (n_train // batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)

    def step(idx, at):
        xb, yb = _augment(xt[idx], yt[idx], gen)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb, weight=weight) + dice_loss(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": (loss.item() * len(idx), len(idx))}

    best = BestWeights(model, out / f"{name}.ckpt.pt", monitor="val_ap50")
    with torch_threads(threads):
        loop = fit(
            step,
            lambda epoch: shuffled_batches(n_train, batch_size, gen, drop_last=True),
            epochs=epochs,
            evaluate=lambda epoch: {"val_ap50": score(probabilities(model, xv), lab_v)["ap50"]},
            callbacks=[best, EarlyStopping(monitor="val_ap50", patience=patience, label="val AP@0.5")],
            modules=[model],
            name=name,
            progress=progress,
        )
    model.eval()
    (out / f"{name}.ckpt.pt").unlink(missing_ok=True)

    onnx_path = out / f"{name}.onnx"
    props = {"task": "segmentation", "classes": list(CLASSES), "stride": stride, "channels": 1}
    export_onnx(model, onnx_path, channels=1, size=size, props=props)
    diff = parity(model, onnx_path, [(1, size, size), (2, size + stride, 2 * size)], channels=1)
    if diff > 1e-4:
        raise RuntimeError(f"ONNX export of {name}: torch and ONNX Runtime differ by {diff:.2e} > 1e-4")
    command = "segen train nuclei " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in params.items())
    test_data = f"segen.data.nuclei({n_test}, size={test_size}, seed={seed + 1000})"
    held_out = {
        **score(_onnx_probabilities(onnx_path, x_test), lab_test),
        "images": n_test,
        "data": test_data,
    }
    hist = loop.history
    meta = {
        "name": name,
        "task": "segmentation",
        "labels": "instances",
        "loader": "segen-nuclei",  # by path or from a user model folder: NucleiSegmenter (the watershed)
        "summary": f"nuclei instance segmenter: light U-Net (depth {depth}, width {width}) + seeded watershed",
        "inputs": {"image": {"shape": ["N", 1, "H", "W"], "dtype": "float32"}},
        "outputs": {"logits": {"shape": ["N", 3, "H", "W"], "dtype": "float32"}},
        "channels": 1,
        "classes": list(CLASSES),
        "normalisation": {"kind": "percentile", "percentiles": list(PERCENTILES)},
        "postprocessing": {"kind": "seeded watershed", "threshold": 0.5, "min_marker": 4, "min_size": 12},
        "stride": stride,
        "min_size": stride,
        "architecture": {"type": "unet-additive-skips", "depth": depth, "width": width},
        "training": {
            "command": command,
            "params": params,
            "seed": seed,
            "torch": torch.__version__,
            "data": f"segen.data.nuclei({n_train + n_val}, size={size}, seed={seed}); first {n_train} "
            f"train, last {n_val} validation",
            "test_data": test_data,
            "data_seconds": round(data_seconds, 1),
        },
        "history": {
            "loss_first": round(hist["loss"][0], 5),
            "loss_last": round(hist["loss"][-1], 5),
            "val_ap50_best": round(max(hist["val_ap50"]), 4),
            "epochs_run": len(hist["loss"]),
            "best_epoch": best.best_epoch + 1,
            "seconds": round(hist.seconds, 1),
        },
        "metrics": {"held_out": held_out, "onnx_parity_max_abs_diff": diff},
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx_bytes": onnx_path.stat().st_size,
    }
    meta = write_sidecar(onnx_path, meta)
    if int8:
        _int8(out, name, x_all[:64], x_test, lab_test)
    return meta


def _int8(out: pathlib.Path, name: str, calib: np.ndarray, x_test: np.ndarray, lab_test: np.ndarray) -> dict:
    src, dst = out / f"{name}.onnx", out / f"{name}-int8.onnx"
    # the full-resolution 8-channel convolutions stay in float: measured at 1024 x 1024, 1 thread, int8
    # with them quantized 0.42 s, without 0.25 s (fp32 0.28 s)
    feeds = [{"image": calib[i : i + 1]} for i in range(len(calib))]
    in_float = quantize_static_int8(src, dst, feeds, min_channels=16)
    meta = load_metadata(out / f"{name}.json")
    q = dict(meta, name=f"{name}-int8", summary=meta["summary"] + "; int8 (static QDQ quantization)")
    q["onnx_bytes"] = dst.stat().st_size
    q["quantization"] = {
        "method": "onnxruntime.quantization.quantize_static",
        "format": "QDQ",
        "weights": "int8 per channel",
        "activations": "uint8",
        "float_nodes": in_float,
        "calibration": f"first {len(calib)} training images",
        "from": f"{name}.onnx",
    }
    held = {**meta["metrics"]["held_out"], **score(_onnx_probabilities(dst, x_test), lab_test)}
    q["metrics"] = {"held_out": held, "float_held_out": meta["metrics"]["held_out"]}
    return write_sidecar(dst, q)
