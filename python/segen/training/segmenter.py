"""Training and ONNX export of fully convolutional segmentation networks (the ``train`` extra).

The shared recipe behind ``segen train unet`` and ``segen train fcn``: Adam, cross-entropy + soft Dice,
random flips and rotations by 90 degrees, a validation split scored by mean IoU every epoch, a progress
bar, checkpoints and early stopping; then export to ONNX (dynamic batch, height and width), an
onnx.checker pass, a torch-vs-ONNX Runtime parity check at two input sizes, held-out scores, the sidecar
JSON and a PNG of validation predictions.

The loop is :func:`segen.training.loop.fit`, the export library :mod:`segen.training.export`. This module
imports torch: only training code imports it (never :mod:`segen` itself nor inference).
"""

from __future__ import annotations

import pathlib

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

from ..data import SegmentationData, shapes, textures
from ..eval.metrics import segmentation_scores
from ..io import imwrite
from ..onnx.sidecar import load_metadata, write_sidecar
from ..viz import label2rgb
from .export import export_onnx, parity, quantize_static_int8
from .loop import BestWeights, Checkpoint, EarlyStopping, fit, shuffled_batches, torch_threads

__all__ = [
    "dice_loss",
    "make_data",
    "predict",
    "prepare",
    "quantize_int8",
    "receptive_margin",
    "run_recipe",
    "segmenter_recipe",
    "train_segmenter",
    "write_model",
]

#: Normalisation of the [0, 1] input, stored in the metadata and applied by the segmenter.
MEAN, STD = 0.5, 0.25


