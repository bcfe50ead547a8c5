"""The ``segen`` command line.

Commands: ``segment``, ``generate``, ``train``, ``list``, ``plugins``, ``info``, ``demo``; plugins may add
more through the ``register_commands`` hook. Heavy modules are imported inside the commands, so
``segen --help`` stays fast. Errors print one line, ``segen: error: ...``, and exit non-zero.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """The ``segen`` group: asks the plugins for their commands only when a command is not one of ours."""

    def _plugin_commands(self) -> None:
        from ..plugins import get_host

        get_host().add_commands(self)

    def list_commands(self, ctx):
        self._plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is None:
            self._plugin_commands()
            cmd = super().get_command(ctx, name)
        return cmd


def _parse_params(pairs) -> dict:
    """``("k=3", "color_space=rgb")`` -> ``{"k": 3, "color_space": "rgb"}`` (values read as JSON when they
    parse, so numbers, true/false, null and lists work; anything else is a string)."""
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected KEY=VALUE; got {pair!r}", param_hint="'-p' / '--param'")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _extra_params(args) -> tuple:
    """``["--epochs", "3", "--dataset=shapes", "--conditional"]`` -> ``("epochs=3", "dataset=shapes",
    "conditional=true")``: an option followed by another option (or by nothing) is a switch set to true."""
    out, args = [], list(args)
    while args:
        opt = args.pop(0)
        if not opt.startswith("--") or len(opt) < 3:
            raise click.BadParameter(f"expected --KEY VALUE; got {opt!r}")
        key, sep, value = opt[2:].partition("=")
        if not sep:
            value = "true" if not args or args[0].startswith("--") else args.pop(0)
        out.append(f"{key}={value}")
    return tuple(out)


_OUTPUT_DIR = click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    help="Folder for the results (created if missing).",
)
_PARAM = click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option of the method (repeatable), e.g. -p k=3; values are read as JSON when they "
    "parse, else as text.",
)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="segen", prog_name="segen")
@click.option(
    "--threads",
    type=click.IntRange(1, 4096),
    help="Threads for segen's kernels and ONNX Runtime (default: SEGEN_NUM_THREADS, else all cores).",
)
def cli(threads: int | None) -> None:
    """segen: image segmentation and generation on a fast C++ core.

    Segmenters and generators come from plugins (segen's own classical methods included): `segen list`
    shows them, `segen plugins` shows the plugins and their errors.
    """
    if threads is not None:
        import segen

        segen.set_num_threads(threads)


def _entry_dict(reg, entry) -> dict:
    d = {"name": reg.display_name(entry), "qualified_name": entry.qualified_name, "plugin": entry.plugin}
    if entry.aliases:
        d["aliases"] = list(entry.aliases)
    d["summary"] = entry.summary
    return d


@cli.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str | None, as_json: bool) -> None:
    """Describe segen, or the segmenter/generator NAME (metadata, metrics, provenance)."""
    import segen

    if name is None:
        click.echo(f"segen {segen.__version__}")
        click.echo(
            f"threads: {segen.get_num_threads()} (SEGEN_NUM_THREADS or segen.set_num_threads to change)"
        )
        click.echo(f"package: {pathlib.Path(segen.__file__).parent}")
        click.echo(
            f"segmenters: {len(segen.list_segmenters())}, generators: {len(segen.list_generators())} "
            "(`segen list`)"
        )
        return
    from ..errors import UnknownModelError
    from ..plugins import get_host

    reg = get_host().registry
    found = []
    errors = []
    for kind in ("segmenter", "generator"):
        try:
            found.append((kind, reg.resolve(kind, name)))
        except UnknownModelError as exc:
            errors.append(exc)
    if not found:
        raise errors[0]
    out = []
    for kind, entry in found:
        obj = reg.create(kind, entry.qualified_name, {})
        d = {"kind": kind, **_entry_dict(reg, entry), **obj.info.as_dict()}
        d["name"] = reg.display_name(entry)
        out.append(d)
    if as_json:
        click.echo(json.dumps(out if len(out) > 1 else out[0], indent=2, default=str))
        return
    for d in out:
        click.echo(f"{d.pop('kind')} {d.pop('name')}")
        for key, value in d.items():
            if isinstance(value, dict):
                click.echo(f"  {key}:")
                for k, v in value.items():
                    click.echo(f"    {k}: {json.dumps(v, default=str) if not isinstance(v, str) else v}")
            else:
                click.echo(f"  {key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List the segmenters and generators with their one-line descriptions."""
    from ..plugins import get_host

    reg = get_host().registry
    table = {
        kind + "s": [_entry_dict(reg, e) for e in sorted(reg.entries(kind), key=lambda e: (e.name, e.plugin))]
        for kind in ("segmenter", "generator", "trainer")
    }
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for kind, rows in table.items():
        if kind == "trainers" and not rows:
            continue
        click.echo(f"{kind}:")
        if not rows:
            click.echo("  (none installed)")
        width = max((len(r["name"]) for r in rows), default=0)
        for r in rows:
            plugin = "" if r["plugin"] == "builtin" else f"  [{r['plugin']}]"
            click.echo(f"  {r['name']:<{width}}  {r['summary']}{plugin}")


@cli.command()
@click.option("--all", "include_builtins", is_flag=True, help="Include segen's built-in plugin.")
@click.option("--hook", help="Only plugins implementing this hook.")
def plugins(include_builtins: bool, hook: str | None) -> None:
    """Show the installed plugins, their hooks and what they provide, or why they failed, as JSON."""
    from ..plugins import get_host

    click.echo(json.dumps(get_host().report(include_builtins=include_builtins, hook=hook), indent=2))


@cli.command()
@click.argument(
    "images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@click.option("-m", "--method", required=True, help="Segmenter name (`segen list`), e.g. kmeans, watershed.")
@_PARAM
@_OUTPUT_DIR
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
    import numpy as np
    from tqdm import tqdm

    import segen

    from ..errors import SegenError

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
    seg = segen.get_segmenter(method, **_parse_params(params))
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
            img = segen.io.imread(path)
            if img.ndim == 3 and img.shape[2] in (2, 4):  # drop alpha
                img = np.ascontiguousarray(img[..., : img.shape[2] - 1])
            labels = seg.segment(img)
            segen.io.write_labels(out_dir / f"{path.stem}_labels.png", labels)
            if overlay:
                segen.io.imwrite(out_dir / f"{path.stem}_overlay.png", segen.viz.overlay(img, labels))
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


@cli.command()
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
@_PARAM
@_OUTPUT_DIR
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
    grid: bool,
    individual: bool,
) -> None:
    """Generate N images with the generator MODEL (`segen list`); writes a grid PNG and/or the images.

    With --interpolate A,B it writes the STEPS images between the samples of seeds A and B instead
    (the same images as `-n 1 --seed A` and `-n 1 --seed B` at the ends). Examples:

    \b
        segen generate cgan-digits -n 20 --seed 1 --labels 7 -o out
        segen generate dcgan-digits --interpolate 3,8 --steps 10 -o out
    """
    import segen

    if not grid and not individual:
        raise click.BadParameter("nothing to write: --no-grid needs --individual", param_hint="'--no-grid'")
    ends = _parse_interpolate(interpolate)
    lab = None
    if labels is not None:
        try:
            lab = [int(v) for v in labels.split(",")]
        except ValueError:
            raise click.BadParameter(
                f"expected comma-separated integers; got {labels!r}", param_hint="'--labels'"
            ) from None
        if ends is not None and len(lab) != 1:
            raise click.BadParameter(
                f"--interpolate takes one label (the class of the whole path); got {labels!r}",
                param_hint="'--labels'",
            )
        lab = lab[0] if len(lab) == 1 else lab
    gen = segen.get_generator(model, **_parse_params(params))
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = model.replace(":", "-")
    if ends is not None:
        frames = gen.interpolate(ends[0], ends[1], steps, label=lab)
        strip = segen.viz.image_grid(frames, columns=steps)
        segen.io.imwrite(out_dir / f"{stem}_interp.png", strip)
        _write_gif(out_dir / f"{stem}_interp.gif", frames)
        if individual:
            for i, img in enumerate(frames):
                segen.io.imwrite(out_dir / f"{stem}_interp_{i:04d}.png", img)
        click.echo(
            f"interpolated {steps} image(s) of {frames.shape[1]}x{frames.shape[2]} with {model} from seed "
            f"{ends[0]} to seed {ends[1]} into {out_dir}"
        )
        return
    samples = gen.generate(n, seed=seed, labels=lab)
    written = []
    if grid:
        written.append(out_dir / f"{stem}_grid.png")
        segen.io.imwrite(written[-1], segen.viz.image_grid(samples))
    if individual:
        for i, img in enumerate(samples):
            written.append(out_dir / f"{stem}_{i:04d}.png")
            segen.io.imwrite(written[-1], img)
    click.echo(
        f"generated {n} image(s) of {samples.shape[1]}x{samples.shape[2]} with {model} "
        f"(seed {seed}) into {out_dir}"
    )


def _write_gif(path: pathlib.Path, frames, *, scale: int = 8, ms: int = 120) -> None:
    """An animated GIF going from the first frame to the last and back (each pixel `scale` x `scale`)."""
    import numpy as np
    from PIL import Image

    big = np.repeat(np.repeat(np.asarray(frames), scale, axis=1), scale, axis=2)
    seq = list(big) + list(big[-2:0:-1])  # ping-pong
    images = [Image.fromarray(f) for f in seq]
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms, loop=0)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("name", required=False)
@_PARAM
@click.option(
    "-o",
    "--output",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=".",
    show_default=True,
    help="Folder for <name>.onnx and <name>.json.",
)
@click.pass_context
def train(ctx, name: str | None, params, out_dir: pathlib.Path) -> None:
    """Train the model NAME with a plugin's recipe (needs the "train" extra); without NAME, list recipes.

    Recipe options are given as -p KEY=VALUE or as --key VALUE (e.g. --epochs 10 --seed 0).
    """
    params = tuple(params) + _extra_params(ctx.args)
    from ..plugins import get_host

    reg = get_host().registry
    if name is None:
        rows = reg.entries("trainer")
        if not rows:
            click.echo("no training recipes installed")
        for e in rows:
            click.echo(f"{reg.display_name(e)}  {e.summary}  [{e.plugin}; extra {e.extra!r}]")
        return
    entry = reg.resolve("trainer", name)
    kwargs = _parse_params(params)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        entry.factory(out_dir, **kwargs)
    except ImportError as exc:
        from ..errors import SegenError

        raise SegenError(
            f"training {name!r} needs the {entry.extra!r} extra: pip install 'segen[{entry.extra}]' ({exc})"
        ) from exc


