"""``segen list``: the segmenters, generators and training recipes with their one-line descriptions."""

from __future__ import annotations

import json

import click

from ..plugins import get_host
from ._common import entry_dict


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List the segmenters and generators with their one-line descriptions; instance segmenters (each
    object its own label) are marked (instances)."""
    reg = get_host().registry
    table = {
        kind + "s": [entry_dict(reg, e) for e in sorted(reg.entries(kind), key=lambda e: (e.name, e.plugin))]
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
            instances = "  (instances)" if r.get("labels") == "instances" else ""
            click.echo(f"  {r['name']:<{width}}  {r['summary']}{instances}{plugin}")
