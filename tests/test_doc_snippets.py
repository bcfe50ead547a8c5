"""Every code snippet in README.md and docs/*.md runs without raising (issue 15).

The rules (written for people too in docs/contributing-docs.md):

- ```python blocks run in order, one namespace per Markdown file (a later block may use what an earlier
  one made), in a fresh temporary folder holding the sample files of :func:`_samples` (photo.png,
  photo.jpg, in.webp, nuclei.tif, a photos/ folder with a subfolder). The namespace's ``__name__`` is an
  empty package, so plugin-module snippets (``files(__name__)``) work. A block holding
  ``if __name__ == "__main__":`` is a script: it is saved to a file and run as ``python script.py`` in a new
  process, as a reader would run it.
- Shell: in ```bash / ```sh / ```shell blocks and in blocks without a language, each line starting with
  ``segen `` runs (a line ending in ``\\`` continues on the next; ``# comments`` are dropped) and must exit
  0: in this process through ``segen.cli.main``, or through bash when it redirects or pipes. Commands of
  :data:`SLOW_COMMANDS` (minutes of training, a demo, a server that never ends) are not run; nor are other
  programs (pip, cmake, python).
- ```text, ```cmake, ```cpp, ```toml and other languages are not run (.ci/run builds the C++ example).
- ``<!-- doc-test: skip REASON -->`` on the line before a block's opening fence: the block is not run.
  Use it only where a block truly cannot run in a test; the reason is required, and every skipped block
  is listed in :data:`SKIPPED` (a new one fails :func:`test_skipped_blocks_are_the_known_ones` until it is
  added there, so that skips are seen in review).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import segen
from helpers import ROOT

#: Subcommands never run from the docs: training takes minutes, the demo runs every model, a server
#: never ends.
SLOW_COMMANDS = frozenset({"train", "demo", "serve"})

#: (file, first line of the block's code) of every block skipped with a marker, and why: edits elsewhere
#: in the file do not move the key, a change of the skipped block itself does.
SKIPPED: dict[tuple[str, str], str] = {
    # the workflow page: evaluating and deploying the model its training step (minutes, not run) writes
    (
        "docs/training.md",
        "segen evaluate -m runs/mydata/unet-mydata-int8.onnx --data mydata --split test --json scores.json "
        "--picture cm.png",
    ): "needs the model that step 2 trains",
    (
        "docs/training.md",
        "segen segment photos/ -m runs/mydata/unet-mydata-int8.onnx -o out -k overlay --legend",
    ): "needs the model that step 2 trains",
}

_FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_MARKER = re.compile(r"<!--\s*doc-test:\s*skip\b(.*?)-->")
_SHELL_LANGS = {"bash", "sh", "shell", ""}


def _docs() -> list[pathlib.Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(path: pathlib.Path):
    """(language, first line number of the code, code, skip reason or None) of each fenced block."""
    text = path.read_text()
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 2
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        yield m.group(1).lower(), line, m.group(2), (marker.group(1).strip() if marker else None)


def _commands(code: str) -> list[list[str]]:
    """The `segen ...` command lines of a shell block, as argument lists (comments dropped)."""
    out, pending = [], ""
    for raw in code.splitlines():
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        if line.lstrip().startswith("segen "):
            out.append(shlex.split(line, comments=True))
    return out


def _subcommand(argv: list[str]) -> str | None:
    from segen.cli import cli

    return next((a for a in argv[1:] if a in cli.commands or a in SLOW_COMMANDS), None)


def _samples(folder: pathlib.Path) -> None:
    """The files the docs' examples name, made from scikit-image's bundled photographs."""
    from PIL import Image
    from skimage import data

    astro, coffee = data.astronaut()[::4, ::4], data.coffee()[::4, ::4]
    segen.io.imwrite(folder / "photo.png", np.ascontiguousarray(astro))
    segen.io.imwrite(folder / "photo.jpg", np.ascontiguousarray(astro))
    Image.fromarray(coffee).save(folder / "in.webp", lossless=True)
    nuclei = segen.data.nuclei(1, size=128, seed=0).images[0]
    segen.io.imwrite(folder / "nuclei.tif", np.ascontiguousarray(nuclei))
    (folder / "photos" / "more").mkdir(parents=True)
    segen.io.imwrite(folder / "photos" / "astro.png", np.ascontiguousarray(astro))
    segen.io.imwrite(folder / "photos" / "coffee.png", np.ascontiguousarray(coffee))
    segen.io.imwrite(folder / "photos" / "more" / "camera.png", data.camera()[::4, ::4])
    package = folder / "docpkg"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")


def _run_shell(argv: list[str], where: str) -> None:
    from segen.cli import main

    if any(t in ("<", ">", "|", ">>") or t[:1] in "<>|" for t in argv):  # redirection: a real shell
        line = " ".join([shlex.quote(sys.executable), "-m", "segen", *argv[1:]])
        line = re.sub(r"'([<>|]+)'", r"\1", line)  # the operators, unquoted
        res = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"{where}: `{shlex.join(argv)}` exited {res.returncode}: {res.stderr}"
        return
    code = main(argv[1:])
    assert code == 0, f"{where}: `{shlex.join(argv)}` exited {code}"


@pytest.fixture
def first_party_plugins():
    """Every plugin pyproject.toml declares, registered if the environment's (possibly older) install
    metadata lacks its entry point: the docs describe this checkout."""
    import importlib

    import tomllib
    from segen import plugins

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["segen"]
    loaded = {name for name, _ in plugins.get_host().pm.list_name_plugin()}
    added = [name for name in declared if name not in loaded]
    for name in added:
        plugins.register_plugin(importlib.import_module(declared[name]), name)
    yield
    for name in added:
        plugins.unregister_plugin(name)


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_snippet_runs(doc, tmp_path, monkeypatch, first_party_plugins):
    _samples(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    namespace = {"__name__": "docpkg"}
    name = doc.relative_to(ROOT).as_posix()
    for lang, line, code, skip in _blocks(doc):
        where = f"{name}:{line}"
        if skip is not None:
            continue
        if lang == "python" and 'if __name__ == "__main__":' in code:
            script = tmp_path / f"snippet_{line}.py"
            script.write_text(code)
            res = subprocess.run(
                [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
            )
            assert res.returncode == 0, f"{where}: the script exited {res.returncode}:\n{res.stderr[-3000:]}"
        elif lang == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 - the docs are this repository's
        elif lang in _SHELL_LANGS:
            for argv in _commands(code):
                if _subcommand(argv) not in SLOW_COMMANDS:
                    _run_shell(argv, where)


def test_skipped_blocks_are_the_known_ones():
    found = {}
    for doc in _docs():
        for _, line, code, skip in _blocks(doc):
            if skip is not None:
                name = doc.relative_to(ROOT).as_posix()
                assert skip, f"{name}:{line}: a doc-test skip marker needs a reason"
                found[(name, code.split("\n", 1)[0].strip())] = skip
    assert found == SKIPPED


def test_the_parser_sees_every_kind_of_block():
    """The rules above, on a made-up page: what runs, what does not."""
    page = ROOT / "README.md"
    blocks = list(_blocks(page))
    langs = {lang for lang, *_ in blocks}
    assert {"python", "bash", "text", "cpp", "cmake"} <= langs
    cmds = [argv for lang, _, code, _ in blocks if lang in _SHELL_LANGS for argv in _commands(code)]
    assert ["segen", "segment", "-", "-m", "otsu", "-k", "cutout", "<", "in.webp", ">", "cutout.png"] in cmds
    train = [argv for argv in cmds if _subcommand(argv) == "train"]
    assert train and all("\\" not in " ".join(a) for a in train)  # continuation lines joined
    assert _commands("segen list   # a comment\nsegen a \\\n  b  # c\npip install x") == [
        ["segen", "list"],
        ["segen", "a", "b"],
    ]


def _documented_training(recipe: str) -> list[list[str]]:
    out = []
    for doc in _docs():
        for lang, _, code, _ in _blocks(doc):
            if lang in _SHELL_LANGS:
                out += [a for a in _commands(code) if a[1:3] == ["train", recipe]]
    return out


@pytest.mark.parametrize(
    "recipe, sidecar",
    [
        ("unet", "segen_unet/models/unet-textures.json"),
        ("fcn", "segen_fcn/models/fcn-shapes.json"),
        ("nuclei", "segen_nuclei/models/unet-nuclei.json"),
    ],
)
def test_documented_training_commands_are_the_shipped_ones(recipe, sidecar):
    """One training command per shipped segmenter: what the docs say is what the model's sidecar says
    trained it (the output folder aside)."""
    recorded = json.loads((ROOT / "plugins" / sidecar).read_text())["training"]["command"]

    def without_out(argv):
        i = argv.index("--out") if "--out" in argv else len(argv)
        return argv[:i] + argv[i + 2 :]

    documented = _documented_training(recipe)
    assert documented, recipe
    for argv in documented:
        assert without_out(argv) == without_out(shlex.split(recorded)), shlex.join(argv)
