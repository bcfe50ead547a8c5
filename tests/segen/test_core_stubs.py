"""The checked-in type stub of the compiled module matches the built module (STYLE.md: generated, diffed)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("pybind11_stubgen")

import segen  # noqa: E402

STUB = pathlib.Path(segen.__file__).parent / "_core.pyi"


def test_core_stub_is_current(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pybind11_stubgen", "segen._core", "-o", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh = (tmp_path / "segen" / "_core.pyi").read_text(encoding="utf-8")
    # a C++ type in a signature means a binding lacks its type caster and fails when called
    assert "std::" not in fresh
    assert STUB.read_text(encoding="utf-8") == fresh, (
        "python/segen/_core.pyi is stale: regenerate it with "
        "`python -m pybind11_stubgen segen._core -o <dir>` and copy <dir>/segen/_core.pyi"
    )


def test_white_point_binding_returns_the_cie_values():
    from segen import _core

    assert _core.white_point("D65", "2") == pytest.approx([0.95047, 1.0, 1.08883])
