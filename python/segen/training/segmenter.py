"""Training and ONNX export of fully convolutional segmentation networks (the ``train`` extra).

The shared recipe behind ``segen train unet`` and ``segen train fcn``: Adam, cross-entropy + soft Dice,
random flips and rotations by 90 degrees, a validation split scored by mean IoU every epoch, a progress
bar, checkpoints and early stopping; then export to ONNX (dynamic batch, height and width), an
onnx.checker pass, a torch-vs-ONNX Runtime parity check at two input sizes, held-out scores, the sidecar
JSON and a PNG of validation predictions.

This module imports torch: only training code imports it (never :mod:`segen` itself nor inference).
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np
import torch
import torch.nn.functional as F

from .. import data as _datasets
from .._core import __version__
from ..eval.metrics import segmentation_scores
from ..io import imwrite
from ..onnx.sidecar import sha256_of
from ..viz import label2rgb

__all__ = [
    "dice_loss",
    "export_onnx",
    "narrow_convs",
    "parity",
    "prepare",
    "quantize_int8",
    "run_recipe",
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
    train: _datasets.SegmentationData,
    val: _datasets.SegmentationData,
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
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train_loop(
            model,
            train,
            val,
            channels=channels,
            epochs=epochs,
            seed=seed,
            out=out,
            name=name,
            batch_size=batch_size,
            lr=lr,
            dice_weight=dice_weight,
            patience=patience,
            progress=progress,
            resume=resume,
        )
    finally:
        torch.set_num_threads(previous)
        model.to(memory_format=torch.contiguous_format)


def _train_loop(
    model, train, val, *, channels, epochs, seed, out, name, batch_size, lr, dice_weight, patience, progress,
    resume,
) -> dict:
    from tqdm.auto import tqdm

    model.to(memory_format=torch.channels_last)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    k = len(train.classes)
    xt, yt = (
        torch.from_numpy(prepare(train.images, channels)),
        torch.from_numpy(train.labels.astype(np.int64)),
    )
    xv = prepare(val.images, channels)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(xt) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.15)
    ckpt, last = out / f"{name}.ckpt.pt", out / f"{name}.last.pt"
    hist = {"loss": [], "val_miou": [], "best_epoch": -1}
    best, bad, t0, start, spent = -1.0, 0, time.perf_counter(), 0, 0.0
    settings = {
        "epochs": epochs, "seed": seed, "batch_size": batch_size, "lr": lr, "dice_weight": dice_weight,
        "patience": patience, "n_train": len(xt), "n_val": len(xv), "image_shape": list(xt.shape[1:]),
    }
    if resume and last.is_file():
        state = torch.load(last, weights_only=True)
        if state["settings"] != settings:
            old = state["settings"]
            diff = {k: (old.get(k), v) for k, v in settings.items() if old.get(k) != v}
            raise ValueError(f"cannot resume from {last}: settings differ (checkpoint, now): {diff}")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        hist, best, bad, spent = state["history"], state["best"], state["bad"], state["seconds"]
        start = state["epoch"] + 1
        hist["resumed_after_epoch"] = start
        if progress:
            tqdm.write(f"{name}: resuming after epoch {start}/{epochs} from {last}")
        if bad >= patience or start >= epochs:
            start = epochs  # it had already finished
    for epoch in range(start, epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total, count = 0.0, 0
        bar = tqdm(
            range(0, len(xt), batch_size),
            desc=f"{name} epoch {epoch + 1}/{epochs}",
            disable=not progress,
            leave=False,
        )
        for s in bar:
            idx = perm[s : s + batch_size]
            xb, yb = _augment(xt[idx], yt[idx], gen)
            logits = model(xb.contiguous(memory_format=torch.channels_last))
            loss = F.cross_entropy(logits, yb) + dice_weight * dice_loss(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            count += len(idx)
            bar.set_postfix(loss=f"{total / count:.4f}")
        miou = segmentation_scores(predict(model, xv), val.labels, k)["mean_iou"]
        hist["loss"].append(total / count)
        hist["val_miou"].append(miou)
        if progress:
            tqdm.write(f"{name} epoch {epoch + 1}/{epochs}: loss {total / count:.4f}, val mIoU {miou:.4f}")
        if miou > best:
            best, bad, hist["best_epoch"] = miou, 0, epoch
            torch.save(model.state_dict(), ckpt)
        else:
            bad += 1
        state = {
            "epoch": epoch, "settings": settings, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
            "history": hist, "best": best, "bad": bad, "seconds": spent + time.perf_counter() - t0,
        }
        torch.save(state, last.with_suffix(".tmp"))
        last.with_suffix(".tmp").replace(last)  # never a half-written file
        if bad >= patience:
            if progress:
                tqdm.write(f"{name}: early stop, no val mIoU gain for {patience} epochs")
            break
    model.load_state_dict(torch.load(ckpt, weights_only=True))
    model.eval()
    hist["seconds"] = round(spent + time.perf_counter() - t0, 1)
    return hist


def export_onnx(model, path: pathlib.Path, *, channels: int, size: int, props: dict | None = None) -> None:
    """Export to ONNX with dynamic batch, height and width; run onnx.checker; store ``segen.*`` props."""

    model.eval()
    dummy = torch.zeros(1, channels, size, size)
    import warnings

    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of the dynamo one, which needs onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(model, dummy, path)
    finish_onnx(path, props)


def finish_onnx(path, props: dict | None = None) -> None:
    """Store `props` in an exported ONNX file as ``segen.<key>`` metadata properties (JSON values) and run
    onnx.checker on it (full check); shared by every segen export."""
    import onnx

    proto = onnx.load(str(path))
    for key, value in (props or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = f"segen.{key}", json.dumps(value)
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))


def _export(model, dummy, path):
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 2: "H", 3: "W"}},
        opset_version=17,
        dynamo=False,
    )


@torch.no_grad()
def parity(model, path: pathlib.Path, shapes, *, channels: int, seed: int = 0) -> float:
    """Largest absolute difference between torch and ONNX Runtime logits over inputs of `shapes`."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    model.eval()
    worst = 0.0
    for n, h, w in shapes:
        x = rng.normal(0, 1, (n, channels, h, w)).astype(np.float32)
        ref = model(torch.from_numpy(x)).numpy()
        got = sess.run(None, {"image": x})[0]
        worst = max(worst, float(np.abs(ref - got).max()))
    return worst


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