def prepare(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 (N, H, W[, C]) -> float32 (N, C, H, W), scaled to [0, 1] and normalised with MEAN/STD."""
    x = images.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[:, None]
    else:
        x = x.transpose(0, 3, 1, 2)
    if x.shape[1] != channels:
        raise ValueError(f"images have {x.shape[1]} channels; the model takes {channels}")
    return np.ascontiguousarray((x - MEAN) / STD, dtype=np.float32)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice loss averaged over classes: 1 - 2|P∩T| / (|P| + |T|) with softmax probabilities."""
    k = logits.shape[1]
    prob = logits.softmax(1)
    onehot = F.one_hot(target, k).permute(0, 3, 1, 2).to(prob.dtype)
    dims = (0, 2, 3)
    inter = (prob * onehot).sum(dims)
    denom = prob.sum(dims) + onehot.sum(dims)
    return 1.0 - ((2 * inter + eps) / (denom + eps)).mean()


def _augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
    """The same random flips and rotation by k*90 degrees for each image and its labels."""
    out_x, out_y = torch.empty_like(x), torch.empty_like(y)
    ops = torch.randint(0, 8, (x.shape[0],), generator=gen)
    for i, op in enumerate(ops.tolist()):
        xi, yi = x[i], y[i]
        if op & 4:
            xi, yi = xi.flip(-1), yi.flip(-1)
        k = op & 3
        if k and xi.shape[-1] == xi.shape[-2]:
            xi, yi = torch.rot90(xi, k, (-2, -1)), torch.rot90(yi, k, (-2, -1))
        elif k & 2:
            xi, yi = xi.flip(-2), yi.flip(-2)
        out_x[i], out_y[i] = xi, yi
    return out_x, out_y


@torch.no_grad()
def predict(model, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Labels (N, H, W) int32 from prepared inputs, in eval mode."""
    model.eval()
    out = []
    for s in range(0, len(x), batch_size):
        out.append(model(torch.from_numpy(x[s : s + batch_size])).argmax(1).numpy().astype(np.int32))
    return np.concatenate(out)


def train_segmenter(
    model,
    train: SegmentationData,
    val: SegmentationData,
    *,
    channels: int,
    epochs: int,
    seed: int,
    out: pathlib.Path,
    name: str,
    batch_size: int = 16,
    lr: float = 3e-3,
    dice_weight: float = 1.0,
    patience: int = 5,
    progress: bool = True,
    threads: int | None = None,
    resume: bool = False,
) -> dict:
    """Train `model` in place; keep the weights of the best validation mIoU (checkpointed in `out`).

    After every epoch the whole training state (weights, optimizer, learning-rate schedule, random
    generator, history, early-stopping counters, and the settings it depends on) is written to
    ``<name>.last.pt``. With `resume`, training continues from that file after its last finished epoch
    and ends with the same weights as an uninterrupted run; the settings must be the same (else
    :class:`ValueError`); without the file it starts afresh.

    The model is trained in the channels-last memory layout (oneDNN's faster convolutions on the CPU:
    about 1.7x per step for the FCN) and handed back in the default layout. `threads` sets torch's
    intra-op threads for the run (None: torch's default); on a CPU shared with other jobs, 1 thread avoids
    the OpenMP barriers that wait on descheduled threads (measured: 2 threads 4x slower per step than 1
    while two other training jobs ran on the 2 cores).

    Returns the history: ``{"loss": [...], "val_miou": [...], "best_epoch", "seconds"}`` (and
    ``"resumed_after_epoch"`` when resumed).
    """
    settings = {
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        "dice_weight": dice_weight,
        "patience": patience,
        "n_train": len(train),
        "n_val": len(val),
        "image_shape": [channels, *train.images.shape[1:3]],
    }
    with torch_threads(threads):
        try:
            return _fit_segmenter(
                model, train, val, settings, out=out, name=name, progress=progress, resume=resume
            )
        finally:
            model.to(memory_format=torch.contiguous_format)


def _fit_segmenter(model, train, val, settings: dict, *, out, name, progress, resume) -> dict:
    """:func:`train_segmenter`'s run: Adam + one-cycle schedule, augmented batches, validation mIoU."""
    s = settings
    model.to(memory_format=torch.channels_last)
    torch.manual_seed(s["seed"])
    gen = torch.Generator().manual_seed(s["seed"])
    xt = torch.from_numpy(prepare(train.images, s["image_shape"][0]))
    yt = torch.from_numpy(train.labels.astype(np.int64))
    xv = prepare(val.images, s["image_shape"][0])
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"])
    steps = s["epochs"] * -(-len(xt) // s["batch_size"])
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=s["lr"], total_steps=max(steps, 1), pct_start=0.15
    )

    def step(idx, at):
        xb, yb = _augment(xt[idx], yt[idx], gen)
        logits = model(xb.contiguous(memory_format=torch.channels_last))
        loss = F.cross_entropy(logits, yb) + s["dice_weight"] * dice_loss(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": (loss.item() * len(idx), len(idx))}

    best = BestWeights(model, out / f"{name}.ckpt.pt", monitor="val_miou")
    state = {"model": model, "optimizer": opt, "scheduler": sched, "generator": gen}
    loop = fit(
        step,
        lambda epoch: shuffled_batches(len(xt), s["batch_size"], gen),
        epochs=s["epochs"],
        evaluate=lambda epoch: {
            "val_miou": segmentation_scores(predict(model, xv), val.labels, len(train.classes))["mean_iou"]
        },
        callbacks=[
            best,
            EarlyStopping(monitor="val_miou", patience=s["patience"], label="val mIoU"),
            Checkpoint(out / f"{name}.last.pt", state, settings=settings, resume=resume),
        ],
        modules=[model],
        name=name,
        progress=progress,
    )
    model.eval()
    hist = {"loss": loop.history["loss"], "val_miou": loop.history["val_miou"], "best_epoch": best.best_epoch}
    if loop.history.resumed_after is not None:
        hist["resumed_after_epoch"] = loop.history.resumed_after
    hist["seconds"] = round(loop.history.seconds, 1)
    return hist


def receptive_margin(model, *, channels: int, stride: int, size: int = 256) -> int:
    """Radius in pixels of the input region that one output pixel depends on (measured with a gradient at
    the centre of a `size` x `size` input), rounded up to the stride."""
    model.eval()
    x = torch.randn(1, channels, size, size, generator=torch.Generator().manual_seed(0)).requires_grad_()
    c = size // 2
    model(x)[0, :, c, c].sum().backward()
    rows, cols = np.nonzero(x.grad.abs().sum((0, 1)).numpy())
    radius = int(max(c - rows.min(), rows.max() - c, c - cols.min(), cols.max() - c))
    return -(-(radius + 1) // stride) * stride


def _preview(data: SegmentationData, pred: np.ndarray, count: int = 8) -> np.ndarray:
    rows = []
    for i in range(min(count, len(data))):
        img = data.images[i]
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
        # +1: label2rgb draws 0 as black background; here 0 is a class
        rows.append(np.concatenate([img, label2rgb(data.labels[i] + 1), label2rgb(pred[i] + 1)], axis=1))
    gap = np.full((2,) + rows[0].shape[1:], 255, np.uint8)
    return np.concatenate([r for row in rows for r in (row, gap)][:-1], axis=0)


def _score_onnx(path, test: SegmentationData, channels: int, n_classes: int) -> dict:
    """Held-out scores of an ONNX segmenter through ONNX Runtime, rounded for the sidecar."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xt = prepare(test.images, channels)
    pred = np.concatenate(
        [sess.run(None, {"image": xt[s : s + 32]})[0].argmax(1) for s in range(0, len(xt), 32)]
    ).astype(np.int32)
    scores = segmentation_scores(pred, test.labels, n_classes)
    return {
        "pixel_accuracy": round(scores["pixel_accuracy"], 5),
        "mean_iou": round(scores["mean_iou"], 5),
        "iou": [round(v, 5) for v in scores["iou"]],
    }


def _history_summary(history: dict) -> dict:
    return {
        "loss_first": round(history["loss"][0], 5),
        "loss_last": round(history["loss"][-1], 5),
        "val_miou_best": round(max(history["val_miou"]), 5),
        "epochs_run": len(history["loss"]),
        "best_epoch": history["best_epoch"] + 1,
        "seconds": history["seconds"],
        **{k: history[k] for k in ("resumed_after_epoch",) if k in history},
    }


def write_model(
    model,
    out: pathlib.Path,
    *,
    name: str,
    summary: str,
    architecture: dict,
    stride: int,
    channels: int,
    val: SegmentationData,
    test: SegmentationData,
    training: dict,
    history: dict,
) -> dict:
    """Export `<name>.onnx`, score it on `test` through ONNX Runtime, write `<name>.json` and
    `<name>_val.png`; returns the metadata."""
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{name}.onnx"
    classes = list(val.classes)
    props = {"task": "segmentation", "classes": classes, "stride": stride, "channels": channels}
    h = val.images.shape[1]
    export_onnx(model, onnx_path, channels=channels, size=h, props=props)
    diff = parity(model, onnx_path, [(1, h, h), (2, h + stride, 2 * h)], channels=channels)
    if diff > 1e-4:
        raise RuntimeError(f"ONNX export of {name}: torch and ONNX Runtime differ by {diff:.2e} > 1e-4")
    scores = _score_onnx(onnx_path, test, channels, len(classes))
    imwrite(out / f"{name}_val.png", _preview(val, predict(model, prepare(val.images[:8], channels))))
    meta = {
        "name": name,
        "task": "segmentation",
        "summary": summary,
        "inputs": {"image": {"shape": ["N", channels, "H", "W"], "dtype": "float32"}},
        "outputs": {"logits": {"shape": ["N", len(classes), "H", "W"], "dtype": "float32"}},
        "channels": channels,
        "mean": [MEAN] * channels,
        "std": [STD] * channels,
        "classes": classes,
        "stride": stride,
        "min_size": stride,
        "receptive_margin": receptive_margin(model, channels=channels, stride=stride),
        "architecture": architecture,
        "training": training,
        "history": _history_summary(history),
        "metrics": {
            "held_out": {**scores, "images": len(test), "data": training.get("test_data", "")},
            "onnx_parity_max_abs_diff": diff,
        },
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx_bytes": onnx_path.stat().st_size,
    }
    return write_sidecar(onnx_path, meta)


def make_data(dataset: str, *, size: int, n_train: int, n_val: int, n_test: int, seed: int):
    """(train, val, test) for ``dataset`` in {"shapes", "textures"}: train and val from `seed` (disjoint
    image indices), test from seed + 1000 (and the held-out photo regions for textures)."""
    if dataset == "shapes":
        full = shapes(n_train + n_val, size=size, seed=seed)
        test = shapes(n_test, size=size, seed=seed + 1000)
    elif dataset == "textures":
        full = textures(n_train + n_val, size=size, seed=seed, split="train")
        test = textures(n_test, size=size, seed=seed + 1000, split="test")
    else:
        raise ValueError(f"`dataset` must be 'shapes' or 'textures'; got {dataset!r}")
    cut = n_train
    train = SegmentationData(full.images[:cut], full.labels[:cut], full.classes)
    val = SegmentationData(full.images[cut:], full.labels[cut:], full.classes)
    return train, val, test


def quantize_int8(
    out: pathlib.Path,
    name: str,
    calib: SegmentationData,
    test: SegmentationData,
    *,
    count: int = 64,
    min_channels: int = 8,
) -> dict:
    """Write ``<name>-int8.onnx`` + JSON: ONNX Runtime static quantization in the QDQ format (int8
    per-channel weights, uint8 activations) calibrated on `count` images of `calib` (training data), and
    scored on `test` like the float model. Convolutions with fewer than `min_channels` input or output
    channels stay in float (:func:`narrow_convs`: int8 is slower there). Returns the int8 metadata."""
    src, dst = out / f"{name}.onnx", out / f"{name}-int8.onnx"
    meta = load_metadata(out / f"{name}.json")
    channels = int(meta["channels"])
    x = prepare(calib.images[:count], channels)
    in_float = quantize_static_int8(
        src, dst, [{"image": x[i : i + 1]} for i in range(len(x))], min_channels=min_channels
    )
    scores = _score_onnx(dst, test, channels, len(meta["classes"]))
    q = dict(meta)
    q.update(
        name=f"{name}-int8",
        summary=meta["summary"] + "; int8 (static QDQ quantization)",
        onnx_bytes=dst.stat().st_size,
        quantization={
            "method": "onnxruntime.quantization.quantize_static",
            "format": "QDQ",
            "weights": "int8 per channel",
            "activations": "uint8",
            "float_nodes": in_float,
            "calibration": f"first {len(x)} training images",
            "from": f"{name}.onnx",
        },
    )
    q["metrics"] = {
        "held_out": {**meta["metrics"]["held_out"], **scores},
        "float_mean_iou": meta["metrics"]["held_out"]["mean_iou"],
    }
    return write_sidecar(dst, q)


def run_recipe(
    output,
    *,
    recipe: str,
    params: dict,
    build_model,
    stride: int,
    summary: str,
    architecture: dict,
    name: str | None = None,
    int8: bool = True,
    **train_options,
) -> dict:
    """The steps every ``segen train <recipe>`` shares: data, training, ONNX + JSON, optional int8 variant.

    `params` are the recipe's keyword arguments as recorded in the metadata (they must include dataset,
    epochs, seed, size, n_train, n_val, n_test, batch_size, lr and patience); ``build_model(channels,
    n_classes)`` makes the untrained torch module; `size` must already be a multiple of `stride`;
    `train_options` (`progress`, `threads`, `resume`) are passed to :func:`train_segmenter` (record
    `threads` in `params` to have it in the command). Returns the metadata written to ``<name>.json``.
    """
    p = params
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    name = name or f"{recipe}-{p['dataset']}"
    train_d, val_d, test_d = make_data(
        p["dataset"], **{k: p[k] for k in ("size", "n_train", "n_val", "n_test", "seed")}
    )
    channels = 3 if train_d.images.ndim == 4 else 1
    torch.manual_seed(p["seed"])
    model = build_model(channels, len(train_d.classes))
    hyper = {k: p[k] for k in ("epochs", "seed", "batch_size", "lr", "patience")}
    hist = train_segmenter(
        model, train_d, val_d, channels=channels, out=out, name=name, **hyper, **train_options
    )
    meta = write_model(
        model,
        out,
        name=name,
        summary=summary,
        architecture=architecture,
        stride=stride,
        channels=channels,
        val=val_d,
        test=test_d,
        training=_provenance(recipe, p),
        history=hist,
    )
    if int8:  # <name>-int8.onnx: static QDQ quantization calibrated on training images
        quantize_int8(out, name, train_d, test_d)
    return meta


def _provenance(recipe: str, p: dict) -> dict:
    """The ``training`` entry of a segmenter's sidecar: the command, its parameters, the data."""
    dataset, size, seed = p["dataset"], p["size"], p["seed"]
    return {
        "command": f"segen train {recipe} " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in p.items()),
        "params": p,
        "torch": torch.__version__,
        "data": f"segen.data.{dataset}(n={p['n_train'] + p['n_val']}, size={size}, seed={seed}); "
        f"first {p['n_train']} train, last {p['n_val']} validation",
        "test_data": f"segen.data.{dataset}(n={p['n_test']}, size={size}, seed={seed + 1000}"
        + (", split='test')" if dataset == "textures" else ")"),
    }


def segmenter_recipe(
    output,
    *,
    recipe: str,
    dataset: str,
    net,
    arch: dict,
    stride: int,
    stride_rule: str,
    summary: str,
    architecture: dict,
    epochs: int = 30,
    seed: int = 0,
    size: int = 64,
    n_train: int = 1200,
    n_val: int = 200,
    n_test: int = 200,
    batch_size: int = 16,
    lr: float = 3e-3,
    patience: int = 6,
    threads: int | None = None,
    **run_options,
) -> dict:
    """``segen train <recipe>`` for a segmenter ``net(channels, n_classes, **arch)``: checks that `size`
    is a multiple of `stride` (``stride_rule`` names it in the error), records the parameters (the common
    ones around `arch`, in the order of the command line; `threads` only when given) and runs
    :func:`run_recipe` with `threads` and the `run_options` (`name`, `int8`, `progress`, `resume`).
    Returns the metadata written to ``<name>.json``."""
    if size % stride:
        raise ValueError(f"`size` must be a multiple of the stride {stride_rule} = {stride}; got {size}")
    params = {"dataset": dataset, "epochs": epochs, "seed": seed, "size": size, **arch}
    params.update(
        n_train=n_train, n_val=n_val, n_test=n_test, batch_size=batch_size, lr=lr, patience=patience
    )
    if threads is not None:  # recorded only when given: it is part of the exact command
        params["threads"] = threads
    return run_recipe(
        output,
        recipe=recipe,
        params=params,
        build_model=lambda channels, n_classes: net(channels, n_classes, **arch),
        stride=stride,
        summary=summary,
        architecture=architecture,
        threads=threads,
        **run_options,
    )
