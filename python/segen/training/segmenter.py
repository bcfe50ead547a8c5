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

import json
import pathlib
import shlex

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

from ..data import IGNORE_INDEX, SegmentationData, shapes, textures
from ..eval.metrics import segmentation_scores
from ..io import imwrite
from ..onnx.sidecar import load_metadata, write_sidecar
from ..viz import label2rgb
from .augment import Augmentation, flip_rotate, photometric
from .export import export_onnx, parity, quantize_static_int8
from .loop import (
    BestWeights,
    Checkpoint,
    EarlyStopping,
    deterministic_kernels,
    fit,
    shuffled_batches,
    torch_threads,
)

__all__ = [
    "MemorySource",
    "data_name",
    "dice_loss",
    "make_data",
    "predict",
    "prepare",
    "quantize_int8",
    "receptive_margin",
    "resolve_device",
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


def dice_loss(
    logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0, ignore_index: int | None = None
) -> torch.Tensor:
    """Soft Dice loss averaged over classes: 1 - 2|P∩T| / (|P| + |T|) with softmax probabilities; pixels
    whose target is `ignore_index` count for neither."""
    k = logits.shape[1]
    prob = logits.softmax(1)
    if ignore_index is not None:
        keep = (target != ignore_index).unsqueeze(1).to(prob.dtype)
        target = target.masked_fill(target == ignore_index, 0)
        prob = prob * keep
    onehot = F.one_hot(target, k).permute(0, 3, 1, 2).to(prob.dtype)
    if ignore_index is not None:
        onehot = onehot * keep
    dims = (0, 2, 3)
    inter = (prob * onehot).sum(dims)
    denom = prob.sum(dims) + onehot.sum(dims)
    return 1.0 - ((2 * inter + eps) / (denom + eps)).mean()


def _augment(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, aug: Augmentation | None = None):
    """A batch of [0, 1] images and labels augmented by `aug` (default: flips and rotations only)."""
    aug = aug or Augmentation(photometric=False)
    if aug.flips:
        x, y = flip_rotate(x, y, gen)
    return photometric(x, aug, gen), y


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"``: CUDA when torch sees a GPU, else the CPU; ``"cpu"``; ``"cuda"`` (an error without one)."""
    if device not in ("auto", "cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"`device` must be 'auto', 'cpu' or 'cuda'; got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("`device` is 'cuda' but torch sees no CUDA GPU (torch.cuda.is_available() is False)")
    return torch.device(device)


@torch.no_grad()
def predict(model, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Labels (N, H, W) int32 from prepared inputs, in eval mode."""
    model.eval()
    dev = next(model.parameters()).device
    out = []
    for s in range(0, len(x), batch_size):
        logits = model(torch.from_numpy(x[s : s + batch_size]).to(dev))
        out.append(logits.argmax(1).cpu().numpy().astype(np.int32))
    return np.concatenate(out)


class _Mapped:
    """``fn(item)`` for each of `items`, lazily, with a length (for the progress bar)."""

    def __init__(self, items, fn):
        self.items, self.fn = items, fn

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return (self.fn(i) for i in self.items)


class MemorySource:
    """Training batches and validation scores from in-memory :class:`SegmentationData`."""

    def __init__(self, train: SegmentationData, val: SegmentationData, channels: int):
        self.train, self.val, self.channels = train, val, channels
        self.n = len(train)
        self.classes = list(train.classes)
        x = train.images.astype(np.float32) / 255.0
        self.x = torch.from_numpy(
            np.ascontiguousarray(x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2))
        )
        self.y = torch.from_numpy(train.labels.astype(np.int64))
        self.xv = prepare(val.images, channels)

    def settings(self) -> dict:
        return {
            "n_train": len(self.train),
            "n_val": len(self.val),
            "image_shape": [self.channels, *self.train.images.shape[1:3]],
        }

    def batches(self, epoch: int, batch_size: int, gen: torch.Generator):
        return _Mapped(shuffled_batches(self.n, batch_size, gen), lambda idx: (self.x[idx], self.y[idx]))

    def val_miou(self, model) -> float:
        return segmentation_scores(predict(model, self.xv), self.val.labels, len(self.classes))["mean_iou"]


def train_segmenter(
    model,
    train,
    val=None,
    *,
    channels: int | None = None,
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
    augment: Augmentation | None = None,
    class_weights=None,
    device: str = "cpu",
) -> dict:
    """Train `model` in place; keep the weights of the best validation mIoU (checkpointed in `out`).

    `train` and `val` are :class:`SegmentationData` (in memory), or `train` is a source with
    ``batches(epoch, batch_size, generator)`` and ``val_miou(model)`` (:class:`FolderSource`: streamed
    from disk) and `val` is None. `augment` chooses the augmentation (None: flips and rotations only);
    `class_weights` (K,) weights the cross-entropy (None: unweighted); label 255 is ignored by both losses.

    After every epoch the whole training state (weights, optimizer, learning-rate schedule, random
    generator, history, early-stopping counters, and the settings it depends on) is written to
    ``<name>.last.pt``. With `resume`, training continues from that file after its last finished epoch
    and ends with the same weights as an uninterrupted run; the settings must be the same (else
    :class:`ValueError`); without the file it starts afresh.

    On the CPU the model is trained in the channels-last memory layout (oneDNN's faster convolutions:
    about 1.7x per step for the FCN) and handed back in the default layout, on the CPU. `threads` sets
    torch's intra-op threads for the run (None: torch's default); on a CPU shared with other jobs, 1 thread
    avoids the OpenMP barriers that wait on descheduled threads (measured: 2 threads 4x slower per step
    than 1 while two other training jobs ran on the 2 cores). `device` is "cpu", "cuda" or "auto" (CUDA
    when torch sees a GPU); the same seed gives the same weights on the same device.

    Returns the history: ``{"loss": [...], "val_miou": [...], "best_epoch", "seconds"}`` (and
    ``"resumed_after_epoch"`` when resumed).
    """
    source = train if val is None else MemorySource(train, val, channels)
    aug = augment or Augmentation(photometric=False)
    settings = {
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        "dice_weight": dice_weight,
        "patience": patience,
        **source.settings(),
    }
    if augment is not None:
        settings["augment"] = aug.to_dict()
    if class_weights is not None:
        settings["class_weights"] = [float(w) for w in class_weights]
    dev = resolve_device(device)
    with torch_threads(threads), deterministic_kernels(dev):
        try:
            return _fit_segmenter(
                model, source, settings, aug, dev, out=out, name=name, progress=progress, resume=resume
            )
        finally:
            model.to("cpu", memory_format=torch.contiguous_format)


def _fit_segmenter(model, source, settings: dict, aug, dev, *, out, name, progress, resume) -> dict:
    """:func:`train_segmenter`'s run: Adam + one-cycle schedule, augmented batches, validation mIoU."""
    s = settings
    layout = torch.channels_last if dev.type == "cpu" else torch.contiguous_format
    model.to(dev, memory_format=layout)
    torch.manual_seed(s["seed"])
    gen = torch.Generator().manual_seed(s["seed"])
    weight = None
    if "class_weights" in s:
        weight = torch.tensor(s["class_weights"], dtype=torch.float32, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"])
    per_epoch = len(source.batches(0, s["batch_size"], torch.Generator().manual_seed(0)))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=s["lr"], total_steps=max(s["epochs"] * per_epoch, 1), pct_start=0.15
    )

    def step(batch, at):
        xb, yb = _augment(batch[0], batch[1], gen, aug)
        xb = ((xb - MEAN) / STD).to(dev).contiguous(memory_format=layout)
        yb = yb.to(dev)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb, weight=weight, ignore_index=IGNORE_INDEX)
        loss = loss + s["dice_weight"] * dice_loss(logits, yb, ignore_index=IGNORE_INDEX)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": (loss.item() * len(yb), len(yb))}

    best = BestWeights(model, out / f"{name}.ckpt.pt", monitor="val_miou")
    state = {"model": model, "optimizer": opt, "scheduler": sched, "generator": gen}
    loop = fit(
        step,
        lambda epoch: source.batches(epoch, s["batch_size"], gen),
        epochs=s["epochs"],
        evaluate=lambda epoch: {"val_miou": source.val_miou(model)},
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


def _preview_rows(rows) -> np.ndarray:
    """(image, truth, prediction) rows side by side, stacked with white gaps (255 in the truth: black)."""
    pics = []
    for img, truth, pred in rows:
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
        truth = np.where(truth == IGNORE_INDEX, 0, truth + 1)  # +1: label2rgb draws 0 as black
        pics.append(np.concatenate([img, label2rgb(truth), label2rgb(pred + 1)], axis=1))
    width = max(p.shape[1] for p in pics)
    pics = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in pics]
    gap = np.full((2, width, 3), 255, np.uint8)
    return np.concatenate([r for row in pics for r in (row, gap)][:-1], axis=0)


def _preview(data: SegmentationData, pred: np.ndarray, count: int = 8) -> np.ndarray:
    n = min(count, len(data))
    return _preview_rows([(data.images[i], data.labels[i], pred[i]) for i in range(n)])


def _rounded(scores: dict) -> dict:
    return {
        "pixel_accuracy": round(scores["pixel_accuracy"], 5),
        "mean_iou": round(scores["mean_iou"], 5),
        "iou": [round(v, 5) for v in scores["iou"]],
    }


def _score_onnx(path, test: SegmentationData, channels: int, n_classes: int) -> dict:
    """Held-out scores of an ONNX segmenter through ONNX Runtime, rounded for the sidecar."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xt = prepare(test.images, channels)
    pred = np.concatenate(
        [sess.run(None, {"image": xt[s : s + 32]})[0].argmax(1) for s in range(0, len(xt), 32)]
    ).astype(np.int32)
    return _rounded(segmentation_scores(pred, test.labels, n_classes))


#: The photometric changes :func:`robustness` scores a segmenter under (images in [0, 1]).
PERTURBATIONS = ("gamma_0.5", "gamma_2.0", "contrast_0.5", "equalize_hist", "noise_0.05")


def _perturb(x: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    from skimage.exposure import equalize_hist

    if kind.startswith("gamma_"):
        return x ** float(kind[6:])
    if kind == "contrast_0.5":
        m = x.mean(axis=tuple(range(1, x.ndim)), keepdims=True)
        return m + 0.5 * (x - m)
    if kind == "equalize_hist":
        return np.stack([equalize_hist(im) for im in x]).astype(np.float32)
    if kind == "noise_0.05":
        return np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1).astype(np.float32)
    raise ValueError(f"unknown perturbation {kind!r}")


def robustness(path, test: SegmentationData, channels: int) -> dict:
    """Pixel accuracy of an ONNX segmenter on `test` as is and under each of :data:`PERTURBATIONS`
    (gamma 0.5 and 2.0, contrast x0.5 around each image's mean, ``skimage.exposure.equalize_hist`` of
    each image, Gaussian noise of sigma 0.05 clipped to [0, 1], seed 0), and the largest drop in points."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = test.images.astype(np.float32) / 255.0
    rng = np.random.default_rng(0)

    def acc(images):
        xt = prepare_float(images, channels)
        pred = np.concatenate(
            [sess.run(None, {"image": xt[s : s + 32]})[0].argmax(1) for s in range(0, len(xt), 32)]
        )
        return float((pred == test.labels).mean())

    out = {"clean": round(acc(x), 5)}
    for kind in PERTURBATIONS:
        out[kind] = round(acc(_perturb(x, kind, rng)), 5)
    out["max_drop_points"] = round(100 * max(out["clean"] - out[k] for k in PERTURBATIONS), 2)
    return out


def prepare_float(images: np.ndarray, channels: int) -> np.ndarray:
    """float (N, H, W[, C]) in [0, 1] -> normalised float32 (N, C, H, W), as :func:`prepare` for uint8."""
    x = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    if x.shape[1] != channels:
        raise ValueError(f"images have {x.shape[1]} channels; the model takes {channels}")
    return np.ascontiguousarray((x - MEAN) / STD, dtype=np.float32)


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
    val: SegmentationData | None = None,
    test: SegmentationData | None = None,
    training: dict,
    history: dict,
    classes=None,
    size: int | None = None,
    score=None,
    preview: np.ndarray | None = None,
    extra: dict | None = None,
) -> dict:
    """Export `<name>.onnx`, score it on `test` through ONNX Runtime, write `<name>.json` and
    `<name>_val.png`; returns the metadata.

    For data not in memory, give `classes`, `size` (the export's example side), ``score(onnx_path) ->
    dict`` (held-out scores with ``images`` and ``data``) and the `preview` picture instead of `val` and
    `test`; `extra` entries are added to the metadata."""
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{name}.onnx"
    if val is not None:
        classes, size = list(val.classes), val.images.shape[1]
        preview = _preview(val, predict(model, prepare(val.images[:8], channels)))

        def score(path):
            held = _score_onnx(path, test, channels, len(classes))
            return {**held, "images": len(test), "data": training.get("test_data", "")}

    classes = list(classes)
    props = {"task": "segmentation", "classes": classes, "stride": stride, "channels": channels}
    h = size
    export_onnx(model, onnx_path, channels=channels, size=h, props=props)
    diff = parity(model, onnx_path, [(1, h, h), (2, h + stride, 2 * h)], channels=channels)
    if diff > 1e-4:
        raise RuntimeError(f"ONNX export of {name}: torch and ONNX Runtime differ by {diff:.2e} > 1e-4")
    scores = score(onnx_path)
    imwrite(out / f"{name}_val.png", preview)
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
        "metrics": {"held_out": scores, "onnx_parity_max_abs_diff": diff},
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx_bytes": onnx_path.stat().st_size,
    }
    if test is not None and channels == 1:
        meta["metrics"]["robustness"] = robustness(onnx_path, test, channels)
    meta.update(extra or {})
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
    calib: SegmentationData | np.ndarray,
    test: SegmentationData | None = None,
    *,
    count: int = 64,
    min_channels: int = 8,
    score=None,
) -> dict:
    """Write ``<name>-int8.onnx`` + JSON: ONNX Runtime static quantization in the QDQ format (int8
    per-channel weights, uint8 activations) calibrated on `count` images of `calib` (training data, or
    their prepared (N, C, H, W) inputs), and scored on `test` like the float model (or by
    ``score(onnx_path)``). Convolutions with fewer than `min_channels` input or output channels stay in
    float (:func:`narrow_convs`: int8 is slower there). Returns the int8 metadata."""
    src, dst = out / f"{name}.onnx", out / f"{name}-int8.onnx"
    meta = load_metadata(out / f"{name}.json")
    channels = int(meta["channels"])
    x = calib[:count] if isinstance(calib, np.ndarray) else prepare(calib.images[:count], channels)
    in_float = quantize_static_int8(
        src, dst, [{"image": x[i : i + 1]} for i in range(len(x))], min_channels=min_channels
    )
    if score is None:

        def score(path):
            return _score_onnx(path, test, channels, len(meta["classes"]))

    scores = score(dst)
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
    if test is not None and "robustness" in meta["metrics"]:
        q["metrics"]["robustness"] = robustness(dst, test, channels)
    return write_sidecar(dst, q)