def _preview(data: _datasets.SegmentationData, pred: np.ndarray, count: int = 8) -> np.ndarray:

    rows = []
    for i in range(min(count, len(data))):
        img = data.images[i]
        img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
        # +1: label2rgb draws 0 as black background; here 0 is a class
        rows.append(np.concatenate([img, label2rgb(data.labels[i] + 1), label2rgb(pred[i] + 1)], axis=1))
    gap = np.full((2,) + rows[0].shape[1:], 255, np.uint8)
    return np.concatenate([r for row in rows for r in (row, gap)][:-1], axis=0)


def write_model(
    model,
    out: pathlib.Path,
    *,
    name: str,
    summary: str,
    architecture: dict,
    stride: int,
    channels: int,
    val: _datasets.SegmentationData,
    test: _datasets.SegmentationData,
    training: dict,
    history: dict,
) -> dict:
    """Export `<name>.onnx`, score it on `test` through ONNX Runtime, write `<name>.json` and
    `<name>_val.png`; returns the metadata."""
    import onnxruntime as ort


    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{name}.onnx"
    classes = list(val.classes)
    props = {"task": "segmentation", "classes": classes, "stride": stride, "channels": channels}
    h = val.images.shape[1]
    export_onnx(model, onnx_path, channels=channels, size=h, props=props)
    diff = parity(model, onnx_path, [(1, h, h), (2, h + stride, 2 * h)], channels=channels)
    if diff > 1e-4:
        raise RuntimeError(f"ONNX export of {name}: torch and ONNX Runtime differ by {diff:.2e} > 1e-4")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    xt = prepare(test.images, channels)
    pred = np.concatenate(
        [sess.run(None, {"image": xt[s : s + 32]})[0].argmax(1) for s in range(0, len(xt), 32)]
    ).astype(np.int32)
    scores = segmentation_scores(pred, test.labels, len(classes))
    val_pred = predict(model, prepare(val.images[:8], channels))
    imwrite(out / f"{name}_val.png", _preview(val, val_pred))
    meta = {
        "name": name,
        "task": "segmentation",
        "summary": summary,
        "sha256": sha256_of(onnx_path),
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
        "history": {
            "loss_first": round(history["loss"][0], 5),
            "loss_last": round(history["loss"][-1], 5),
            "val_miou_best": round(max(history["val_miou"]), 5),
            "epochs_run": len(history["loss"]),
            "best_epoch": history["best_epoch"] + 1,
            "seconds": history["seconds"],
            **{k: history[k] for k in ("resumed_after_epoch",) if k in history},
        },
        "metrics": {
            "held_out": {
                "pixel_accuracy": round(scores["pixel_accuracy"], 5),
                "mean_iou": round(scores["mean_iou"], 5),
                "iou": [round(v, 5) for v in scores["iou"]],
                "images": len(test),
                "data": training.get("test_data", ""),
            },
            "onnx_parity_max_abs_diff": diff,
        },
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "onnx_bytes": onnx_path.stat().st_size,
        "segen_version": __version__,
    }
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def make_data(dataset: str, *, size: int, n_train: int, n_val: int, n_test: int, seed: int):
    """(train, val, test) for ``dataset`` in {"shapes", "textures"}: train and val from `seed` (disjoint
    image indices), test from seed + 1000 (and the held-out photo regions for textures)."""
    if dataset == "shapes":
        full = _datasets.shapes(n_train + n_val, size=size, seed=seed)
        test = _datasets.shapes(n_test, size=size, seed=seed + 1000)
    elif dataset == "textures":
        full = _datasets.textures(n_train + n_val, size=size, seed=seed, split="train")
        test = _datasets.textures(n_test, size=size, seed=seed + 1000, split="test")
    else:
        raise ValueError(f"`dataset` must be 'shapes' or 'textures'; got {dataset!r}")
    cut = n_train
    train = _datasets.SegmentationData(full.images[:cut], full.labels[:cut], full.classes)
    val = _datasets.SegmentationData(full.images[cut:], full.labels[cut:], full.classes)
    return train, val, test


