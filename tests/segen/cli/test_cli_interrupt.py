"""Ctrl-C during a ``segen segment`` batch (RELIABILITY X4): a real process, a real SIGINT.

The first Ctrl-C lets the current image finish and stops after it; a second stops at once and removes what
the current image had written. Every file left is complete, no temporary file remains, a summary says what
was done, and the exit code is 130.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import segen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")

SHAPE = (60, 80)

# a CLI process with a slow segmenter (and, with "slow-overlay", a slow overlay) registered as a plugin
_CHILD = """
import signal, sys, time
import numpy as np
import segen
from segen import plugins, viz
from segen.cli import main

signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job may ignore SIGINT
mode, args = sys.argv[1], sys.argv[2:]
seconds = float(mode.split(":")[1])


def slow_segmenter():
    def run(img):
        time.sleep(0.0 if mode.startswith("slow-overlay") else seconds)
        return (img[..., 0] > 127).astype(np.int32) + 1

    return segen.FunctionSegmenter(run, name="slow")


if mode.startswith("slow-overlay"):
    draw = viz.overlay

    def slow_overlay(img, labels, **options):
        time.sleep(seconds)
        return draw(img, labels, **options)

    viz.overlay = slow_overlay
mod = type(sys)("slow_plugin")
mod.register_segmenters = segen.hookimpl(lambda register: register("slow", slow_segmenter))
plugins.register_plugin(mod, "slow")
sys.exit(main(args))
"""


@pytest.fixture
def batch(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    paths = []
    for i in range(30):
        paths.append(src / f"img{i:02d}.png")
        segen.io.imwrite(paths[-1], np.full((*SHAPE, 3), i * 8, np.uint8))
    return paths


def _start(mode, paths, out):
    args = ["segment", *map(str, paths), "-m", "slow", "-o", str(out), "--overlay"]
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, mode, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _wait_for(proc, path, timeout=60.0):
    start = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - start < timeout, f"{path.name} never appeared"
        time.sleep(0.01)


def _check_results(out, stdout):
    """Every file in `out` is a complete result, images come in label/overlay pairs, and their number is the
    one the summary gives."""
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".") or ".tmp" in n], names  # no temporary file left
    stems = sorted({n.rsplit("_", 1)[0] for n in names})
    assert names == sorted([f"{s}_labels.png" for s in stems] + [f"{s}_overlay.png" for s in stems])
    for s in stems:
        labels = segen.io.imread(out / f"{s}_labels.png")
        assert labels.shape == SHAPE and labels.dtype == np.uint8 and labels.min() >= 1
        assert segen.io.imread(out / f"{s}_overlay.png").shape == (*SHAPE, 3)
    assert f"segmented {len(stems)} image(s) with slow" in stdout
    return stems


def test_ctrl_c_stops_after_the_current_image(batch, tmp_path):
    out = tmp_path / "out"
    proc = _start("slow:1.0", batch, out)
    _wait_for(proc, out / "img00_overlay.png")
    time.sleep(0.3)  # inside the second image's segment(), which takes 1 s
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    stems = _check_results(out, stdout)
    assert 2 <= len(stems) < 30 and stems == [f"img{i:02d}" for i in range(len(stems))]  # current finished
    assert "stopping after the current image" in stderr
    assert f"interrupted: {len(stems)} of 30 image(s) done" in stderr
    assert f"from {batch[len(stems)]} on" in stderr and "Traceback" not in stderr


def test_a_second_ctrl_c_stops_at_once_and_removes_the_current_images_results(batch, tmp_path):
    out = tmp_path / "out"
    proc = _start("slow-overlay:1.0", batch, out)
    _wait_for(proc, out / "img01_labels.png")  # the second image's labels are written, its overlay is not
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert _check_results(out, stdout) == ["img00"]  # img01's labels were removed with it
    assert "interrupted: 1 of 30 image(s) done; 29 not segmented" in stderr and "Traceback" not in stderr