def _demo_steps():
    """(file stem, caption, function of the sample) for each picture the demo writes."""
    import numpy as np

    import segen

    gray = lambda s: segen.color.rgb2gray(s)  # noqa: E731
    thetas = [0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]

    def gabor_rgb(s):
        bank = segen.features.gabor_bank(gray(s), frequencies=[1 / 8, 1 / 16], thetas=thetas)
        # three of the eight smoothed magnitudes as the red, green and blue of one picture
        return np.stack([segen.viz.to_uint8(bank[..., i]) for i in (0, 1, 6)], axis=-1)

    return [
        ("input", "input (RGB)", lambda s: s),
        ("gray", "rgb2gray", gray),
        ("hue", "rgb2hsv: hue", lambda s: segen.color.rgb2hsv(s)[..., 0]),
        ("gaussian", "gaussian sigma=3", lambda s: segen.filters.gaussian(s, sigma=3)),
        ("sobel", "sobel magnitude", lambda s: segen.filters.sobel(gray(s))),
        ("log", "gaussian_laplace sigma=2", lambda s: segen.filters.gaussian_laplace(gray(s), sigma=2)),
        ("canny", "canny sigma=2", lambda s: segen.features.canny(gray(s), sigma=2)),
        ("gabor", "gabor_bank: 3 of 8 channels", gabor_rgb),
        (
            "resize",
            "resize 1/4, area",
            lambda s: segen.transform.resize(s, (s.shape[0] // 4, s.shape[1] // 4), method="area"),
        ),
        ("rotate", "rotate 30 deg, bilinear", lambda s: segen.transform.rotate(s, 30, resize=True)),
        ("flip", "flip left-right", lambda s: segen.transform.flip(s, axis=1)),
    ]


def _load_sample(image):
    import numpy as np

    import segen

    sample = segen.io.imread(image)
    if sample.ndim == 2:
        sample = np.stack([sample] * 3, axis=-1)
    sample = np.ascontiguousarray(sample[..., :3])
    if sample.dtype != np.uint8:
        sample = segen.viz.to_uint8(sample)
    return sample


def _demo_models(sample):
    """(file stem, caption, function) for each registered segmenter and generator."""
    import segen
    from segen.plugins import get_host

    reg = get_host().registry
    steps = []
    for entry in sorted(reg.entries("segmenter"), key=lambda e: (e.name, e.plugin)):
        name = reg.display_name(entry)

        def run(_sample, q=entry.qualified_name):
            seg = segen.get_segmenter(q)
            own = seg.sample_input()
            img = _sample if own is None else own
            labels = seg.segment(img)
            return img, labels

        steps.append(("segmenter", name, run))
    for entry in sorted(reg.entries("generator"), key=lambda e: (e.name, e.plugin)):
        name = reg.display_name(entry)

        def run(_sample, q=entry.qualified_name):
            return segen.get_generator(q).generate(16, seed=0)

        steps.append(("generator", name, run))
    return steps


@cli.command()
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default="segen-demo",
    show_default=True,
    help="Folder for the pictures (created if missing).",
)
@click.option(
    "--image",
    type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path),
    help="Run on this image instead of the built-in sample scene.",
)
def demo(out_dir: pathlib.Path, image: pathlib.Path | None) -> None:
    """Run segen's operators, every segmenter and every generator on sample images; write their pictures,
    a contact sheet (demo.png) and an HTML index (index.html)."""
    import html

    import numpy as np
    from tqdm import tqdm

    import segen
    from segen._shared import samples as _samples

    sample = _samples.scene() if image is None else _load_sample(image)
    out_dir.mkdir(parents=True, exist_ok=True)
    for module in ("color", "filters", "features", "transform", "viz"):  # import before timing
        getattr(segen, module)
    pictures, captions, rows, failed = [], [], [], []

    def add(stem, caption, picture, ms, detail):
        segen.io.imwrite(out_dir / f"{stem}.png", picture)
        pictures.append(picture)
        captions.append(f"{caption} ({ms:.0f} ms)")
        rows.append((stem, caption, ms, detail))

    steps = [("operator", s, (c, f)) for s, c, f in _demo_steps()] + [
        (kind, name, run) for kind, name, run in _demo_models(sample)
    ]
    for kind, name, what in tqdm(steps, desc="segen demo", unit="step", file=sys.stderr):
        t0 = time.perf_counter()
        try:
            if kind == "operator":
                caption, fn = what
                result = fn(sample)
                ms = (time.perf_counter() - t0) * 1e3
                add(name, caption, segen.viz.to_uint8(result), ms, f"{result.shape} {result.dtype}")
            elif kind == "segmenter":
                img, labels = what(sample)
                ms = (time.perf_counter() - t0) * 1e3
                stem = "seg-" + name.replace(":", "-")
                n = len(np.unique(labels[labels > 0]))
                add(stem + "-labels", f"{name}: labels", segen.viz.label2rgb(labels), ms, f"{n} labels")
                add(stem + "-overlay", f"{name}: overlay", segen.viz.overlay(img, labels), ms, f"{n} labels")
            else:
                images = what(sample)
                ms = (time.perf_counter() - t0) * 1e3
                scale = max(1, -(-64 // min(images.shape[1:3])))  # small samples drawn at least 64 px
                big = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
                add(
                    "gen-" + name.replace(":", "-"),
                    f"{name}: 16 samples",
                    segen.viz.image_grid(big),
                    ms,
                    f"{images.shape} {images.dtype}",
                )
        except Exception as exc:  # a broken plugin model must not stop the demo
            failed.append((kind, name, f"{type(exc).__name__}: {exc}"))
            click.echo(f"segen demo: {kind} {name} failed: {type(exc).__name__}: {exc}", err=True)
    segen.io.imwrite(out_dir / "demo.png", segen.viz.contact_sheet(pictures, captions, columns=5, tile=200))
    items = "\n".join(
        f'<figure><img src="{s}.png" width="300"><figcaption>{html.escape(c)} — {ms:.1f} ms, '
        f"{html.escape(d)}</figcaption></figure>"
        for s, c, ms, d in rows
    )
    fails = "".join(f"<li>{html.escape(k)} {html.escape(n)}: {html.escape(e)}</li>" for k, n, e in failed)
    (out_dir / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>segen demo</title>"
        "<style>body{font-family:sans-serif}figure{display:inline-block;margin:8px}</style>"
        f"<h1>segen {segen.__version__} demo</h1><p>{segen.get_num_threads()} threads; "
        f"{len(segen.list_segmenters())} segmenters, {len(segen.list_generators())} generators.</p>"
        + (f"<p>Failed:</p><ul>{fails}</ul>" if fails else "")
        + f"<p><img src='demo.png'></p>{items}\n",
        encoding="utf-8",
    )
    click.echo(
        f"wrote {len(rows)} pictures, {out_dir / 'demo.png'} and {out_dir / 'index.html'}"
        + (f"; {len(failed)} step(s) failed" if failed else "")
    )


def main(argv=None) -> int:
    """Entry point of the ``segen`` script: one clear line and a non-zero code on errors."""
    from ..errors import SegenError

    try:
        code = cli.main(args=argv, prog_name="segen", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"segen: error: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"segen: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except (SegenError, OSError, ValueError, TypeError) as exc:
        click.echo(f"segen: error: {exc}", err=True)
        return 1
    return code if isinstance(code, int) else 0  # a command's ctx.exit(n)


if __name__ == "__main__":
    sys.exit(main())
