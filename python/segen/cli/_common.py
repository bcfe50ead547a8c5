"""Options and helpers shared by the commands: ``-o/--output``, ``-p KEY=VALUE``, registry rows."""

from __future__ import annotations

import json
import pathlib

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def parse_params(pairs) -> dict:
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


def parse_ints(text: str, param_hint: str) -> list[int]:
    """``"1,2,3"`` -> ``[1, 2, 3]``; anything else is a usage error naming `param_hint`."""
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers; got {text!r}", param_hint=param_hint
        ) from None


def make_model(kind: str, name: str, options: dict, name_hint: str):
    """``get_segmenter``/``get_generator``, with the user's mistakes as usage errors (exit code 2): an unknown
    name names `name_hint` (the option or argument that gave it), an option the model rejects (bad name,
    type or value) names ``-p``; the model's own message says which option and why."""
    from ..errors import DTypeError, InvalidArgumentError, UnknownModelError
    from ..plugins import get_generator, get_segmenter

    get = get_segmenter if kind == "segmenter" else get_generator
    try:
        return get(name, **options)
    except UnknownModelError as exc:
        raise click.BadParameter(str(exc), param_hint=name_hint) from exc
    except (InvalidArgumentError, DTypeError) as exc:
        if not options:  # not the user's options: the model itself is at fault
            raise
        raise click.BadParameter(str(exc), param_hint="'-p' / '--param'") from exc


def entry_dict(reg, entry) -> dict:
    """One registry entry as a JSON-ready row: name, qualified name, plugin, aliases, summary, and for a
    segmenter what its labels are ("classes" or "instances", as declared when it was registered)."""
    d = {"name": reg.display_name(entry), "qualified_name": entry.qualified_name, "plugin": entry.plugin}
    if entry.aliases:
        d["aliases"] = list(entry.aliases)
    d["summary"] = entry.summary
    if entry.kind == "segmenter":
        d["labels"] = entry.labels or "classes"
    return d


def output_dir(
    *, default=None, help: str = "Folder for the results (created if missing).", aliases=(), required=None
):
    """The ``-o/--output`` folder option (required unless a `default` is given, or `required` says), as
    ``out_dir``."""
    return click.option(
        "-o",
        "--output",
        *aliases,
        "out_dir",
        required=default is None if required is None else required,
        default=default,
        show_default=default is not None,
        type=click.Path(file_okay=False, path_type=pathlib.Path),
        help=help,
    )


OUTPUT_DIR = output_dir()
PARAM = click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option of the method (repeatable), e.g. -p k=3; values are read as JSON when they "
    "parse, else as text.",
)
