"""``segen segment IMAGE... -m METHOD -o OUT``: label images (and overlays) for image files.

Ctrl-C during a batch: the first press lets the current image finish and stops after it; a second press
stops at once and removes what the current image had written. Either way every result left in the output
folder is complete (each file is written atomically, see :func:`segen.io.imwrite`), a summary says how many
images were done and where the batch stopped, and the exit code is 130.
"""

from __future__ import annotations

import contextlib
import pathlib
import signal
import sys
import threading

import click

from ..errors import SegenError
from ..plugins.registry import describe_exception
from ._common import OUTPUT_DIR, PARAM, make_model, parse_params


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


class _StopAfterItem:
    """Ctrl-C in a batch: the first press asks to stop after the current item, the second raises
    ``KeyboardInterrupt`` at once. Only in the main thread with Python's default SIGINT handler; anywhere
    else a Ctrl-C (if it arrives at all) is a ``KeyboardInterrupt`` at once."""

    def __init__(self) -> None:
        self.requested = False
        self._handler = self._on_sigint  # one bound method: getsignal() gives this object back
        self._installed = False

    def _on_sigint(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        with contextlib.suppress(Exception):
            sys.stderr.write(
                "\nsegen: Ctrl-C: stopping after the current image (Ctrl-C again to stop at once)\n"
            )
            sys.stderr.flush()

    def __enter__(self) -> _StopAfterItem:
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    signal.signal(signal.SIGINT, self._handler)
                    self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(signal.SIGINT) is self._handler:
                    signal.signal(signal.SIGINT, signal.default_int_handler)


def _instances(seg) -> bool:
    """Whether `seg` says it returns instances (a segmenter that is no segen.Segmenter says nothing)."""
    return bool(getattr(seg, "instances", False))


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
    segmented is reported and skipped; the exit code is then 1. Ctrl-C stops after the current image
    (twice: at once), leaves only complete results and exits with 130. Example:

    \b
        segen segment photo.png -m kmeans -p k=5 -o out --overlay
    """
    # inside the command: `segen --help` loads neither numpy nor the C++ core nor tqdm
    import numpy as np
    from tqdm import tqdm

    from .. import io, viz

    _check_outputs(images, out_dir)
    seg = make_model("segmenter", method, parse_params(params), "'-m' / '--method'")
    out_dir.mkdir(parents=True, exist_ok=True)
    counts, failed = [], []
    stopped_at = None  # the first image not done when Ctrl-C stopped the batch
    written: list[pathlib.Path] = []  # the current image's results so far
    bar = tqdm(
        images,
        desc=f"segen segment -m {method}",
        unit="image",
        file=sys.stderr,
        disable=len(images) < 2 or None,
    )
    with _StopAfterItem() as stop:
        try:
            for i, path in enumerate(bar):
                if stop.requested:
                    stopped_at = i
                    break
                written = []
                try:
                    img = io.imread(path)
                    if img.ndim == 3 and img.shape[2] in (2, 4):  # drop alpha
                        img = np.ascontiguousarray(img[..., : img.shape[2] - 1])
                    labels = seg.segment(img)
                    written.append(io.write_labels(out_dir / f"{path.stem}_labels.png", labels))
                    if overlay:
                        written.append(out_dir / f"{path.stem}_overlay.png")
                        io.imwrite(written[-1], viz.overlay(img, labels, instances=_instances(seg)))
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # noqa: BLE001 - a plugin's segmenter may raise anything
                    if isinstance(exc, (SegenError, OSError, ValueError, TypeError)):
                        if fail_fast:
                            raise
                        text = describe_exception(exc).removeprefix(f"{type(exc).__name__}: ")
                    else:  # a bug in the segmenter (RuntimeError, SystemExit, ...): its type says more
                        text = f"segmenter {method!r} raised {describe_exception(exc)}"
                        if fail_fast:
                            raise click.ClickException(f"{path}: {text}") from exc
                    failed.append(path)
                    msg = text if path.name in text else f"{path}: {text}"
                    tqdm.write(f"segen: error: {msg}", file=sys.stderr)
                    continue
                written = []
                counts.append(len(np.unique(labels[labels > 0])))
        except KeyboardInterrupt:  # a second Ctrl-C, or one where no handler could be installed
            for p in written:  # an image is all or nothing: its labels without its overlay are removed
                p.unlink(missing_ok=True)
            stopped_at = len(counts) + len(failed)
        finally:
            bar.close()
    if stop.requested and stopped_at is None:  # Ctrl-C during the last image: all done, still interrupted
        stopped_at = len(images)
    if counts:
        click.echo(
            f"segmented {len(counts)} image(s) with {method} into {out_dir} "
            f"({min(counts)}..{max(counts)} labels per image)"
        )
    if stopped_at is not None:
        left = len(images) - stopped_at
        click.echo(
            f"segen: interrupted: {len(counts)} of {len(images)} image(s) done"
            + (f", {len(failed)} failed" if failed else "")
            + (f"; {left} not segmented, from {images[stopped_at]} on" if left else "")
            + "; every result written is complete",
            err=True,
        )
        ctx.exit(130)
    if failed:
        if len(images) > 1:  # one image: its error line says it all
            names = ", ".join(map(str, failed))
            click.echo(f"segen: {len(failed)} of {len(images)} image(s) failed: {names}", err=True)
        ctx.exit(1)
