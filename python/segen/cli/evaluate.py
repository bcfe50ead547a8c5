"""``segen evaluate -m MODEL --data DIR``: a segmenter's scores on a data set folder (images/ + masks/)."""

from __future__ import annotations

import json
import pathlib
import sys
import time
import warnings

import click

from ._common import PARAM, make_model, parse_params

SPLIT_CHOICES = ("auto", "all", "train", "val", "test")


def _split_files(folder, split: str):
    if split == "auto":
        split = "test" if (folder.root / "test").is_dir() else "all"
    return split, folder.files(None if split == "all" else split)


def _class_labels(seg, folder, pairs, match: str, progress: bool):
    """(confusion matrix over the classes, per-image rows, how labels were matched)."""
    import numpy as np
    from tqdm import tqdm

    from .. import io
    from ..eval import metrics

    with warnings.catch_warnings():  # the training split's warnings (a class absent from val) are not ours
        warnings.filterwarnings("ignore", message=".*absent from the validation split")
        k = folder.num_classes
    model_classes = tuple(getattr(seg.info, "classes", ()) or ())
    direct = match == "none" or (match == "auto" and len(model_classes) == k)
    rows, total = [], None
    for img_path, _ in tqdm(
        pairs, desc="segen evaluate", unit="image", file=sys.stderr, disable=not progress
    ):
        _, truth = folder.read((img_path, _))
        pred = np.asarray(seg.segment(io.imread(img_path)))
        if pred.shape != truth.shape:
            raise click.ClickException(
                f"{img_path}: the model returned {pred.shape} labels for a {truth.shape} mask"
            )
        if pred.size and pred.min() < 0:
            raise click.ClickException(f"{img_path}: the model returned negative labels")
        if direct:
            top = int(pred.max()) if pred.size else 0
            if top >= k:
                raise click.ClickException(
                    f"{img_path}: the model returned label {top}, but the data set has {k} classes"
                    " (use --match hungarian for a segmenter whose labels are not these classes)"
                )
            cm = metrics.confusion_matrix(pred, truth, k, ignore_index=folder.ignore_index)
        else:
            # an unsupervised segmenter's label numbers mean nothing and differ from image to image: its
            # clusters are matched to classes one-to-one in each image; pixels of a cluster left without a
            # class (more clusters than classes) go to an extra "unmatched" column
            n_pred = int(pred.max()) + 1 if pred.size else 1
            raw = metrics.confusion_matrix(pred, truth, k, num_pred=n_pred, ignore_index=folder.ignore_index)
            to_column = np.where((m := metrics.match_clusters(raw)) >= 0, m, k)
            cm = np.zeros((k, k + 1), np.int64)
            np.add.at(cm, (slice(None), to_column), raw)
        rows.append({"image": str(img_path), **_image_scores(metrics, cm)})
        total = cm if total is None else total + cm
    how = (
        "none (labels are the data set's classes)"
        if direct
        else "hungarian (each image's clusters matched one-to-one to classes)"
    )
    return total, rows, how


def _scores(metrics, cm) -> dict:
    """scores_from_confusion of a (K, K) matrix, or of a (K, K + 1) one whose last column counts pixels of
    clusters matched to no class (wrong for their true class, credited to none)."""
    import numpy as np

    k = cm.shape[0]
    if cm.shape[1] == k:
        return metrics.scores_from_confusion(cm)
    square = np.zeros((k + 1, k + 1), np.int64)
    square[:k] = cm
    s = metrics.scores_from_confusion(square)
    iou, dice = s["iou"][:k], s["dice"][:k]
    present = [x for x in iou if x == x]
    return {
        "pixel_accuracy": s["pixel_accuracy"],
        "iou": iou,
        "dice": dice,
        "mean_iou": float(np.mean(present)) if present else float("nan"),
        "mean_dice": float(np.nanmean(dice)) if present else float("nan"),
        "support": s["support"][:k],
        "unmatched_pixels": int(cm[:, k].sum()),
    }


def _image_scores(metrics, cm) -> dict:
    s = _scores(metrics, cm)
    return {"pixel_accuracy": s["pixel_accuracy"], "mean_iou": s["mean_iou"]}


