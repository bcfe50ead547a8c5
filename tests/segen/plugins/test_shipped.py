"""segen.plugins.shipped: lazy targets for plugins' heavy modules, and the training-set samples of shipped
segmenters."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import ROOT, modules_loaded
from segen.errors import InvalidArgumentError
from segen.plugins import lazy
from segen.plugins.shipped import training_sample


def test_lazy_imports_on_call_and_binds_keywords():
    assert lazy("math:hypot")(3, 4) == 5.0
    to_int = lazy("builtins:int", base=2)
    assert to_int("101") == 5
    assert to_int("101", base=10) == 101  # the caller's keyword wins
    assert to_int.__name__ == "int" and "builtins:int" in to_int.__doc__


def test_lazy_does_not_import_before_the_call():
    code = "from segen.plugins import lazy\nf = lazy('fractions:Fraction')\nimport sys\nassert 'fractions' not in sys.modules"
    assert modules_loaded(code, ["fractions"]) == []


@pytest.mark.parametrize("target", ["math", "math:", ":hypot", "math:not a name", ""])
def test_lazy_refuses_a_bad_target(target):
    with pytest.raises(InvalidArgumentError, match="`target` must be 'package.module:name'"):
        lazy(target)


def test_training_sample_follows_the_sidecar():
    fcn = ROOT / "plugins" / "segen_fcn" / "models" / "fcn-shapes.onnx"
    img = training_sample(fcn)
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    unet = ROOT / "plugins" / "segen_unet" / "models" / "unet-textures.onnx"
    if "skimage" in sys.modules:  # the texture photographs come from scikit-image, never imported for this
        assert training_sample(unet).shape == (64, 64)