def narrow_convs(model, min_channels: int = 8) -> list[str]:
    """Names of the Conv / ConvTranspose nodes of an ONNX `model` with fewer than `min_channels` input or
    output channels (the first convolution on 1 or 3 image channels, the class-score convolutions).

    ONNX Runtime's int8 convolutions (im2col + an int8 GEMM per tile) pay off only for wide enough layers:
    measured on the shipped FCN at 1024 x 1024, the 3 -> 16 first convolution takes 75 ms as QLinearConv
    against 34 ms in float and the 16 -> 5 score convolution 21 ms against 8 ms, while the 16 -> 16 ... 128
    convolutions run 1.7 - 4x faster in int8. :func:`quantize_int8` leaves these nodes in float.
    """
    weights = {init.name: list(init.dims) for init in model.graph.initializer}
    for node in model.graph.node:  # the exporter shares equal weights through Identity nodes
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    names = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose") or len(node.input) < 2:
            continue
        dims = weights.get(node.input[1])
        if dims is None or len(dims) != 4:
            continue
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if node.op_type == "Conv":
            cout, cin = dims[0], dims[1] * group
        else:
            cin, cout = dims[0], dims[1] * group
        if min(cin, cout) < min_channels:
            names.append(node.name)
    return names


def quantize_int8(
    out: pathlib.Path,
    name: str,
    calib: _datasets.SegmentationData,
    test: _datasets.SegmentationData,
    *,
    count: int = 64,
    min_channels: int = 8,
) -> dict:
    """Write ``<name>-int8.onnx`` + JSON: ONNX Runtime static quantization in the QDQ format (int8
    per-channel weights, uint8 activations) calibrated on `count` images of `calib` (training data), and
    scored on `test` like the float model. Convolutions with fewer than `min_channels` input or output
    channels stay in float (:func:`narrow_convs`: int8 is slower there). Returns the int8 metadata."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process


    src = out / f"{name}.onnx"
    meta = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    channels = int(meta["channels"])
    x = prepare(calib.images[:count], channels)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter([{"image": x[i : i + 1]} for i in range(len(x))])

        def get_next(self):
            return next(self._it, None)

    pre = out / f"{name}.pre.onnx"
    dst = out / f"{name}-int8.onnx"
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
    in_float = narrow_convs(onnx.load(str(pre)), min_channels)
    quantize_static(
        str(pre),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=in_float,
    )
    pre.unlink()

    proto = onnx.load(str(dst))
    del proto.metadata_props[:]
    src_props = onnx.load(str(src)).metadata_props
    for p in src_props:
        proto.metadata_props.add(key=p.key, value=p.value)
    onnx.save(proto, str(dst))
    sess = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    xt = prepare(test.images, channels)
    pred = np.concatenate(
        [sess.run(None, {"image": xt[s : s + 32]})[0].argmax(1) for s in range(0, len(xt), 32)]
    ).astype(np.int32)
    scores = segmentation_scores(pred, test.labels, len(meta["classes"]))
    q = dict(meta)
    q.update(
        name=f"{name}-int8",
        summary=meta["summary"] + "; int8 (static QDQ quantization)",
        sha256=sha256_of(dst),
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
        "held_out": {
            **meta["metrics"]["held_out"],
            "pixel_accuracy": round(scores["pixel_accuracy"], 5),
            "mean_iou": round(scores["mean_iou"], 5),
            "iou": [round(v, 5) for v in scores["iou"]],
        },
        "float_mean_iou": meta["metrics"]["held_out"]["mean_iou"],
    }
    (out / f"{name}-int8.json").write_text(json.dumps(q, indent=2) + "\n", encoding="utf-8")
    return q


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
    progress: bool = True,
    threads: int | None = None,
    resume: bool = False,
) -> dict:
    """The steps every ``segen train <recipe>`` shares: data, training, ONNX + JSON, optional int8 variant.

    `params` are the recipe's keyword arguments as recorded in the metadata (they must include dataset,
    epochs, seed, size, n_train, n_val, n_test, batch_size, lr and patience); ``build_model(channels,
    n_classes)`` makes the untrained torch module; `size` must already be a multiple of `stride`; `threads`
    and `resume` are passed to :func:`train_segmenter` (record `threads` in `params` to have it in the
    command). Returns the metadata written to ``<name>.json``.
    """
    p = params
    dataset, size, seed = p["dataset"], p["size"], p["seed"]
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    name = name or f"{recipe}-{dataset}"
    n_train, n_val, n_test = p["n_train"], p["n_val"], p["n_test"]
    train_d, val_d, test_d = make_data(
        dataset, size=size, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed
    )
    channels = 3 if train_d.images.ndim == 4 else 1
    torch.manual_seed(seed)
    model = build_model(channels, len(train_d.classes))
    hist = train_segmenter(
        model,
        train_d,
        val_d,
        channels=channels,
        epochs=p["epochs"],
        seed=seed,
        out=out,
        name=name,
        batch_size=p["batch_size"],
        lr=p["lr"],
        patience=p["patience"],
        progress=progress,
        threads=threads,
        resume=resume,
    )
    command = f"segen train {recipe} " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in p.items())
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
        training={
            "command": command,
            "params": p,
            "torch": torch.__version__,
            "data": f"segen.data.{dataset}(n={n_train + n_val}, size={size}, seed={seed}); "
            f"first {n_train} train, last {n_val} validation",
            "test_data": f"segen.data.{dataset}(n={n_test}, size={size}, seed={seed + 1000}"
            + (", split='test')" if dataset == "textures" else ")"),
        },
        history=hist,
    )
    if int8:  # <name>-int8.onnx: static QDQ quantization calibrated on training images
        quantize_int8(out, name, train_d, test_d)
    return meta