@click.command()
@click.option(
    "-m", "--model", "model", required=True, help="Segmenter name (`segen list`) or a model.onnx path."
)
@click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path),
    help="Data set folder: images/ + masks/ (optional classes.json, train/ val/ test/).",
)
@click.option(
    "--split",
    type=click.Choice(SPLIT_CHOICES),
    default="auto",
    show_default=True,
    help="Files to score; auto: test/ when the folder has one, else all.",
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Seed of a drawn split.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True)
@click.option("--test-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True)
@click.option(
    "--match",
    type=click.Choice(("auto", "none", "hungarian")),
    default="auto",
    show_default=True,
    help="How labels become classes; auto: as they are when the model has as many classes as the data, "
    "else matched one-to-one (Hungarian) over the whole set.",
)
@click.option("--instances", is_flag=True, help="Masks are instances (0 = background): object-level scores.")
@PARAM
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Write all scores here.",
)
@click.option(
    "--picture",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Write the confusion matrix as a PNG here.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on standard error.")
def evaluate(
    model,
    data,
    split,
    seed,
    val_fraction,
    test_fraction,
    match,
    instances,
    params,
    json_path,
    picture,
    progress,
):
    """Score a segmenter on a data set folder: pixel accuracy, per-class IoU and Dice, mean IoU (or, for
    instance masks, AP@0.5 and the DSB 2018 mean AP), per image and over the set."""
    from ..data import SegmentationFolder

    seg = make_model("segmenter", model, parse_params(params), "'-m' / '--model'")
    t0 = time.perf_counter()
    instances = instances or bool(getattr(seg, "instances", False))
    folder = SegmentationFolder(data, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)
    split, pairs = _split_files(folder, split)
    if not pairs:
        raise click.ClickException(f"{data}: no image in the {split!r} split")
    report = {
        "model": model,
        "data": str(data),
        "split": split,
        "images": len(pairs),
        "data_fingerprint": folder.fingerprint(),
    }
    if instances:
        report.update(_instances(seg, pairs, progress))
        _print_instances(report)
    else:
        cm, rows, how = _class_labels(seg, folder, pairs, match, progress)
        from ..eval import metrics

        report.update(classes=list(folder.classes), matching=how, **_scores(metrics, cm))
        report["confusion_matrix"] = cm.tolist()
        report["per_image"] = rows
        _print_classes(report)
        if picture is not None:
            from .. import io, viz

            io.imwrite(picture, viz.confusion_picture(cm, list(folder.classes)))
            click.echo(f"wrote {picture}")
    report["seconds"] = round(time.perf_counter() - t0, 3)
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=1), encoding="utf-8")
        click.echo(f"wrote {json_path}")


def _instances(seg, pairs, progress: bool) -> dict:
    import numpy as np
    from tqdm import tqdm

    from .. import io
    from ..eval import metrics

    rows = []
    for img_path, mask_path in tqdm(
        pairs, desc="segen evaluate", unit="image", file=sys.stderr, disable=not progress
    ):
        truth = np.asarray(io.imread(mask_path))
        if truth.ndim != 2:
            raise click.ClickException(f"{mask_path}: an instance mask must be one channel of object ids")
        pred = np.asarray(seg.segment(io.imread(img_path)))
        ap = metrics.average_precision(pred, truth.astype(np.int64))
        s = metrics.instance_scores(pred, truth.astype(np.int64), 0.5)
        rows.append(
            {
                "image": str(img_path),
                "ap50": s["ap"],
                "dsb_mean_ap": ap["mean_ap"],
                "precision": s["precision"],
                "recall": s["recall"],
            }
        )
    return {
        "ap50": float(np.mean([r["ap50"] for r in rows])),
        "dsb_mean_ap": float(np.mean([r["dsb_mean_ap"] for r in rows])),
        "precision": float(np.mean([r["precision"] for r in rows])),
        "recall": float(np.mean([r["recall"] for r in rows])),
        "per_image": rows,
    }


def _print_classes(r: dict) -> None:
    click.echo(f"{r['model']} on {r['data']} ({r['split']}, {r['images']} images); matching: {r['matching']}")
    click.echo(
        f"pixel accuracy {r['pixel_accuracy']:.4f}  mean IoU {r['mean_iou']:.4f}  mean Dice {r['mean_dice']:.4f}"
    )
    width = max(len(c) for c in r["classes"])
    click.echo(f"{'class':<{width}}  {'IoU':>7}  {'Dice':>7}  {'pixels':>10}")
    for name, iou, dice, n in zip(r["classes"], r["iou"], r["dice"], r["support"]):
        click.echo(f"{name:<{width}}  {iou:7.4f}  {dice:7.4f}  {n:10d}")


def _print_instances(r: dict) -> None:
    click.echo(f"{r['model']} on {r['data']} ({r['split']}, {r['images']} images; instances)")
    click.echo(
        f"AP@0.5 {r['ap50']:.4f}  DSB mean AP {r['dsb_mean_ap']:.4f}  precision {r['precision']:.4f}  "
        f"recall {r['recall']:.4f} (means over the images)"
    )
