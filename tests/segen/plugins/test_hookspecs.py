"""Every hook of segen.hookspecs is documented in docs/plugins.md with its exact signature, and nothing
documented there is missing from the code."""

from __future__ import annotations

import inspect
import re

import pluggy
import pytest
from helpers import ROOT
from segen.plugins import hookspecs

DOC = ROOT / "docs" / "plugins.md"


def _hooks():
    return [name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "segen_spec")]


def test_the_surface_is_the_five_documented_hooks():
    assert sorted(_hooks()) == [
        "register_commands",
        "register_generators",
        "register_model_loaders",
        "register_segmenters",
        "register_trainers",
    ]
    assert isinstance(hookspecs.hookimpl, pluggy.HookimplMarker)


@pytest.mark.parametrize("name", _hooks())
def test_hook_is_documented_with_its_signature(name):
    fn = getattr(hookspecs, name)
    signature = f"{name}{inspect.signature(fn)}"
    assert f"`{signature}`" in DOC.read_text(), f"docs/plugins.md lacks `{signature}`"
    doc = inspect.getdoc(fn)
    assert doc and "Called once" in doc, f"{name} needs a docstring saying when it runs"


@pytest.mark.parametrize(
    "name", ["register_segmenters", "register_generators", "register_trainers", "register_model_loaders"]
)
def test_register_callbacks_are_documented_alike(name):
    """The `register(...)` form in the hook's docstring is the one in the guide's table."""
    doc = inspect.getdoc(getattr(hookspecs, name))
    forms = re.findall(r"``(register\([^`]*\))``", doc)
    table_row = next(line for line in DOC.read_text().splitlines() if line.startswith(f"| `{name}("))
    if forms:
        assert forms[0] in table_row.replace("`", ""), (forms[0], table_row)
    else:  # register_generators refers to register_segmenters' form
        assert 'register(name, factory, *, aliases=(), summary="")' in table_row


def test_no_undocumented_hook_in_the_guide():
    documented = set(re.findall(r"`(register_\w+)\(", DOC.read_text()))
    assert documented == set(_hooks())
