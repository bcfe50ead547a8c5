"""``segen plugins``: the installed plugins, their hooks and what they provide, or why they failed."""

from __future__ import annotations

import json

import click

from ..plugins import get_host


@click.command()
@click.option("--all", "include_builtins", is_flag=True, help="Include segen's built-in plugin.")
@click.option("--hook", help="Only plugins implementing this hook.")
def plugins(include_builtins: bool, hook: str | None) -> None:
    """Show the installed plugins, their hooks and what they provide, or why they failed, as JSON."""
    click.echo(json.dumps(get_host().report(include_builtins=include_builtins, hook=hook), indent=2))
