"""``segen train [NAME]``: run a plugin's training recipe (extra "train"), or list the recipes.

A recipe that declares its options (``register(..., options=...)``, :mod:`segen.plugins.options`) gets
them listed by ``segen train NAME --help`` and checked: an unknown option or a value of the wrong type is
a usage error naming it.
"""

from __future__ import annotations

import pathlib

import click

from ..errors import InvalidArgumentError, SegenError, UnknownModelError
from ..plugins import get_host
from ._common import PARAM, output_dir, parse_params


def extra_params(args) -> tuple:
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


def recipe_help(name: str, entry) -> str:
    """The help page of one recipe: usage, summary and its declared options with defaults."""
    fmt = click.HelpFormatter(max_width=100)
    fmt.write_usage(f"segen train {name}", "[-o DIR] [--OPTION VALUE ...]")
    fmt.write_paragraph()
    fmt.write_text(entry.summary)
    rows = [("-o, --output DIR", "folder for <name>.onnx, <name>.json and the rest  [default: .]")]
    for key, spec in entry.options.items():
        kind = spec.kind.__name__.upper() if not spec.choices else "|".join(map(str, spec.choices))
        default = (
            "none"
            if spec.default is None
            else str(spec.default).lower()
            if spec.kind is bool
            else spec.default
        )
        # an option whose default is computed says so in its help ("default: 64 ..."): no "[default: none]"
        shown = "" if spec.default is None and "default" in spec.help else f"  [default: {default}]"
        rows.append((f"--{key.replace('_', '-')} {kind}", f"{spec.help}{shown}"))
    with fmt.section("Options"):
        fmt.write_dl(rows)
    if not entry.options:
        fmt.write_paragraph()
        fmt.write_text("This recipe declares no options: see its documentation (--key value pairs).")
    return fmt.getvalue()


def check_params(entry, kwargs: dict) -> dict:
    """The recipe's declared options (when it declares any): unknown names and bad values are usage errors."""
    from ..plugins.options import convert_option

    if not entry.options:
        return kwargs
    out = {}
    for key, value in kwargs.items():
        spec = entry.options.get(key)
        if spec is None:
            known = ", ".join(f"--{k.replace('_', '-')}" for k in entry.options)
            raise click.UsageError(
                f"unknown option --{key.replace('_', '-')} for recipe {entry.name!r}; its options: {known}"
            )
        try:
            out[key] = convert_option(key, spec, value)
        except InvalidArgumentError as exc:
            raise click.BadParameter(str(exc)) from exc
    return out


def _report(out_dir: pathlib.Path, before: dict, meta) -> None:
    """List the files the run wrote (new ones, and those it rewrote) and the held-out scores of the
    returned metadata."""
    new = sorted(p for p in out_dir.iterdir() if p.is_file() and before.get(p.name) != p.stat().st_mtime_ns)
    if new:
        click.echo("wrote:")
        for p in new:
            click.echo(f"  {p}")
    metrics = meta.get("metrics", {}) if isinstance(meta, dict) else {}
    held = metrics.get("held_out")
    if not isinstance(held, dict):
        return
    keys = [k for k in ("pixel_accuracy", "mean_iou") if k in held]
    if not keys:  # a generator's held-out scores (e.g. a VAE's reconstruction errors): its numbers
        keys = [k for k, v in held.items() if isinstance(v, (int, float)) and not isinstance(v, bool)][:4]
    numbers = ", ".join(f"{k} {held[k]}" for k in keys if k != "images")
    if numbers:
        count = f" ({held['images']} images)" if "images" in held else ""
        click.echo(f"held-out: {numbers}{count}")


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.argument("name", required=False)
@PARAM
@output_dir(default=".", help="Folder for <name>.onnx and <name>.json.", aliases=("--out",))
@click.option(
    "-h", "--help", "show_help", is_flag=True, help="Show this message (with NAME: the recipe's options)."
)
@click.pass_context
def train(ctx, name: str | None, params, out_dir: pathlib.Path, show_help: bool) -> None:
    """Train the model NAME with a plugin's recipe (needs the "train" extra); without NAME, list recipes.

    Recipe options are given as --key value (e.g. --data DIR --epochs 10 --seed 0) or -p KEY=VALUE;
    `segen train NAME --help` lists them.
    """
    args = list(ctx.args)
    if "--help" in args or "-h" in args:
        show_help = True
        args = [a for a in args if a not in ("--help", "-h")]
    reg = get_host().registry
    if name is None:
        if show_help:
            click.echo(ctx.get_help())
            return
        rows = reg.entries("trainer")
        if not rows:
            click.echo("no training recipes installed")
        for e in rows:
            click.echo(f"{reg.display_name(e)}  {e.summary}  [{e.plugin}; extra {e.extra!r}]")
        return
    try:
        entry = reg.resolve("trainer", name)
    except UnknownModelError as exc:
        raise click.BadParameter(str(exc), param_hint="'NAME'") from exc
    if show_help:
        click.echo(recipe_help(name, entry))
        return
    kwargs = check_params(entry, parse_params(tuple(params) + extra_params(args)))
    out_dir.mkdir(parents=True, exist_ok=True)
    before = {p.name: p.stat().st_mtime_ns for p in out_dir.iterdir() if p.is_file()}
    try:
        meta = entry.factory(out_dir, **kwargs)
    except ImportError as exc:
        raise SegenError(
            f"training {name!r} needs the {entry.extra!r} extra: pip install 'segen[{entry.extra}]' ({exc})"
        ) from exc
    _report(out_dir, before, meta)
