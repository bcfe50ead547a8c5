"""``segen segment IMAGE... -m METHOD -o OUT``: label images (and overlays) for image files."""

from __future__ import annotations

import pathlib
import sys

import click

from ..errors import SegenError
from ..plugins import get_segmenter
from ._common import OUTPUT_DIR, PARAM, parse_params


def _check_outputs(images, out_dir: pathlib.Path) -> None:
    """Refuse inputs whose results would overwrite each other or overwrite an input."""
    stems = [p.stem for p in images]
    dup = sorted({s for s in stems if stems.count(s) > 1})
    if dup:
        raise click.BadParameter(
            f"several inputs are named {dup[0]!r}; their results would overwrite each other",
            param_hint="IMAGES",
        )
    inputs = {p.resolve() for p in images}
    for stem in stems:
        for suffix in ("_labels.png", "_overlay.png"):
            if (out_dir / f"{stem}{suffix}").resolve() in inputs:
                raise click.BadParameter(
                    f"the result {stem}{suffix} would overwrite an input image; choose another --output",
                    param_hint="'-o' / '--output'",
                )


@click.command()
@click.argument(
    "images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@click.option("-m", "--method", required=True, help="Segmenter name (`segen list`), e.g. kmeans, watershed.")
@PARAM
@OUTPUT_DIR
@click.option(
    "--overlay", is_flag=True, help="Also write <name>_overlay.png: coloured labels and boundaries."
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first image that cannot be read or segmented (default: report it, go on, exit 1).",
)
@click.pass_context
def segment(ctx, images, method: str, params, out_dir: pathlib.Path, overlay: bool, fail_fast: bool) -> None:
    """Segment IMAGE... with a segmenter; writes <name>_labels.png (8-bit, or 16-bit past 255 labels).

    Labels are 0 for background, 1..N for regions (or class indices). An image that cannot be read or
    segmented is reported and skipped; the exit code is then 1. Example:

    \b
        segen segment photo.png -m kmeans -p k=5 -o out --overlay
    """
    # inside the command: `segen --help` loads neither numpy nor the C++ core nor tqdm
    import numpy as np
    from tqdm import tqdm

    from .. import io, viz

    _check_outputs(images, out_dir)
    seg = get_segmenter(method, **parse_params(params))
    out_dir.mkdir(parents=True, exist_ok=True)
    counts, failed = [], []
    for path in tqdm(
        images,
        desc=f"segen segment -m {method}",
        unit="image",
        file=sys.stderr,
        disable=len(images) < 2 or None,
    ):
        try:
            img = io.imread(path)
            if img.ndim == 3 and img.shape[2] in (2, 4):  # drop alpha
                img = np.ascontiguousarray(img[..., : img.shape[2] - 1])
            labels = seg.segment(img)
            io.write_labels(out_dir / f"{path.stem}_labels.png", labels)
            if overlay:
                io.imwrite(out_dir / f"{path.stem}_overlay.png", viz.overlay(img, labels))
        except (SegenError, OSError, ValueError, TypeError) as exc:
            if fail_fast:
                raise
            failed.append(path)
            msg = str(exc) if path.name in str(exc) else f"{path}: {exc}"
            tqdm.write(f"segen: error: {msg}", file=sys.stderr)
            continue
        counts.append(len(np.unique(labels[labels > 0])))
    if counts:
        click.echo(
            f"segmented {len(counts)} image(s) with {method} into {out_dir} "
            f"({min(counts)}..{max(counts)} labels per image)"
        )
    if failed:
        if len(images) > 1:  # one image: its error line says it all
            names = ", ".join(map(str, failed))
            click.echo(f"segen: {len(failed)} of {len(images)} image(s) failed: {names}", err=True)
        ctx.exit(1)
