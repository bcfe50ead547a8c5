"""``segen segment IMAGE... -m METHOD -o OUT``: label images, overlays, masks and cut-outs for image files,
folders of them, or one image on standard input.

Ctrl-C during a batch: the first press lets the current image finish and stops after it; a second press
stops at once and removes what the current image had written. Either way every result left in the output
folder is complete (each file is written atomically, see :func:`segen.io.imwrite`), a summary says how many
images were done and where the batch stopped, and the exit code is 130.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import sys
import threading
import time

import click

from ..errors import SegenError
from ..plugins.registry import describe_exception
from ._common import PARAM, make_model, output_dir, parse_ints, parse_params

#: segen.viz.RENDER_KINDS (not imported here: `segen --help` loads no numpy); a test keeps them equal.
OUTPUT_KINDS = ("labels", "overlay", "mask", "cutout")

#: File name endings a folder's images are recognised by (files named on the command line are read
#: whatever their name: segen.io finds the format from the content). segen.io.READ_SUFFIXES, not imported
#: here (`segen --help` loads no numpy); a test keeps them equal.
IMAGE_SUFFIXES = frozenset(
    ".png .jpg .jpeg .jpe .jfif .tif .tiff .webp .bmp .dib .gif .ico .ppm .pgm .pbm .pnm .qoi .tga .pcx "
    ".sgi .rgb .psd .dds .icns .jp2 .j2k .jpx .avif .xbm .xpm".split()
)

#: Stands for standard input among the inputs.
STDIN = pathlib.Path("-")


class _Inputs:
    """The images to segment: ``(path, name)`` pairs, ``name`` the result's path below the output folder
    without its ending (the file's stem, or its path inside a folder given), and what folders held that
    is not an image."""

    def __init__(self, args, recursive: bool, out_dir: pathlib.Path | None):
        self.items: list[tuple[pathlib.Path, pathlib.PurePath]] = []
        self.skipped: list[pathlib.Path] = []  # files in the folders that are no image by their name
        self.subfolders = 0  # folders not searched (no --recursive)
        out = out_dir.resolve() if out_dir is not None else None
        for arg in args:
            if arg == STDIN:
                if len(args) > 1:
                    raise click.BadParameter(
                        "'-' (standard input) must be the only IMAGE", param_hint="IMAGES"
                    )
                self.items.append((STDIN, pathlib.PurePath("stdin")))
            elif arg.is_dir():
                self._folder(arg, recursive, out)
            else:
                self.items.append((arg, pathlib.PurePath(arg.stem)))
        if not self.items:
            where = ", ".join(map(str, args))
            hint = "; add --recursive to search its subfolders" if self.subfolders else ""
            raise click.BadParameter(f"no image files in {where}{hint}", param_hint="IMAGES")

    def _folder(self, folder: pathlib.Path, recursive: bool, out) -> None:
        for root, dirs, files in os.walk(folder):  # symlinked folders are not followed: no loops
            here = pathlib.Path(root)
            hidden_or_output = [d for d in dirs if d.startswith(".") or (here / d).resolve() == out]
            if not recursive:
                self.subfolders += len(dirs)
            dirs[:] = sorted(d for d in dirs if d not in hidden_or_output) if recursive else []
            # the output folder is this one or holds it: what looks like a result is one (of an earlier run)
            ours = out is not None and (here.resolve() == out or out in here.resolve().parents)
            for name in sorted(files):
                path = here / name
                if name.startswith(".") or not path.is_file():
                    continue
                if ours and any(name.endswith(f"_{kind}.png") for kind in OUTPUT_KINDS):
                    continue
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    self.items.append((path, path.relative_to(folder).with_suffix("")))
                else:
                    self.skipped.append(path)


def _result_path(out_dir: pathlib.Path, name: pathlib.PurePath, kind: str) -> pathlib.Path:
    return out_dir / name.parent / f"{name.name}_{kind}.png"


def _check_outputs(inputs: _Inputs, kinds, out_dir: pathlib.Path) -> None:
    """Refuse inputs whose results would overwrite each other or overwrite an input."""
    seen: dict[pathlib.PurePath, pathlib.Path] = {}
    for path, name in inputs.items:
        if name in seen:
            raise click.BadParameter(
                f"several inputs are named {str(name)!r} ({seen[name]} and {path}); their results would "
                "overwrite each other",
                param_hint="IMAGES",
            )
        seen[name] = path
    sources = {p.resolve() for p, _ in inputs.items if p != STDIN}
    for _, name in inputs.items:
        for kind in kinds:
            result = _result_path(out_dir, name, kind)
            if result.resolve() in sources:
                raise click.BadParameter(
                    f"the result {result.name} would overwrite an input image; choose another --output",
                    param_hint="'-o' / '--output'",
                )


def _kinds(values, overlay: bool) -> list[str]:
    """``--output-kind`` values (repeatable, comma-separated) in order, once each; labels by default."""
    kinds: list[str] = []
    for value in values:
        for kind in (k.strip() for k in value.split(",")):
            if kind not in OUTPUT_KINDS:
                raise click.BadParameter(
                    f"{kind!r} is not one of {', '.join(OUTPUT_KINDS)}", param_hint="'-k' / '--output-kind'"
                )
            if kind not in kinds:
                kinds.append(kind)
    kinds = kinds or ["labels"]
    if overlay and "overlay" not in kinds:
        kinds.append("overlay")
    return kinds


def _binary(stream):
    """The byte stream under a text stream (``sys.stdin.buffer``), or `stream` when it is one already."""
    return getattr(stream, "buffer", stream)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # no such method, or a closed stream
        return False


def _foreground(value: str | None):
    if value is None:
        return None
    values = parse_ints(value, "'--foreground'")
    if min(values) < 0:
        raise click.BadParameter(f"label values are >= 0; got {value!r}", param_hint="'--foreground'")
    return values


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
    "images",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, allow_dash=True, path_type=pathlib.Path),
)
@click.option("-m", "--method", required=True, help="Segmenter name (`segen list`), e.g. kmeans, watershed.")
@PARAM
@output_dir(
    required=False,
    help="Folder for the results (created if missing). Needed unless the image is '-' (then the one "
    "result goes to standard output).",
)
@click.option("-r", "--recursive", is_flag=True, help="Also segment the images in the folders' subfolders.")
@click.option(
    "-k",
    "--output-kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="What to write for each image, repeatable or comma-separated (default: labels): "
    "labels (<name>_labels.png: 0 background, 1..N regions), overlay (<name>_overlay.png: coloured "
    "labels over the image), mask (<name>_mask.png: white foreground, black background), "
    "cutout (<name>_cutout.png: RGBA, the background transparent).",
)
@click.option("--overlay", is_flag=True, help="Also write the overlay (as --output-kind overlay).")
@click.option(
    "--legend/--no-legend",
    default=False,
    show_default=True,
    help="Overlay: a legend of the classes (or the number of objects) on the right.",
)
@click.option(
    "--boundaries/--no-boundaries",
    default=True,
    show_default=True,
    help="Overlay: draw region boundaries (switch them off on textured photos).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0.0, 1.0),
    default=0.4,
    show_default=True,
    help="Overlay: opacity of the label colours.",
)
@click.option(
    "--foreground",
    metavar="L1,L2,...",
    help="Mask and cutout: the label values kept (default: every label but 0), e.g. --foreground 1.",
)
@click.option(
    "--fail-fast",
    is_flag=True,
    help="Stop at the first image that cannot be read or segmented (default: report it, go on, exit 1).",
)
@click.pass_context
def segment(
    ctx,
    images,
    method: str,
    params,
    out_dir: pathlib.Path | None,
    recursive: bool,
    kinds,
    overlay: bool,
    legend: bool,
    boundaries: bool,
    alpha: float,
    foreground: str | None,
    fail_fast: bool,
) -> None:
    """Segment IMAGE... with a segmenter; writes <name>_labels.png (8-bit, or 16-bit past 255 labels).

    IMAGE is a file (PNG, JPEG, TIFF, WebP, BMP, GIF, ...; EXIF orientation applied), a folder (its
    images, found by their file endings; --recursive for subfolders, whose layout the results keep), or
    '-': one image read from standard input, its one result (a PNG) written to standard output unless -o
    is given. Labels are 0 for background, 1..N for regions (or class indices). An image that cannot be
    read or segmented is reported and skipped; the exit code is then 1. A summary line ends the run.
    Ctrl-C stops after the current image (twice: at once), leaves only complete results and exits with
    130. Examples:

    \b
        segen segment photo.png -m kmeans -p k=5 -o out --overlay
        segen segment photos/ -r -m foreground-kmeans -k mask,cutout -o out
        segen segment - -m otsu -k overlay --no-boundaries < in.webp > overlay.png
    """
    # inside the command: `segen --help` loads neither numpy nor the C++ core nor tqdm
    import numpy as np
    from tqdm import tqdm

    from .. import io, viz

    started = time.perf_counter()
    kinds = _kinds(kinds, overlay)
    values = _foreground(foreground)
    inputs = _Inputs(images, recursive, out_dir)
    to_stdout = out_dir is None
    if inputs.items[0][0] == STDIN and _is_terminal(sys.stdin):  # reading would wait for typed bytes
        raise click.UsageError(
            "standard input is a terminal: redirect an image into it (< photo.jpg) or pipe one (cat x | ...)"
        )
    if to_stdout:
        if inputs.items[0][0] != STDIN:
            raise click.BadParameter(
                "needed unless the image is '-' (standard input)", param_hint="'-o' / '--output'"
            )
        if len(kinds) != 1:
            raise click.BadParameter(
                f"standard output takes one result; got {', '.join(kinds)} (or pass -o)",
                param_hint="'-k' / '--output-kind'",
            )
        stdout = _binary(sys.stdout)
        if _is_terminal(stdout):
            raise click.UsageError(
                "standard output is a terminal: redirect it to a file (> result.png) or pass -o FOLDER"
            )
    else:
        _check_outputs(inputs, kinds, out_dir)
    seg = make_model("segmenter", method, parse_params(params), "'-m' / '--method'")
    names = tuple(getattr(getattr(seg, "info", None), "classes", ()) or ())
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    items = inputs.items
    counts, failed, files = [], [], 0
    stopped_at = None  # the first image not done when Ctrl-C stopped the batch
    written: list[pathlib.Path] = []  # the current image's results so far
    bar = tqdm(
        items,
        desc=f"segen segment -m {method}",
        unit="image",
        file=sys.stderr,
        disable=len(items) < 2 or None,
    )
    with _StopAfterItem() as stop:
        try:
            for i, (path, name) in enumerate(bar):
                if stop.requested:
                    stopped_at = i
                    break
                written = []
                try:
                    if path == STDIN:
                        img = io.imdecode(_binary(sys.stdin))
                    else:
                        img = io.imread(path)
                    if img.ndim == 3 and img.shape[2] in (2, 4):  # drop alpha
                        img = np.ascontiguousarray(img[..., : img.shape[2] - 1])
                    labels = seg.segment(img)
                    for kind in kinds:
                        result = viz.render(
                            img,
                            labels,
                            kind,
                            alpha=alpha,
                            boundaries=boundaries,
                            legend=legend,
                            names=names,
                            instances=_instances(seg),
                            foreground=values,
                        )
                        if to_stdout:
                            data = io.encode_labels(result)[0] if kind == "labels" else io.imencode(result)
                            stdout.write(data)
                            stdout.flush()
                        elif kind == "labels":
                            (out_dir / name.parent).mkdir(parents=True, exist_ok=True)
                            written.append(io.write_labels(_result_path(out_dir, name, kind), result))
                        else:
                            (out_dir / name.parent).mkdir(parents=True, exist_ok=True)
                            written.append(_result_path(out_dir, name, kind))
                            io.imwrite(written[-1], result)
                        files += 1
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
                    label = "<stdin>" if path == STDIN else str(path)
                    msg = text if (path.name in text or path == STDIN) else f"{label}: {text}"
                    tqdm.write(f"segen: error: {msg}", file=sys.stderr)
                    continue
                written = []
                counts.append(len(np.unique(labels[labels > 0])))
        except KeyboardInterrupt:  # a second Ctrl-C, or one where no handler could be installed
            for p in written:  # an image is all or nothing: its labels without its overlay are removed
                p.unlink(missing_ok=True)
                files -= 1
            stopped_at = len(counts) + len(failed)
        finally:
            bar.close()
    if stop.requested and stopped_at is None:  # Ctrl-C during the last image: all done, still interrupted
        stopped_at = len(items)
    if counts or len(items) > 1:  # one image that failed: its error line says it all
        where = "standard output" if to_stdout else out_dir
        skipped = len(inputs.skipped)
        per_image = f" ({min(counts)}..{max(counts)} labels per image)" if counts else ""
        click.echo(
            f"segmented {len(counts)} image(s) with {method} into {where}{per_image}: {files} file(s) written"
            + (f", {len(failed)} image(s) failed" if failed else "")
            + (f", {skipped} file(s) skipped (not images by their names)" if skipped else "")
            + (f", {inputs.subfolders} subfolder(s) not searched (--recursive)" if inputs.subfolders else "")
            + f" in {time.perf_counter() - started:.1f} s",
            err=to_stdout,
        )
    if stopped_at is not None:
        left = len(items) - stopped_at
        click.echo(
            f"segen: interrupted: {len(counts)} of {len(items)} image(s) done"
            + (f", {len(failed)} failed" if failed else "")
            + (f"; {left} not segmented, from {items[stopped_at][0]} on" if left else "")
            + "; every result written is complete",
            err=True,
        )
        ctx.exit(130)
    if failed:
        if len(items) > 1:  # one image: its error line says it all
            names_failed = ", ".join(map(str, failed))
            click.echo(f"segen: {len(failed)} of {len(items)} image(s) failed: {names_failed}", err=True)
        ctx.exit(1)
