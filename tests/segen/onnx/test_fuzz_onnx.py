"""A short run of tests/fuzz/fuzz_onnx.py: mutated models and sidecars end in a segen error or a result, never a
crash, a hang or another exception type (the long runs: ``python tests/fuzz/fuzz_onnx.py --iterations N``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT

pytest.importorskip("onnx")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fuzz driver forks a child per case")
def test_short_fuzz_run_has_no_findings(tmp_path):
    script = ROOT / "tests" / "fuzz" / "fuzz_onnx.py"
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "--iterations",
            "150",
            "--seed",
            "14",
            "--json",
            "--save",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = json.loads(proc.stdout)
    assert summary["findings"] == [], summary["findings"][:3]
    assert proc.returncode == 0
    outcomes = summary["outcomes"]
    assert sum(outcomes.values()) == 150
    # both paths were exercised: models that load and run, and each kind of refusal
    for outcome in ("ok", "error:ModelError", "error:ModelIntegrityError"):
        assert outcomes.get(outcome, 0) > 0, outcomes
    assert summary["by_category"]["stale"] == {
        "error:ModelIntegrityError": sum(summary["by_category"]["stale"].values())
    }


def test_the_driver_reports_a_crash_and_an_unexpected_exception(tmp_path, monkeypatch):
    """The outcome classes can fail: a child that dies by a signal is a crash, a non-segen exception is
    unexpected, a sleeping one a hang."""
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_onnx", ROOT / "tests" / "fuzz" / "fuzz_onnx.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    import signal
    import time

    cases = {
        "crash": lambda path, kind: os.kill(os.getpid(), signal.SIGSEGV),
        "unexpected": lambda path, kind: ("unexpected:KeyError", "boom"),
        "hang": lambda path, kind: time.sleep(60),
    }
    for want, run in cases.items():
        monkeypatch.setattr(fuzz, "run_case", run)
        outcome, _ = fuzz.execute(tmp_path / "m.onnx", "seg", timeout=2, mem=4 << 30, cpu=20)
        assert outcome.startswith(want), (want, outcome)
        assert fuzz.is_finding(outcome)
