"""The ``segen`` command line: the click group :data:`cli` and the console entry point :func:`main`.

One module per command: ``info``, ``listing`` (``segen list``), ``plugins``, ``segment``, ``generate``,
``train``, ``serve``, ``demo``; ``_common`` holds the shared options. Plugins add commands through the
``register_commands`` hook, asked only when a command is not one of ours (or for the help listing).
Errors print one line, ``segen: error: ...``, and exit non-zero.

Startup cost: ``segen --help`` imports neither numpy nor segen's C++ core nor ONNX Runtime, PIL or tqdm
(tested). The command modules themselves are cheap to import (click, the standard library and the
numpy-free ``segen.plugins``/``segen.errors``), and import numpy, the image modules and the like inside the
command functions. A lazily loading group would not buy more: the help listing needs every command's
short help, so it would import every command module anyway.
"""

from __future__ import annotations

import sys

import click

from ..errors import SegenError
from ..plugins import get_host
from . import demo, evaluate, generate, info, listing, plugins, segment, serve, train
from ._common import CONTEXT

__all__ = ["cli", "main"]


class _Group(click.Group):
    """The ``segen`` group: asks the plugins for their commands only when a command is not one of ours."""

    def _plugin_commands(self) -> None:
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


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="segen", prog_name="segen")
@click.option(
    "--threads",
    type=click.IntRange(1, 1024),  # segen._core.MAX_THREADS (not imported here: `segen --help` stays light)
    help="Threads for segen's kernels and ONNX Runtime (default: SEGEN_NUM_THREADS, else all cores).",
)
def cli(threads: int | None) -> None:
    """segen: image segmentation and generation on a fast C++ core.

    Segmenters and generators come from plugins (segen's own classical methods included): `segen list`
    shows them, `segen plugins` shows the plugins and their errors.
    """
    if threads is not None:
        from .. import _core  # not at the top: `segen --help` does not load the C++ core

        _core.set_num_threads(threads)  # click's IntRange has checked it (segen.set_num_threads' check)


for _command in (
    info.info,
    listing.list_,
    plugins.plugins,
    segment.segment,
    generate.generate,
    train.train,
    evaluate.evaluate,
    serve.serve,
    demo.demo,
):
    cli.add_command(_command)
del _command


def main(argv=None) -> int:
    """Entry point of the ``segen`` script: one clear line and a non-zero code on errors."""
    try:
        code = cli.main(args=argv, prog_name="segen", standalone_mode=False)
    except click.exceptions.Abort as exc:
        # Ctrl-C: click turned the KeyboardInterrupt into Abort. The plugin host notes on it which plugin
        # it was loading (and how to skip that plugin): a plugin hanging at import is named here.
        interrupt = exc.__cause__ or exc.__context__
        notes = [str(n) for n in getattr(interrupt, "__notes__", ())]
        click.echo("segen: aborted" + "".join(f"; {n}" for n in notes), err=True)
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