#: Options of :func:`segmenter_recipe` that build the :class:`~segen.training.augment.Augmentation`.
AUGMENT_OPTIONS = (
    "flips",
    "scale",
    "photometric",
    "brightness",
    "contrast",
    "gamma",
    "noise",
    "blur",
    "equalize",
)


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
    epochs, seed, size, n_train, n_val, n_test, batch_size, lr and patience; with ``data`` (a folder) the
    folder's options instead of the n_* ones); ``build_model(channels, n_classes)`` makes the untrained
    torch module; `size` must already be a multiple of `stride`; `train_options` (`progress`, `threads`,
    `resume`, `augment`, `device`) are passed to :func:`train_segmenter` (record `threads` in `params` to
    have it in the command). Returns the metadata written to ``<name>.json``.
    """
    p = params
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    if p.get("data") is not None:
        return _run_folder_recipe(
            out,
            recipe=recipe,
            params=p,
            build_model=build_model,
            stride=stride,
            summary=summary,
            architecture=architecture,
            name=name,
            int8=int8,
            **train_options,
        )
    name = name or f"{recipe}-{p['dataset']}"
    train_d, val_d, test_d = make_data(
        p["dataset"], **{k: p[k] for k in ("size", "n_train", "n_val", "n_test", "seed")}
    )
    channels = 3 if train_d.images.ndim == 4 else 1
    torch.manual_seed(p["seed"])
    model = build_model(channels, len(train_d.classes))
    hyper = {k: p[k] for k in ("epochs", "seed", "batch_size", "lr", "patience")}
    if p.get("class_weights"):
        counts = np.bincount(train_d.labels.ravel(), minlength=len(train_d.classes)).astype(np.float64)
        freq = counts / counts.sum()
        w = np.where(freq > 0, np.sqrt(np.median(freq[freq > 0]) / np.maximum(freq, 1e-12)), 0.0)
        train_options["class_weights"] = w.astype(np.float32)
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


def _run_folder_recipe(
    out, *, recipe, params, build_model, stride, summary, architecture, name, int8, **train_options
) -> dict:
    """:func:`run_recipe` on a folder (``params["data"]``): scan, stream, score the test split, record."""
    from ..data import SegmentationFolder
    from .folder import FolderSource, auto_crops_per_image, calibration_inputs, preview_pairs, score_onnx

    p = params
    folder = SegmentationFolder(
        p["data"],
        seed=p["seed"],
        val_fraction=p["val_fraction"],
        test_fraction=p["test_fraction"],
        skip_bad=p["skip_bad"],
    )
    scan = folder.scan(progress=train_options.get("progress", True))
    name = name or f"{recipe}-{pathlib.Path(p['data']).resolve().name or 'data'}"
    aug = train_options.get("augment")
    source = FolderSource(
        folder,
        size=p["size"],
        stride=stride,
        scale=aug.scale if aug else 1.0,
        seed=p["seed"],
        workers=p.get("workers", 0),
        crops_per_image=p.get("crops_per_image") or auto_crops_per_image(folder, p["size"], p["batch_size"]),
    )
    if p.get("class_weights"):
        train_options["class_weights"] = scan.class_weights("train")
    torch.manual_seed(p["seed"])
    model = build_model(source.channels, folder.num_classes)
    hyper = {k: p[k] for k in ("epochs", "seed", "batch_size", "lr", "patience")}
    hist = train_segmenter(model, source, out=out, name=name, **hyper, **train_options)
    k = folder.num_classes
    data_desc = f"{folder.fingerprint()['file_count']} files in {pathlib.Path(p['data']).name}/, test split"
    has_test = bool(folder.files("test"))

    def score(path):
        if not has_test:
            return {"images": 0, "data": "no test split (test_fraction 0 and no test/ folder)"}
        return {**score_onnx(path, folder, "test", stride, k), "data": data_desc}

    record = folder.split_record()
    (out / f"{name}_split.json").write_text(json.dumps(record, indent=1))
    training = _provenance(recipe, p)
    training.update(
        data=str(p["data"]),
        data_fingerprint=folder.fingerprint(),
        split={
            "layout": record["layout"],
            **{s: len(record[s]) for s in ("train", "val", "test")},
            "file": f"{name}_split.json",
        },
        class_pixels={s: [int(v) for v in scan.pixels[s]] for s in ("train", "val", "test")},
        skipped=len(folder.skipped) + source.skipped,
        crops_per_image=source.per_image,
    )
    if aug is not None:
        training["augment"] = aug.to_dict()
    if "class_weights" in train_options:
        training["class_weights"] = [round(float(w), 5) for w in train_options["class_weights"]]
    meta = write_model(
        model,
        out,
        name=name,
        summary=summary,
        architecture=architecture,
        stride=stride,
        channels=source.channels,
        training=training,
        history=hist,
        classes=folder.classes,
        size=p["size"],
        score=score,
        preview=_preview_rows(preview_pairs(folder, model, stride)),
        extra={"colours": [list(c) for c in folder.colours]} if folder.colours else None,
    )
    if int8:
        calib = calibration_inputs(folder, p["size"], 64)
        quantize_int8(out, name, calib, score=score)
    return meta


def data_name(options: dict, dataset: str) -> str:
    """What a recipe trained on, for its summary: the folder given as ``data`` (its name), else `dataset`."""
    data = options.get("data")
    return f"the folder {pathlib.Path(str(data)).resolve().name}/" if data else dataset


def _provenance(recipe: str, p: dict) -> dict:
    """The ``training`` entry of a segmenter's sidecar: the command, its parameters, the data."""
    args = " ".join(f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in p.items() if v is not None)
    out = {"command": f"segen train {recipe} {args}", "params": p, "torch": torch.__version__}
    if p.get("data") is not None:
        return out
    dataset, size, seed = p["dataset"], p["size"], p["seed"]
    out["data"] = (
        f"segen.data.{dataset}(n={p['n_train'] + p['n_val']}, size={size}, seed={seed}); "
        f"first {p['n_train']} train, last {p['n_val']} validation"
    )
    out["test_data"] = f"segen.data.{dataset}(n={p['n_test']}, size={size}, seed={seed + 1000}" + (
        ", split='test')" if dataset == "textures" else ")"
    )
    return out


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
    data=None,
    epochs: int = 30,
    seed: int = 0,
    size: int = 64,
    n_train: int = 1200,
    n_val: int = 200,
    n_test: int = 200,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    skip_bad: bool = False,
    workers: int = 0,
    crops_per_image: int | None = None,
    batch_size: int = 16,
    lr: float = 3e-3,
    patience: int = 6,
    class_weights: bool = True,
    flips: bool = True,
    scale: float = 1.25,
    photometric: bool = True,
    brightness: float = 0.1,
    contrast: float = 0.5,
    gamma: float = 2.2,
    noise: float = 0.06,
    blur: float = 1.0,
    equalize: float = 0.2,
    device: str = "auto",
    threads: int | None = None,
    **run_options,
) -> dict:
    """``segen train <recipe>`` for a segmenter ``net(channels, n_classes, **arch)``: checks that `size`
    is a multiple of `stride` (``stride_rule`` names it in the error), records the parameters (the common
    ones around `arch`, in the order of the command line; `threads` only when given) and runs
    :func:`run_recipe` with `threads` and the `run_options` (`name`, `int8`, `progress`, `resume`).

    With `data` (a folder, :class:`segen.data.SegmentationFolder`) the model trains on random `size`
    crops of its images (`val_fraction`, `test_fraction`, `skip_bad`, `workers`, `crops_per_image`
    apply); else on the built-in `dataset` (`n_train`, `n_val`, `n_test` apply). The augmentation options are those of
    :class:`segen.training.augment.Augmentation` (`scale` only for folders); `class_weights` weights the
    cross-entropy by the training labels' frequencies. Returns the metadata written to ``<name>.json``."""
    if size % stride:
        raise ValueError(f"`size` must be a multiple of the stride {stride_rule} = {stride}; got {size}")
    params = {"data": data, "dataset": dataset, "epochs": epochs, "seed": seed, "size": size, **arch}
    if data is None:
        del params["data"]
        params.update(n_train=n_train, n_val=n_val, n_test=n_test)
    else:
        del params["dataset"]
        if crops_per_image is not None and (
            not isinstance(crops_per_image, int) or crops_per_image < 1 or batch_size % crops_per_image
        ):
            raise ValueError(
                f"`crops_per_image` must be None (automatic) or a whole number >= 1 that divides "
                f"`batch_size` ({batch_size}); "
                f"got {crops_per_image!r}"
            )
        params.update(
            val_fraction=val_fraction, test_fraction=test_fraction, skip_bad=skip_bad, workers=workers
        )
        if crops_per_image is not None:  # recorded when given: part of the exact command
            params["crops_per_image"] = crops_per_image
    params.update(batch_size=batch_size, lr=lr, patience=patience, class_weights=class_weights)
    augment = Augmentation(
        flips=flips,
        scale=scale if data is not None else 1.0,
        photometric=photometric,
        brightness=brightness,
        contrast=contrast,
        gamma=gamma,
        noise=noise,
        blur=blur,
        equalize=equalize,
    )
    params.update({k: getattr(augment, k) for k in AUGMENT_OPTIONS if k != "scale" or data is not None})
    params["device"] = device
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
        augment=augment,
        device=device,
        **run_options,
    )
