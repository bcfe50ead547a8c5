"""``segen demo``: every operator, segmenter and generator on sample images; pictures, a contact sheet
(demo.png) and an HTML index (index.html).

Imports numpy and segen's image modules inside the functions (``segen --help`` loads neither), and never
torch, scikit-image, SciPy, OpenCV or scikit-learn (tested).
"""

from __future__ import annotations

import html
import pathlib
import sys
import time

import click

from ..plugins import get_generator, get_host, get_segmenter, list_generators, list_segmenters
from ._common import output_dir


def _demo_steps():
    """(file stem, caption, function of the sample) for each picture of an operator the demo writes."""
    import numpy as np

    from .. import color, features, filters, transform, viz

    gray = color.rgb2gray
    thetas = [0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]

    def gabor_rgb(s):
        bank = features.gabor_bank(gray(s), frequencies=[1 / 8, 1 / 16], thetas=thetas)
        # three of the eight smoothed magnitudes as the red, green and blue of one picture
        return np.stack([viz.to_uint8(bank[..., i]) for i in (0, 1, 6)], axis=-1)

    return [
        ("input", "input (RGB)", lambda s: s),
        ("gray", "rgb2gray", gray),
        ("hue", "rgb2hsv: hue", lambda s: color.rgb2hsv(s)[..., 0]),
        ("gaussian", "gaussian sigma=3", lambda s: filters.gaussian(s, sigma=3)),
        ("sobel", "sobel magnitude", lambda s: filters.sobel(gray(s))),
        ("log", "gaussian_laplace sigma=2", lambda s: filters.gaussian_laplace(gray(s), sigma=2)),
        ("canny", "canny sigma=2", lambda s: features.canny(gray(s), sigma=2)),
        ("gabor", "gabor_bank: 3 of 8 channels", gabor_rgb),
        (
            "resize",
            "resize 1/4, area",
            lambda s: transform.resize(s, (s.shape[0] // 4, s.shape[1] // 4), method="area"),
        ),
        ("rotate", "rotate 30 deg, bilinear", lambda s: transform.rotate(s, 30, resize=True)),
        ("flip", "flip left-right", lambda s: transform.flip(s, axis=1)),
    ]


def _load_sample(image):
    """The user's image as RGB uint8."""
    import numpy as np

    from .. import io, viz

    sample = io.imread(image)
    if sample.ndim == 2:
        sample = np.stack([sample] * 3, axis=-1)
    sample = np.ascontiguousarray(sample[..., :3])
    if sample.dtype != np.uint8:
        sample = viz.to_uint8(sample)
    return sample


def _demo_models():
    """(kind, name, function of the sample) for each registered segmenter and generator."""
    reg = get_host().registry
    steps = []
    for entry in sorted(reg.entries("segmenter"), key=lambda e: (e.name, e.plugin)):

        def run(sample, q=entry.qualified_name):
            seg = get_segmenter(q)
            # the segmenter's own kind of image: shipped ONNX models draw one from their training data set
            # (segen.plugins.register_shipped_models); None means the sample scene
            own = seg.sample_input()
            img = sample if own is None else own
            return img, seg.segment(img), bool(getattr(seg, "instances", False)), own is not None

        steps.append(("segmenter", reg.display_name(entry), run))
    for entry in sorted(reg.entries("generator"), key=lambda e: (e.name, e.plugin)):

        def run(_sample, q=entry.qualified_name):
            gen = get_generator(q)
            k = gen.info.num_classes  # a conditional model: classes in order, rows of one class for k = 4
            return gen.generate(16, seed=0, labels=sorted(i % k for i in range(16)) if k else None)

        steps.append(("generator", reg.display_name(entry), run))
    return steps


def _pictures(kind, name, what, sample):
    """Run one step; returns its time in ms (the step only, not the drawing) and its pictures as
    [(stem, caption, picture, detail)]."""
    import numpy as np

    from .. import viz

    t0 = time.perf_counter()
    if kind == "operator":
        caption, fn = what
        result = fn(sample)
        ms = (time.perf_counter() - t0) * 1e3
        return ms, [(name, caption, viz.to_uint8(result), f"{result.shape} {result.dtype}")]
    if kind == "segmenter":
        img, labels, instances, own = what(sample)
        ms = (time.perf_counter() - t0) * 1e3
        stem = "seg-" + name.replace(":", "-")
        n = f"{len(np.unique(labels[labels > 0]))} {'objects' if instances else 'labels'}"
        made = [
            (stem + "-labels", f"{name}: labels", viz.label2rgb(labels, instances=instances), n),
            (stem + "-overlay", f"{name}: overlay", viz.overlay(img, labels, instances=instances), n),
        ]
        if instances and own:
            made.append(_versus_recipe(stem, name, img, labels))
        return ms, made
    images = what(sample)
    ms = (time.perf_counter() - t0) * 1e3
    scale = max(1, -(-64 // min(images.shape[1:3])))  # small samples drawn at least 64 px
    big = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
    stem = "gen-" + name.replace(":", "-")
    return ms, [(stem, f"{name}: 16 samples", viz.image_grid(big), f"{images.shape} {images.dtype}")]


def _versus_recipe(stem: str, name: str, img, labels):
    """An instance model next to the classical recipe on the same image of its own kind: the model's
    overlay | segment_touching_objects (Gaussian sigma 1, local threshold, distance-transform peaks 7 px
    apart, watershed) on the same image."""
    import numpy as np

    from .. import color, filters, segmentation, viz

    grey = color.rgb2gray(img) if img.ndim == 3 else img
    recipe = segmentation.segment_touching_objects(
        filters.gaussian(grey, 1.0), min_distance=7, max_size=20, threshold="local"
    )
    left = viz.overlay(img, labels, instances=True)
    right = viz.overlay(img, recipe, instances=True)
    gap = np.full((left.shape[0], 8, 3), 255, np.uint8)
    n_model = len(np.unique(labels[labels > 0]))
    n_recipe = len(np.unique(recipe[recipe > 0]))
    return (
        stem + "-vs-recipe",
        f"{name} (left) vs classical recipe, local threshold (right)",
        np.concatenate([left, gap, right], axis=1),
        f"{n_model} vs {n_recipe} objects",
    )


def _write_index(path: pathlib.Path, rows, failed) -> None:
    from .. import _core

    items = "\n".join(
        f'<figure><img src="{s}.png" width="300"><figcaption>{html.escape(c)} — {ms:.1f} ms, '
        f"{html.escape(d)}</figcaption></figure>"
        for s, c, ms, d in rows
    )
    fails = "".join(f"<li>{html.escape(k)} {html.escape(n)}: {html.escape(e)}</li>" for k, n, e in failed)
    path.write_text(
        "<!doctype html><meta charset='utf-8'><title>segen demo</title>"
        "<style>body{font-family:sans-serif}figure{display:inline-block;margin:8px}</style>"
        f"<h1>segen {_core.__version__} demo</h1><p>{_core.get_num_threads()} threads; "
        f"{len(list_segmenters())} segmenters, {len(list_generators())} generators.</p>"
        + (f"<p>Failed:</p><ul>{fails}</ul>" if fails else "")
        + f"<p><img src='demo.png'></p>{items}\n",
        encoding="utf-8",
    )


@click.command()
@output_dir(default="segen-demo", help="Folder for the pictures (created if missing).")
@click.option(
    "--image",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="Run on this image instead of the built-in sample scene.",
)
def demo(out_dir: pathlib.Path, image: pathlib.Path | None) -> None:
    """Run segen's operators, every segmenter and every generator on sample images; write their pictures,
    a contact sheet (demo.png) and an HTML index (index.html)."""
    from tqdm import tqdm

    from .. import io, viz
    from .._shared import samples

    sample = samples.scene() if image is None else _load_sample(image)
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures, captions, rows, failed = [], [], [], []
    steps = [("operator", s, (c, f)) for s, c, f in _demo_steps()] + _demo_models()
    for kind, name, what in tqdm(steps, desc="segen demo", unit="step", file=sys.stderr):
        try:
            ms, made = _pictures(kind, name, what, sample)
        except Exception as exc:  # noqa: BLE001 (a broken plugin model must not stop the demo)
            failed.append((kind, name, f"{type(exc).__name__}: {exc}"))
            click.echo(f"segen demo: {kind} {name} failed: {type(exc).__name__}: {exc}", err=True)
            continue
        for stem, caption, picture, detail in made:
            io.imwrite(out_dir / f"{stem}.png", picture)
            pictures.append(picture)
            captions.append(f"{caption} ({ms:.0f} ms)")
            rows.append((stem, caption, ms, detail))
    io.imwrite(out_dir / "demo.png", viz.contact_sheet(pictures, captions, columns=5, tile=200))
    _write_index(out_dir / "index.html", rows, failed)
    click.echo(
        f"wrote {len(rows)} pictures, {out_dir / 'demo.png'} and {out_dir / 'index.html'}"
        + (f"; {len(failed)} step(s) failed" if failed else "")
    )
