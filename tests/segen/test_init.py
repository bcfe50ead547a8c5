"""segen/__init__.py: the lazy public names, and the module names of segen 0.1 that moved in the layered
package (they still import, warn once, and give the very objects of their new home)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import segen

MOVED = {
    "runtime": ("segen.onnx", "OnnxModel"),
    "base": ("segen.models", "Segmenter"),
    "dense": ("segen.onnx", "DenseSegmenter"),
    "datasets": ("segen.data", "digits"),
    "judge": ("segen.eval.judge", "evaluate_generator"),
    "registry": ("segen.plugins", "get_segmenter"),
    "hookspecs": ("segen.plugins.hookspecs", "register_segmenters"),
    "builtin": ("segen.plugins.builtin", "kmeans"),
    "gen_training": ("segen.training.generator", None),
    "judge_training": ("segen.training.judge", None),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_names_warn_and_alias_the_new_module(old):
    new, name = MOVED[old]
    if new.startswith("segen.training"):
        pytest.importorskip("torch")
    code = (
        "import warnings, importlib, segen\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module('segen.{old}')\n"
        f"new = importlib.import_module('{new}')\n"
        f"name = {name!r}\n"
        "assert name is None or getattr(old, name) is getattr(new, name), name\n"
        "assert set(dir(new)) <= set(dir(old))\n"
        "print(len(w), w[0].category.__name__, w[0].message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == f"1 DeprecationWarning segen.{old} moved to {new}; import that instead"


def test_attribute_access_to_an_old_name_warns_too():
    for _ in range(2):  # the import system also sets segen.datasets: forget both, then ask again
        sys.modules.pop("segen.datasets", None)
        vars(segen).pop("datasets", None)
        with pytest.warns(DeprecationWarning, match="segen.datasets moved to segen.data"):
            assert segen.datasets.shapes is importlib.import_module("segen.data").shapes


def test_lazy_public_names():
    assert segen.get_segmenter is importlib.import_module("segen.plugins").get_segmenter
    assert segen.DenseSegmenter is importlib.import_module("segen.onnx").DenseSegmenter
    assert segen.Segmenter is importlib.import_module("segen.models").Segmenter
    assert set(segen.__all__) <= set(dir(segen))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        segen.nope  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("segen.nope")
