"""The ``>>>`` examples in segen's docstrings (and the first-party plugins') run, and print what they say.

The modules are imported by name (the installed package, as CI installs it: no ``--doctest-modules`` on
the source tree, whose ``python/segen`` has no compiled ``_core``). One test per module; a module whose
extra is missing (torch for ``segen.training``, dask for ``segen.distributed``) is skipped, and the old
module names that only import with a DeprecationWarning (``segen.runtime``, ...) are not examples' homes.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import io
import pkgutil
import types

import numpy as np
import pytest
import segen

#: The aliases of segen 0.1's modules (segen/__init__.py ``_MOVED``): importing them warns.
DEPRECATED = {
    "segen.runtime",
    "segen.base",
    "segen.dense",
    "segen.datasets",
    "segen.judge",
    "segen.registry",
    "segen.hookspecs",
    "segen.builtin",
    "segen.gen_training",
    "segen.judge_training",
}

#: Modules that do something when imported: ``python -m segen`` runs the command line.
NOT_IMPORTED = {"segen.__main__"}

#: First-party plugins (plugins/segen_*): their examples run too when they are importable.
PLUGINS = ("segen_fcn", "segen_gan", "segen_nuclei", "segen_unet", "segen_vae")

#: Module name prefix -> the package it needs (the extras): skipped, not failed, without it.
NEEDS = {
    "segen.training": "torch",
    "segen.distributed": "dask",
    "segen.cli": "click",
    "segen.serve.app": "fastapi",
    # the plugins' networks and recipes are PyTorch
    **{f"{p}.{m}": "torch" for p in PLUGINS for m in ("net", "train")},
}

OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS

#: numpy's print options at their defaults (numpy 2's reprs: ``np.float64(0.5)``), whatever a test set.
PRINT_DEFAULTS = dict(
    precision=8,
    threshold=1000,
    edgeitems=3,
    linewidth=75,
    suppress=False,
    nanstr="nan",
    infstr="inf",
    sign="-",
    formatter=None,
    floatmode="maxprec",
    legacy=False,
)


def _has(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _needs(name: str) -> str | None:
    for prefix, package in NEEDS.items():
        if name == prefix or name.startswith(prefix + "."):
            return package
    return None


def _walk(package) -> list[str]:
    names = [package.__name__]
    # a package that cannot be imported here (segen.training without torch) is not walked into; its
    # own test skips (missing extra) or fails on the import
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".", onerror=lambda name: None):
        if info.name in DEPRECATED | NOT_IMPORTED or any(info.name.startswith(d + ".") for d in DEPRECATED):
            continue
        names.append(info.name)
    return names


def _modules() -> list[str]:
    names = _walk(segen)
    for plugin in PLUGINS:
        if _has(plugin):
            names += _walk(importlib.import_module(plugin))
    return sorted(set(names))


MODULES = _modules()


def _tests(module) -> list[doctest.DocTest]:
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module.__name__)
    return [t for t in tests if t.examples]


def run_examples(module) -> tuple[int, list[str]]:
    """Run a module's examples; return how many ran and one report per failing docstring."""
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    failures, ran = [], 0
    with np.printoptions(**PRINT_DEFAULTS):
        for test in sorted(_tests(module), key=lambda t: t.name):
            out = io.StringIO()
            try:
                result = runner.run(test, out=out.write, clear_globs=True)
            finally:
                test.globs.clear()
            ran += result.attempted
            if result.failed:
                failures.append(
                    f"{test.name}: {result.failed} of {result.attempted} failed\n{out.getvalue()}"
                )
    return ran, failures


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    package = _needs(name)
    if package is not None and not _has(package):
        pytest.skip(f"{name} needs {package}")
    module = importlib.import_module(name)
    ran, failures = run_examples(module)
    assert not failures, f"{len(failures)} docstring(s) of {name} with failing examples:\n\n" + "\n".join(
        failures
    )


def test_examples_are_found() -> None:
    """The finder sees the examples (a walk or a finder that finds nothing would pass every test above)."""
    assert "segen.filters" in MODULES and "segen.segmentation._label" in MODULES
    assert not (DEPRECATED | NOT_IMPORTED) & set(MODULES)
    ran, failures = run_examples(importlib.import_module("segen.filters"))
    assert ran >= 30 and not failures


def test_a_wrong_example_fails() -> None:
    """The runner reports a wrong output, and leaves numpy's print options as it found them."""
    module = types.ModuleType("fake_module")
    source = '''
def example():
    """
    >>> import numpy as np
    >>> np.arange(3) + 1
    array([1, 2, 4])
    >>> np.float64(0.5)
    np.float64(0.5)
    >>> np.array([0.123456789])
    array([0.12345679])
    """
'''
    exec(source, module.__dict__)
    with np.printoptions(precision=3, legacy="1.25"):
        ran, failures = run_examples(module)
        assert np.get_printoptions()["precision"] == 3 and str(np.get_printoptions()["legacy"]) == "1.25"
    assert ran == 4
    # one docstring, one wrong example: the sum (numpy 2's scalar repr and the default precision hold)
    assert len(failures) == 1 and "1 of 4 failed" in failures[0]
    assert "array([1, 2, 3])" in failures[0] and "np.float64" not in failures[0]
