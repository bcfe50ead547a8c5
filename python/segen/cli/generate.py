"""``segen generate MODEL -o OUT``: samples of a generator as a grid and/or single PNGs, or a latent walk."""

from __future__ import annotations

import pathlib

import click

from ._common import OUTPUT_DIR, PARAM, make_model, parse_ints, parse_params


def _parse_interpolate(value: str | None):
    """``"3,7"`` -> ``(3, 7)``; None stays None."""
    if value is None:
        return None
    parts = value.split(",")
    try:
        a, b = (int(v) for v in parts)
    except ValueError:
        raise click.BadParameter(
            f"expected two comma-separated integer seeds A,B; got {value!r}", param_hint="'--interpolate'"
        ) from None
    return a, b


def _parse_labels(labels: str | None, interpolating: bool):
    """``"7"`` -> 7, ``"1,2,3"`` -> [1, 2, 3], None -> None; an interpolation takes one label."""
    if labels is None:
        return None
    lab = parse_ints(labels, "'--labels'")
    if interpolating and len(lab) != 1:
        raise click.BadParameter(
            f"--interpolate takes one label (the class of the whole path); got {labels!r}",
            param_hint="'--labels'",
        )
    return lab[0] if len(lab) == 1 else lab


def _write_gif(path: pathlib.Path, frames, *, scale: int = 8, ms: int = 120) -> None:
    """An animated GIF going from the first frame to the last and back (each pixel `scale` x `scale`)."""
    import numpy as np
    from PIL import Image

    big = np.repeat(np.repeat(np.asarray(frames), scale, axis=1), scale, axis=2)
    seq = list(big) + list(big[-2:0:-1])  # ping-pong
    images = [Image.fromarray(f) for f in seq]
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms, loop=0)


@click.command()
@click.argument("model")
@click.option(
    "-n", "n", type=click.IntRange(1, 4096), default=16, show_default=True, help="Number of images."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latent vectors.")
@click.option(
    "--labels", help="Comma-separated class labels for a conditional model (one, or one per image)."
)
@click.option(
    "--interpolate",
    metavar="A,B",
    help="Instead of N samples, walk the latent space from seed A's sample to seed B's (slerp); writes "
    "<model>_interp.png (a strip) and <model>_interp.gif.",
)
@click.option(
    "--steps",
    type=click.IntRange(2, 4096),
    default=8,
    show_default=True,
    help="Images along an --interpolate path, ends included.",
)
@PARAM
@OUTPUT_DIR
@click.option(
    "--scale",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    metavar="K",
    help="Enlarge each image K times (nearest neighbour: every pixel a K x K block), so small samples "
    "are readable; also the --interpolate GIF (8 by default).",
)
@click.option("--grid/--no-grid", default=True, show_default=True, help="Write <model>_grid.png.")
@click.option("--individual", is_flag=True, help="Also write each image as <model>_<i>.png.")
def generate(
    model: str,
    n: int,
    seed: int,
    labels: str | None,
    interpolate: str | None,
    steps: int,
    params,
    out_dir: pathlib.Path,
    scale: int,
    grid: bool,
    individual: bool,
) -> None:
    """Generate N images with the generator MODEL (`segen list`); writes a grid PNG and/or the images.

    With --interpolate A,B it writes the STEPS images between the samples of seeds A and B instead
    (the same images as `-n 1 --seed A` and `-n 1 --seed B` at the ends). Examples:

    \b
        segen generate cgan-digits -n 20 --seed 1 --labels 7 --scale 4 -o out
        segen generate dcgan-digits --interpolate 3,8 --steps 10 -o out
    """
    from .. import io, viz  # inside the command: `segen --help` loads neither numpy nor the C++ core

    if not grid and not individual:
        raise click.BadParameter("nothing to write: --no-grid needs --individual", param_hint="'--no-grid'")
    ends = _parse_interpolate(interpolate)
    lab = _parse_labels(labels, ends is not None)
    gen = make_model("generator", model, parse_params(params), "'MODEL'")
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = model.replace(":", "-")
    if ends is not None:
        frames = gen.interpolate(ends[0], ends[1], steps, label=lab)
        _write_gif(out_dir / f"{stem}_interp.gif", frames, scale=scale if scale > 1 else 8)
        frames = _enlarge(frames, scale)
        io.imwrite(out_dir / f"{stem}_interp.png", viz.image_grid(frames, columns=steps))
        if individual:
            _write_each(out_dir, f"{stem}_interp", frames)
        click.echo(
            f"interpolated {steps} image(s) of {frames.shape[1]}x{frames.shape[2]} with {model} from seed "
            f"{ends[0]} to seed {ends[1]} into {out_dir}"
        )
        return
    samples = _enlarge(gen.generate(n, seed=seed, labels=lab), scale)
    if grid:
        io.imwrite(out_dir / f"{stem}_grid.png", viz.image_grid(samples))
    if individual:
        _write_each(out_dir, stem, samples)
    click.echo(
        f"generated {n} image(s) of {samples.shape[1]}x{samples.shape[2]} with {model} "
        f"(seed {seed}) into {out_dir}"
    )


def _enlarge(images, scale: int):
    """Each image of the stack `images` (n, H, W[, C]) `scale` times larger, each pixel a block."""
    if scale == 1:
        return images
    import numpy as np

    from .._shared.limits import check_allocation

    shape = (images.shape[0], images.shape[1] * scale, images.shape[2] * scale) + images.shape[3:]
    check_allocation(float(np.prod(shape, dtype=np.float64)) * images.itemsize, f"{shape} images (--scale)")
    return np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)


def _write_each(out_dir, stem: str, images) -> None:
    """``<stem>_0000.png``, ``<stem>_0001.png``, ... one file per image."""
    from .. import io

    for i, img in enumerate(images):
        io.imwrite(out_dir / f"{stem}_{i:04d}.png", img)
