"""``segen train [NAME]``: run a plugin's training recipe (extra "train"), or list the recipes."""

from __future__ import annotations

import pathlib

import click

from ..errors import SegenError, UnknownModelError
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


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("name", required=False)
@PARAM
@output_dir(default=".", help="Folder for <name>.onnx and <name>.json.", aliases=("--out",))
@click.pass_context
def train(ctx, name: str | None, params, out_dir: pathlib.Path) -> None:
    """Train the model NAME with a plugin's recipe (needs the "train" extra); without NAME, list recipes.

    Recipe options are given as -p KEY=VALUE or as --key VALUE (e.g. --epochs 10 --seed 0).
    """
    params = tuple(params) + extra_params(ctx.args)
    reg = get_host().registry
    if name is None:
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
    kwargs = parse_params(params)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        entry.factory(out_dir, **kwargs)
    except ImportError as exc:
        raise SegenError(
            f"training {name!r} needs the {entry.extra!r} extra: pip install 'segen[{entry.extra}]' ({exc})"
        ) from exc
