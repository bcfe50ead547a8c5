"""``segen plugins``: the installed plugins, their hooks and what they provide, or why they failed."""

from __future__ import annotations

import json

import click

from ..plugins import get_host


@click.command()
@click.option("--all", "include_builtins", is_flag=True, help="Include segen's built-in plugin.")
@click.option("--hook", help="Only plugins implementing this hook.")
@click.option("--traceback", "tracebacks", is_flag=True, help="Give each error's traceback.")
def plugins(include_builtins: bool, hook: str | None, tracebacks: bool) -> None:
    """Show the installed plugins, their hooks and what they provide, or why they failed, as JSON.

    A plugin that hangs at import is named on standard error after SEGEN_PLUGIN_SLOW_SECONDS (5);
    SEGEN_DISABLE_PLUGINS=NAME skips it, SEGEN_NO_PLUGIN_AUTOLOAD=1 skips every installed plugin.
    """
    report = get_host().report(include_builtins=include_builtins, hook=hook, tracebacks=tracebacks)
    click.echo(json.dumps(report, indent=2))
