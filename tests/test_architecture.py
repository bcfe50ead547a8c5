"""The house rules of docs/architecture.md, checked: the import-linter layer contracts (and that they can
fail), what ``import segen`` loads, no import from the package root inside segen, plugins on public names
only, ruff clean."""

from __future__ import annotations

import ast
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import segen
from helpers import ROOT, modules_loaded

PACKAGE = pathlib.Path(segen.__file__).parent
PLUGINS = sorted(p for p in (ROOT / "plugins").glob("segen_*") if (p / "__init__.py").is_file())
LINT_IMPORTS = shutil.which(
    "lint-imports",
    path=os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")]),
)


def _lint_imports(*, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    if LINT_IMPORTS is None:
        pytest.skip("import-linter is not installed (test extra)")
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_layer_contracts_are_kept():
    proc = _lint_imports()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_layer_contracts_fail_on_a_forbidden_import(tmp_path):
    # a copy of the installed package with one upward import and one torch import in the ONNX layer
    copy = tmp_path / "segen"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "onnx" / "preprocessing.py", "a", encoding="utf-8") as f:
        f.write("\nfrom ..plugins import get_segmenter  # upward\nimport torch  # not the torch layer\n")
    proc = _lint_imports(pythonpath=str(tmp_path))
    assert proc.returncode != 0
    assert "segen.onnx is not allowed to import segen.plugins" in proc.stdout
    assert "segen.onnx is not allowed to import torch" in proc.stdout


def test_import_segen_is_light():
    heavy = ("numpy", "torch", "dask", "click", "onnxruntime", "pluggy", "PIL")
    assert modules_loaded("import segen", heavy) == []


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _resolve(path: pathlib.Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from (relative to the file's package)."""
    if node.level == 0:
        return node.module or ""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    parts = parts[:-1]  # the package the file is in (for __init__.py, the package itself)
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def test_nothing_inside_segen_imports_from_the_package_root():
    submodules = {p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()} | {"_core"}
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue
        for node in _imports(path):
            if isinstance(node, ast.Import):
                bad += [f"{path.name}:{node.lineno} import segen" for a in node.names if a.name == "segen"]
            elif _resolve(path, node) == "segen":
                bad += [
                    f"{path.relative_to(PACKAGE)}:{node.lineno} from segen import {a.name}"
                    for a in node.names
                    if a.name not in submodules
                ]
    assert bad == [], "import the module that defines the name, not the package root:\n" + "\n".join(bad)


def test_first_party_plugins_use_public_names_only():
    assert len(PLUGINS) == 5
    bad = []
    for folder in PLUGINS:
        for path in sorted(folder.rglob("*.py")):
            for node in _imports(path):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "segen":
                    names = node.module.split(".") + [a.name for a in node.names]
                    private = [n for n in names if n.startswith("_") and not n.endswith("__")]
                    if private:
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module} {private}")
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff_is_clean(command):
    ruff = shutil.which(
        "ruff", path=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    )
    if ruff is None:
        pytest.skip("ruff is not installed (test extra)")
    targets = [str(ROOT / d) for d in ("python", "plugins", "tests", "benchmarks", "examples", "docs")]
    proc = subprocess.run([ruff, *command, *targets], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
