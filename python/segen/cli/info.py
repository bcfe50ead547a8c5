"""``segen info [NAME]``: segen itself (version, threads, counts) or one segmenter/generator."""

from __future__ import annotations

import json
import pathlib

import click

from ..errors import UnknownModelError
from ..plugins import get_host, list_generators, list_segmenters
from ..plugins.user_models import load_model_file, looks_like_path, model_file_kind
from ._common import entry_dict


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str | None, as_json: bool) -> None:
    """Describe segen, or the segmenter/generator NAME (metadata, metrics, provenance); NAME may be a
    model file (``.onnx`` with its JSON sidecar)."""
    if name is None:
        from .. import _core  # inside: the C++ core is not loaded for `segen --help`

        click.echo(f"segen {_core.__version__}")
        click.echo(
            f"threads: {_core.get_num_threads()} (SEGEN_NUM_THREADS or segen.set_num_threads to change)"
        )
        click.echo(f"package: {pathlib.Path(__file__).resolve().parents[1]}")
        click.echo(
            f"segmenters: {len(list_segmenters())}, generators: {len(list_generators())} (`segen list`)"
        )
        return
    if looks_like_path(name):
        _echo([_file_info(name)], as_json)
        return
    reg = get_host().registry
    found = []
    errors = []
    for kind in ("segmenter", "generator"):
        try:
            found.append((kind, reg.resolve(kind, name)))
        except UnknownModelError as exc:
            errors.append(exc)
    if not found:
        raise click.BadParameter(str(errors[0]), param_hint="'NAME'") from errors[0]
    out = []
    for kind, entry in found:
        obj = reg.create(kind, entry.qualified_name, {})
        d = {"kind": kind, **entry_dict(reg, entry), **obj.info.as_dict()}
        d["name"] = reg.display_name(entry)
        out.append(d)
    _echo(out, as_json)


def _file_info(name: str) -> dict:
    """The description of the model file `name` (its sidecar's task says segmenter or generator)."""
    from ..errors import ModelError

    try:
        kind = model_file_kind(name)
        model = load_model_file(kind, name, {})
    except ModelError as exc:
        raise click.BadParameter(str(exc), param_hint="'NAME'") from exc
    d = {"kind": kind, **model.info.as_dict()}
    d["name"] = str(name)
    return d


def _echo(out: list[dict], as_json: bool) -> None:
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
