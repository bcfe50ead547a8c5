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


def _matching(seg, folder, match: str) -> tuple[str, list | None, str | None]:
    """How the model's labels become the data set's classes (see --match): ("none" | "hungarian" |
    "majority", a model-to-data class index table when the same class names come in another order, a
    warning or None)."""
    k = folder.num_classes  # read here: it may scan the masks (a folder without classes.json)
    named = (folder.root / "classes.json").is_file()
    if match != "auto":
        return match, None, None
    model_classes = tuple(getattr(seg.info, "classes", ()) or ())
    if not model_classes:  # an unsupervised segmenter: its label numbers mean nothing
        return "hungarian", None, None
    if len(model_classes) != k:
        counted = "" if named else ", counted from its masks: no classes.json"
        raise click.ClickException(
            f"the model has {len(model_classes)} classes ({', '.join(model_classes)}) but the data set has "
            f"{k} ({', '.join(folder.classes)}{counted}); use --match hungarian to match its labels "
            "to the classes image by image anyway"
        )
    mine = [c.strip().lower() for c in model_classes]
    theirs = [c.strip().lower() for c in folder.classes]
    if not named or mine == theirs:
        return "none", None, None
    if sorted(mine) == sorted(theirs) and len(set(mine)) == k:  # the same names in another order
        return "none", [theirs.index(c) for c in mine], None
    return (
        "none",
        None,
        f"the model's classes ({', '.join(model_classes)}) are not named as the data set's "
        f"({', '.join(folder.classes)}); compared by index",
    )


def _class_labels(seg, folder, pairs, how: str, table, progress: bool):
    """(the accumulated confusion matrix, per-image rows); `table` renumbers the model's classes."""
    import numpy as np
    from tqdm import tqdm

    from ..eval import metrics

    k = folder.num_classes
    acc = metrics.ConfusionAccumulator(k, ignore_index=folder.ignore_index, match=how)
    rows = []
    for pair in tqdm(pairs, desc="segen evaluate", unit="image", file=sys.stderr, disable=not progress):
        image, truth = folder.read(pair)  # the image at the data set's channels, as segen train feeds it
        pred = np.asarray(seg.segment(image))
        if pred.shape != truth.shape:
            raise click.ClickException(
                f"{pair[0]}: the model returned {pred.shape} labels for a {truth.shape} mask"
            )
        if pred.size and pred.min() < 0:
            raise click.ClickException(f"{pair[0]}: the model returned negative labels")
        if how == "none" and pred.size and int(pred.max()) >= k:
            raise click.ClickException(
                f"{pair[0]}: the model returned label {int(pred.max())}, but the data set has {k} classes"
                " (use --match hungarian or majority for a segmenter whose labels are not these classes)"
            )
        if table is not None:
            pred = np.asarray(table)[pred]
        s = metrics.scores_from_confusion(acc.update(pred, truth))
        row = {"image": str(pair[0]), "pixel_accuracy": s["pixel_accuracy"], "mean_iou": s["mean_iou"]}
        if how != "none":  # how many labels were matched (majority voting flatters many small ones)
            row["labels"] = int(np.unique(pred).size)
        rows.append(row)
    return acc.matrix, rows


_HOW = {
    "none": "none (labels are the data set's classes)",
    "name": "by name (the model's classes, in another order, renumbered as the data set's)",
    "hungarian": "hungarian (each image's labels matched one-to-one to classes; labels left over count as wrong)",
    "majority": "majority (each image's labels given the class most of their pixels have; optimistic)",
}


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
    type=click.Choice(("auto", "none", "hungarian", "majority")),
    default="auto",
    show_default=True,
    help="How labels become classes. none: labels are class indices; hungarian: each image's labels are "
    "matched one-to-one to classes (unsupervised segmenters); majority: each label gets the class most of "
    "its pixels have (superpixels; optimistic); auto: none (by name when both sides name the same classes "
    "in another order) for a model with the data's number of classes, hungarian for one that declares "
    "no classes, else an error.",
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
    if instances and picture is not None:
        raise click.UsageError("--picture draws a confusion matrix of classes; instance masks have none")
    folder = SegmentationFolder(data, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)
    split, pairs = _split_files(folder, split)
    if not pairs:
        raise click.ClickException(f"{data}: no image in the {split!r} split")
    report = {
        "model": str(model),
        "model_classes": list(getattr(seg.info, "classes", ()) or ()),
        "data": str(data),
        "split": split,
        "images": len(pairs),
        "data_fingerprint": folder.fingerprint(),
    }
    if instances:
        report.update(_instances(seg, pairs, progress))
        _print_instances(report)
    else:
        from ..eval import metrics

        with warnings.catch_warnings():  # the training split's warnings (a class absent from val): not ours
            warnings.filterwarnings("ignore", message=".*absent from the validation split")
            how, table, warning = _matching(seg, folder, match)
        if warning:
            click.echo(f"segen: warning: {warning}", err=True)
            report["warnings"] = [warning]
        cm, rows = _class_labels(seg, folder, pairs, how, table, progress)
        how = "name" if table is not None else how
        report.update(classes=list(folder.classes), matching=_HOW[how], **metrics.scores_from_confusion(cm))
        report["confusion_matrix"] = cm.tolist()
        report["per_image"] = rows
        _print_classes(report)
        if picture is not None:
            from .. import io, viz

            io.imwrite(picture, viz.confusion_picture(cm, list(folder.classes)))
            click.echo(f"wrote {picture}")
    report["seconds"] = round(time.perf_counter() - t0, 3)
    if json_path is not None:
        # strict JSON: a score of a class absent from truth and prediction (NaN) is written as null
        text = json.dumps(_no_nan(report), indent=1, allow_nan=False)
        json_path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {json_path}")


def _no_nan(value):
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


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
        ap = metrics.average_precision(pred, truth.astype(np.int64))  # thresholds 0.5, 0.55, .., 0.95
        rows.append(
            {
                "image": str(img_path),
                "ap50": ap["ap"][0],
                "dsb_mean_ap": ap["mean_ap"],
                "precision": ap["precision"][0],
                "recall": ap["recall"][0],
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
    if r["unmatched_pixels"]:
        share = r["unmatched_pixels"] / max(sum(r["support"]), 1)
        click.echo(
            f"{r['unmatched_pixels']} pixels ({share:.1%}) in labels matched to no class, counted wrong"
        )


def _print_instances(r: dict) -> None:
    click.echo(f"{r['model']} on {r['data']} ({r['split']}, {r['images']} images; instances)")
    click.echo(
        f"AP@0.5 {r['ap50']:.4f}  DSB mean AP {r['dsb_mean_ap']:.4f}  precision {r['precision']:.4f}  "
        f"recall {r['recall']:.4f} (means over the images)"
    )
