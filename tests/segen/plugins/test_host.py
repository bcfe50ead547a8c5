"""The plugin host: entry-point discovery, isolation of broken plugins, name conflicts, switches, and the
example third-party plugin installed with pip."""

from __future__ import annotations

import importlib
import json
import select
import shutil
import subprocess
import sys
import textwrap
import threading
import types
import warnings

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from helpers import ROOT, run_python
from segen import plugins
from segen.cli import cli, main
from segen.errors import PluginError, SegenPluginWarning, UnknownModelError
from segen.plugins import PluginHost

EXAMPLE = ROOT / "examples" / "plugin"


def _fake_dist(root, dist, entry_points: dict[str, str], modules: dict[str, str], requires=()):
    """A minimal installed distribution under `root` (on sys.path): modules, a dist-info, entry points,
    and `requires` as its Requires-Dist lines."""
    for name, code in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(code))
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    extra = "".join(f"Requires-Dist: {r}\n" for r in requires)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n{extra}")
    (info / "entry_points.txt").write_text(
        "[segen]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    )


GOOD = """
    import segen

    @segen.hookimpl
    def register_segmenters(register):
        register("halves", lambda: segen.FunctionSegmenter(
            lambda img: (img.mean(axis=-1) if img.ndim == 3 else img) > 127, name="halves"),
            summary="good one")
"""
BROKEN_IMPORT = """
    raise RuntimeError("this plugin is broken at import")
"""
BROKEN_REGISTER = """
    import segen

    @segen.hookimpl
    def register_segmenters(register):
        register("half-done", lambda: None)
        raise ValueError("gave up half-way")
"""
TYPO = """
    import segen

    @segen.hookimpl
    def register_segmenter(register):
        register("never", lambda: None)
"""


@pytest.fixture
def fake_env(tmp_path, monkeypatch):
    _fake_dist(tmp_path, "segen-good", {"good": "segen_good_mod"}, {"segen_good_mod": GOOD})
    _fake_dist(tmp_path, "segen-broken", {"broken": "segen_broken_mod"}, {"segen_broken_mod": BROKEN_IMPORT})
    _fake_dist(
        tmp_path, "segen-halfway", {"halfway": "segen_halfway_mod"}, {"segen_halfway_mod": BROKEN_REGISTER}
    )
    _fake_dist(tmp_path, "segen-typo", {"typo": "segen_typo_mod"}, {"segen_typo_mod": TYPO})
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    for var in ("SEGEN_DISABLE_PLUGINS", "SEGEN_NO_PLUGIN_AUTOLOAD", "SEGEN_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    # only the fakes, whatever else is installed (first-party plugins, the example)
    monkeypatch.setenv("SEGEN_PLUGINS", "good,broken,halfway,typo")
    yield tmp_path
    for m in ("segen_good_mod", "segen_broken_mod", "segen_halfway_mod", "segen_typo_mod"):
        sys.modules.pop(m, None)


def _load(**kw) -> tuple[PluginHost, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        host = PluginHost(**kw).load()
    return host, [w for w in caught if issubclass(w.category, SegenPluginWarning)]


def test_broken_plugins_are_isolated(fake_env, monkeypatch, camera):
    host, caught = _load()
    failures = {f.plugin: f for f in host.failures}
    assert set(failures) == {"broken", "halfway", "typo"}
    assert failures["broken"].phase == "import" and "broken at import" in failures["broken"].message
    assert failures["broken"].distribution == "segen-broken" and failures["broken"].version == "1.0"
    assert failures["halfway"].phase == "register_segmenters"
    assert (
        failures["typo"].phase == "validate"
        and "did you mean 'register_segmenters'" in failures["typo"].message
    )
    assert len(caught) == 3 and any("broken at import" in str(w.message) for w in caught)
    # everything else works: the good plugin and the built-ins
    names = {e.name for e in host.registry.entries("segmenter")}
    assert "halves" in names and "kmeans" in names
    assert "half-done" not in names  # what the failing hook registered was withdrawn
    assert "never" not in names
    # `segen plugins` shows the failures with their errors
    monkeypatch.setattr(plugins.host, "_host", host)
    res = CliRunner().invoke(cli, ["plugins"])
    assert res.exit_code == 0, res.output
    report = {p["name"]: p for p in json.loads(res.output)}
    assert report["good"]["status"] == "ok" and report["good"]["provides"] == {"segmenters": ["halves"]}
    assert report["broken"]["status"] == "failed"
    assert report["broken"]["errors"] == [
        {"phase": "import", "error": "RuntimeError: this plugin is broken at import"}
    ]
    assert "builtin" not in report
    res = CliRunner().invoke(cli, ["plugins", "--all", "--hook", "register_segmenters"])
    assert {p["name"] for p in json.loads(res.output)} == {"builtin", "user-models", "good", "halfway"}
    labels = segen.get_segmenter("halves").segment(camera)
    assert labels.dtype == np.int32 and set(np.unique(labels)) == {0, 1}


def test_strict_mode_raises(fake_env, monkeypatch):
    monkeypatch.setenv("SEGEN_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="broken at import"):
        PluginHost().load()


def test_switches(fake_env, monkeypatch):
    monkeypatch.setenv("SEGEN_PLUGINS", "good,segen-typo")
    host, caught = _load()
    assert set(host.records) == {"good", "typo", "builtin", "user-models"} and [
        f.plugin for f in host.failures
    ] == ["typo"]
    monkeypatch.setenv("SEGEN_PLUGINS", "nonexistent")
    host, caught = _load()
    assert any("nonexistent" in str(w.message) for w in caught)
    monkeypatch.setenv("SEGEN_PLUGINS", "good,broken,halfway,typo")
    monkeypatch.setenv("SEGEN_DISABLE_PLUGINS", "segen-broken,halfway,typo,builtin,user-models")
    host, caught = _load()
    assert set(host.records) == {"good"} and not host.failures and not caught
    monkeypatch.delenv("SEGEN_DISABLE_PLUGINS")
    monkeypatch.setenv("SEGEN_NO_PLUGIN_AUTOLOAD", "1")
    host, caught = _load()
    assert set(host.records) == {"builtin", "user-models"}


def _plugin(name_prefix, *names, summary="x"):
    mod = types.ModuleType(name_prefix)

    @segen.hookimpl
    def register_segmenters(register):
        for n in names:
            register(n, lambda: segen.FunctionSegmenter(lambda img: img > 0, name=n), summary=summary)

    mod.register_segmenters = register_segmenters
    return mod


def test_two_plugins_with_one_name(fake_env):
    host = PluginHost(autoload=False)
    host.load()
    host.register_plugin(_plugin("first", "blobs", summary="from a"), "a")
    with pytest.warns(SegenPluginWarning, match="'blobs' is registered by plugins 'a' and 'b'"):
        host.register_plugin(_plugin("second", "blobs", summary="from b"), "b")
    with pytest.raises(UnknownModelError, match="ambiguous.*'a:blobs', 'b:blobs'"):
        host.registry.resolve("segmenter", "blobs")
    assert host.registry.resolve("segmenter", "b:blobs").summary == "from b"
    # both appear qualified in the listing
    displayed = {host.registry.display_name(e) for e in host.registry.entries("segmenter")}
    assert {"a:blobs", "b:blobs"} <= displayed
    host.unregister_plugin("b")
    assert host.registry.resolve("segmenter", "blobs").plugin == "a"


def test_one_plugin_registering_a_name_twice_fails(fake_env):
    host = PluginHost(autoload=False, builtins=False)
    with pytest.warns(SegenPluginWarning, match="registers the segmenter name 'dup' twice"):
        host.register_plugin(_plugin("twice", "dup", "dup"), "twice")
    assert host.registry.entries("segmenter") == []
    with pytest.raises(PluginError, match="already registered"):
        host.register_plugin(_plugin("again", "other"), "twice")


def test_registration_is_lazy_and_cheap():
    code = (
        "import sys, segen; print('pluggy' in sys.modules, 'onnxruntime' in sys.modules); "
        "segen.list_segmenters(); print('pluggy' in sys.modules, 'onnxruntime' in sys.modules, "
        "'segen._core' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    # import segen loads no plugin machinery; listing loads pluggy but neither ONNX Runtime nor the C++ core
    assert out == ["False", "False", "True", "False", "False"]


# ---- the example third-party plugin, installed with pip ----------------------------------------------------


@pytest.fixture(scope="module")  # uninstalled when this file is done: later tests see no extra plugin
def example_plugin(tmp_path_factory):
    src = tmp_path_factory.mktemp("example") / "plugin"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    proc = subprocess.run(
        pip + ["install", "--no-deps", "--no-build-isolation", "--no-index", str(src)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"pip cannot install examples/plugin (setuptools is in the test extra): {proc.stderr[-2000:]}"
        )
    importlib.invalidate_caches()
    plugins.reset()
    try:
        yield
    finally:
        subprocess.run(pip + ["uninstall", "-y", "segen-example"], check=True, capture_output=True)
        sys.modules.pop("segen_example", None)
        importlib.invalidate_caches()
        plugins.reset()


def test_example_plugin_from_python(example_plugin, camera):
    assert "quantize" in segen.list_segmenters()
    seg = segen.get_segmenter("example:quantize", levels=3)
    labels = seg.segment(camera)
    assert labels.dtype == np.int32 and set(np.unique(labels)) == {1, 2, 3}
    # quantile bands: about a third of the pixels each
    assert np.all(np.abs(np.bincount(labels.ravel())[1:] / labels.size - 1 / 3) < 0.1)
    assert segen.get_segmenter("quantise").info.options == {"levels": 4}
    report = {p["name"]: p for p in plugins.plugin_report()}
    assert report["example"]["distribution"] == "segen-example"
    assert report["example"]["hooks"] == ["register_commands", "register_segmenters"]


def test_example_plugin_from_the_command_line(example_plugin, tmp_path, capsys):
    src = tmp_path / "cam.png"
    segen.io.imwrite(src, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64).astype(np.uint8))
    res = CliRunner().invoke(cli, ["plugins"])
    assert "segen-example" in res.output
    assert "quantize" in CliRunner().invoke(cli, ["list"]).output
    # a real process, as a user runs it
    cmd = [
        sys.executable,
        "-m",
        "segen",
        "segment",
        str(src),
        "-m",
        "quantize",
        "-p",
        "levels=5",
        "-o",
        str(tmp_path / "out"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    labels = segen.io.imread(tmp_path / "out" / "cam_labels.png")
    assert labels.dtype == np.uint8 and labels.shape == (64, 64) and labels.max() == 5
    # the command the plugin adds
    proc = subprocess.run(
        [sys.executable, "-m", "segen", "example-hello", "you"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "hello, you, from segen-example"
    assert main(["example-hello"]) == 0
    assert capsys.readouterr().out.strip() == "hello, world, from segen-example"


def test_trace_prints_each_hook_call(fake_env, monkeypatch, capsys):
    monkeypatch.setenv("SEGEN_TRACE_PLUGINS", "1")
    monkeypatch.setenv("SEGEN_PLUGINS", "good")
    PluginHost().load()
    err = capsys.readouterr().err
    assert "[segen plugins] register_segmenters of plugin 'good'" in err
    assert "register_segmenters of plugin 'builtin'" in err


_EIGHT_THREADS = """
import threading, segen
barrier, results = threading.Barrier(8), []
def first_use():
    barrier.wait()
    try:
        results.append(type(segen.get_segmenter("kmeans", k=2)).__name__)
    except Exception as exc:
        results.append(repr(exc))
threads = [threading.Thread(target=first_use) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(set(results)), len(results))
"""


@pytest.mark.parametrize("attempt", range(3))
def test_first_use_from_eight_threads_in_a_fresh_process(attempt):
    # the host was once published before its plugins were loaded: 7 of 8 threads got UnknownModelError
    out = run_python(_EIGHT_THREADS).strip().splitlines()[-1]
    assert out == "['FunctionSegmenter'] 8"


def test_a_plugin_asking_for_the_host_while_it_loads_gets_that_host(monkeypatch):
    seen = []
    module = types.ModuleType("segen_test_reentrant")

    @segen.hookimpl
    def register_segmenters(register):
        seen.append(plugins.get_host())  # re-entrant: must neither deadlock nor load a second host
        register("reentrant", lambda: segen.FunctionSegmenter(lambda img: img > 0, name="r"))

    module.register_segmenters = register_segmenters
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(
        plugins.host, "DEFAULT_PLUGINS", (*plugins.host.DEFAULT_PLUGINS, ("reentrant", module.__name__))
    )
    plugins.reset()
    try:
        host = plugins.get_host()
        assert seen == [host] and "reentrant" in segen.list_segmenters()
    finally:
        plugins.reset()


# ---- plugins that raise what is not an Exception, hang, or break str() (RELIABILITY L1, L8, L9) ------------

NASTY = textwrap.dedent(
    """
    class Nasty(Exception):
        def __str__(self):
            raise RuntimeError("str() of this exception raises")

        def __repr__(self):
            raise RuntimeError("so does repr()")
    """
)
HOSTILE = {
    "exit-at-import": ("import", "raise SystemExit(3)", "SystemExit: 3"),
    "exit-in-hook": ("register_segmenters", "HOOK:raise SystemExit('bye')", "SystemExit: bye"),
    "base-at-import": ("import", "raise GeneratorExit('odd')", "GeneratorExit: odd"),
    "ctrl-c-at-import": ("import", "raise KeyboardInterrupt", "KeyboardInterrupt"),
    "ctrl-c-in-hook": ("register_segmenters", "HOOK:raise KeyboardInterrupt", "KeyboardInterrupt"),
    "bad-str-at-import": ("import", NASTY + "\nraise Nasty()", "Nasty (its str() and repr() raise)"),
    "bad-str-in-hook": (
        "register_segmenters",
        NASTY + "\nHOOK:raise Nasty()",
        "Nasty (its str() and repr() raise)",
    ),
}


def _hostile_module(code: str) -> str:
    """A plugin module: `code` at import, or (after ``HOOK:``) in its register_segmenters hook, which
    registers a segmenter first (withdrawn when the hook fails)."""
    head, hook, body = code.partition("HOOK:")
    if not hook:
        return head
    return (
        head
        + "\nimport segen\n\n@segen.hookimpl\ndef register_segmenters(register):\n"
        + "    register('hostile', lambda: None)\n    "
        + body
        + "\n"
    )


@pytest.fixture
def sigint_default():
    """Python's own SIGINT handler (a shell's background job may have started the tests ignoring SIGINT)."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_what_a_plugin_raises_is_its_failure_never_the_hosts(case, fake_env, monkeypatch, sigint_default):
    phase, code, message = HOSTILE[case]
    module = "segen_" + case.replace("-", "_")
    _fake_dist(fake_env, f"segen-{case}", {case: module}, {module: textwrap.dedent(_hostile_module(code))})
    monkeypatch.setenv("SEGEN_PLUGINS", f"good,{case}")
    try:
        host, caught = _load()
    finally:
        sys.modules.pop(module, None)
    (failure,) = host.failures
    assert (failure.plugin, failure.phase, failure.message) == (case, phase, message)
    assert len(caught) == 1 and message in str(caught[0].message)
    names = {e.name for e in host.registry.entries("segmenter")}
    assert {"halves", "kmeans"} <= names and "hostile" not in names  # the others go on; nothing half-done
    assert failure.traceback.strip()  # formatting the traceback survives a hostile str() too
    # its models: a clear error naming the plugin, chained to what the plugin raised
    with pytest.raises(UnknownModelError, match=f"plugin '{case}' failed at {phase}") as info:
        host.registry.create("segmenter", f"{case}:hostile", {})
    assert info.value.__cause__ is failure.error
    with pytest.raises(UnknownModelError, match=f"plugins that failed to load: '{case}'"):
        host.registry.resolve("segmenter", "hostile")


@pytest.mark.parametrize("case", ["exit-in-hook", "bad-str-at-import"])
@pytest.mark.parametrize("command", [["list"], ["plugins", "--traceback"]])
def test_list_and_plugins_commands_survive_hostile_plugins(case, command, fake_env, monkeypatch):
    # `segen list` and `segen plugins` once ended with exit 3 and nothing printed (SystemExit in a hook), or
    # exit 1 (an exception whose str() raises)
    phase, code, message = HOSTILE[case]
    module = "segen_" + case.replace("-", "_")
    _fake_dist(fake_env, f"segen-{case}", {case: module}, {module: textwrap.dedent(_hostile_module(code))})
    monkeypatch.setenv("SEGEN_PLUGINS", f"good,{case}")
    monkeypatch.setattr(plugins.host, "_host", None)  # the command loads the plugins itself
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SegenPluginWarning)
            res = CliRunner().invoke(cli, command)
    finally:
        sys.modules.pop(module, None)
    assert res.exit_code == 0, res.output
    if command == ["list"]:
        assert "halves" in res.output and "kmeans" in res.output
    else:
        report = {p["name"]: p for p in json.loads(res.output)}
        (error,) = report[case]["errors"]
        assert report[case]["status"] == "failed" and error["phase"] == phase and error["error"] == message
        assert "Traceback" in error["traceback"] and report["good"]["status"] == "ok"
        assert report["good"]["import_seconds"] >= 0  # RELIABILITY L8: import time measured


def test_a_ctrl_c_pressed_during_a_plugins_import_is_the_users(fake_env, monkeypatch, sigint_default):
    # a real SIGINT while a plugin imports: it propagates (never swallowed), naming the plugin and the bypass
    code = "import signal\nsignal.raise_signal(signal.SIGINT)\n"
    _fake_dist(fake_env, "segen-pressed", {"pressed": "segen_pressed_mod"}, {"segen_pressed_mod": code})
    monkeypatch.setenv("SEGEN_PLUGINS", "pressed")
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            PluginHost().load()
    finally:
        sys.modules.pop("segen_pressed_mod", None)
    note = " ".join(getattr(info.value, "__notes__", []))
    if sys.version_info >= (3, 11):
        assert "importing plugin 'pressed' (segen-pressed 1.0)" in note
        assert "SEGEN_DISABLE_PLUGINS=pressed" in note
    import signal

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the host's handler is gone


def test_a_ctrl_c_a_plugin_swallows_is_raised_again(fake_env, monkeypatch, sigint_default):
    code = """
        import signal
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass  # a plugin must not eat the user's Ctrl-C
    """
    _fake_dist(fake_env, "segen-eats", {"eats": "segen_eats_mod"}, {"segen_eats_mod": code})
    monkeypatch.setenv("SEGEN_PLUGINS", "eats")
    try:
        with pytest.raises(KeyboardInterrupt):
            PluginHost().load()
    finally:
        sys.modules.pop("segen_eats_mod", None)


def test_a_keyboard_interrupt_propagates_where_the_host_cannot_tell_whose_it_is(fake_env, monkeypatch):
    # a SIGINT handler of the application's own: the host cannot see a Ctrl-C, so it never swallows one
    import signal

    _fake_dist(
        fake_env, "segen-kbi", {"kbi": "segen_kbi_mod"}, {"segen_kbi_mod": "raise KeyboardInterrupt\n"}
    )
    monkeypatch.setenv("SEGEN_PLUGINS", "kbi")
    before = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        with pytest.raises(KeyboardInterrupt):
            PluginHost().load()
    finally:
        signal.signal(signal.SIGINT, before)
        sys.modules.pop("segen_kbi_mod", None)


def test_a_keyboard_interrupt_a_plugin_raises_in_another_thread_is_its_failure(fake_env, monkeypatch):
    # only the main thread receives a Ctrl-C: in a loading thread, a KeyboardInterrupt is the plugin's own
    _fake_dist(
        fake_env, "segen-kbi", {"kbi": "segen_kbi_mod"}, {"segen_kbi_mod": "raise KeyboardInterrupt\n"}
    )
    monkeypatch.setenv("SEGEN_PLUGINS", "good,kbi")
    out = []
    thread = threading.Thread(target=lambda: out.append(_load()))
    try:
        thread.start()
        thread.join(60)
    finally:
        sys.modules.pop("segen_kbi_mod", None)
    host, _ = out[0]
    assert [(f.plugin, f.phase, f.message) for f in host.failures] == [("kbi", "import", "KeyboardInterrupt")]


def test_a_slow_plugin_is_named_on_stderr(fake_env, monkeypatch, capfd):
    code = "import time\ntime.sleep(1.0)\n"
    _fake_dist(fake_env, "segen-slow", {"slow": "segen_slow_mod"}, {"segen_slow_mod": code})
    monkeypatch.setenv("SEGEN_PLUGINS", "good,slow")
    monkeypatch.setenv("SEGEN_PLUGIN_SLOW_SECONDS", "0.2")
    try:
        host, caught = _load()
    finally:
        sys.modules.pop("segen_slow_mod", None)
    err = capfd.readouterr().err
    assert err.count("segen: plugin") == 1, err  # the slow one only, once
    assert "plugin 'slow' (segen-slow 1.0) has been importing for more than 0.2 s" in err
    assert "SEGEN_DISABLE_PLUGINS=slow" in err
    assert not host.failures and not caught and host.records["slow"].import_seconds >= 1.0
    monkeypatch.setenv("SEGEN_PLUGIN_SLOW_SECONDS", "0")  # off
    host, _ = _load()
    assert "segen: plugin" not in capfd.readouterr().err


_HANGING_PLUGIN_CLI = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a shell's background job may ignore SIGINT
from segen.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_a_plugin_hanging_at_import_is_named_and_can_be_bypassed(tmp_path):
    import os
    import signal

    _fake_dist(
        tmp_path,
        "segen-hangs",
        {"hangs": "segen_hangs_mod"},
        {"segen_hangs_mod": "import time\ntime.sleep(600)\n"},
    )
    env = dict(os.environ, SEGEN_PLUGINS="hangs", SEGEN_PLUGIN_SLOW_SECONDS="0.5")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tmp_path), env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", _HANGING_PLUGIN_CLI, "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        notice = proc.stderr.readline() if ready else ""  # the first thing on stderr, after 0.5 s
        assert "plugin 'hangs' (segen-hangs 1.0) has been importing for more than 0.5 s" in notice
        proc.send_signal(signal.SIGINT)  # the user's Ctrl-C stops it, and says which plugin was loading
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and stdout == ""
    if sys.version_info >= (3, 11):
        assert "segen: aborted; segen was importing plugin 'hangs'" in stderr
        assert "SEGEN_DISABLE_PLUGINS=hangs" in stderr
    # the way out it gave (RELIABILITY L9)
    env["SEGEN_DISABLE_PLUGINS"] = "hangs"
    res = subprocess.run(
        [sys.executable, "-m", "segen", "list"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0 and "kmeans" in res.stdout


def test_a_factory_raising_system_exit_is_a_plugin_error():
    host = PluginHost(autoload=False, builtins=False)

    def factory():
        raise SystemExit(4)

    mod = types.ModuleType("exits")
    mod.register_segmenters = segen.hookimpl(lambda register: register("exits", factory))
    host.register_plugin(mod, "exits")
    with pytest.raises(PluginError, match="factory of segmenter 'exits:exits' raised SystemExit: 4") as info:
        host.registry.create("segmenter", "exits", {})
    assert isinstance(info.value.__cause__, SystemExit)


def test_a_qualified_name_of_a_plugin_that_is_not_installed_lists_the_installed_ones(fake_env):
    host, _ = _load()
    with pytest.raises(
        UnknownModelError, match=r"no plugin named 'nope' is installed \(installed: 'builtin', 'good'"
    ):
        host.registry.resolve("segmenter", "nope:kmeans")


def test_a_hook_with_the_wrong_signature_is_refused_at_registration(fake_env):
    # RELIABILITY L2: pluggy's PluginValidationError, recorded against the plugin; the others go on
    mod = types.ModuleType("wrong_signature")
    mod.register_segmenters = segen.hookimpl(lambda register, colour: register("never", lambda: None))
    host = PluginHost(autoload=False)
    with pytest.warns(SegenPluginWarning, match="plugin 'wrong' failed at validate: PluginValidationError"):
        host.register_plugin(mod, "wrong")
    host.load()
    (failure,) = host.failures
    assert failure.plugin == "wrong" and "colour" in failure.message
    names = {e.name for e in host.registry.entries("segmenter")}
    assert "never" not in names and "kmeans" in names


def test_a_plugin_for_another_segen_is_skipped_with_the_reason(tmp_path, monkeypatch):
    """RELIABILITY L6: a distribution requiring another segen release is skipped before any of its code runs
    (read from its Requires-Dist); a module declaring another SEGEN_PLUGIN_API is skipped before its hooks
    are registered; both say why, and the other plugins load."""
    from importlib import metadata

    try:
        version = metadata.version("segen")
    except metadata.PackageNotFoundError:
        pytest.skip("segen is not installed (a source checkout): there is no version to compare")
    pytest.importorskip("packaging")
    marker = tmp_path / "imported"
    future = f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("imported")
    """
    _fake_dist(
        tmp_path,
        "segen-future",
        {"future": "segen_future_mod"},
        {"segen_future_mod": future},
        requires=["numpy", "segen>=99", "segen-extra; extra == 'x'"],
    )
    _fake_dist(
        tmp_path,
        "segen-oldapi",
        {"oldapi": "segen_oldapi_mod"},
        {
            "segen_oldapi_mod": "SEGEN_PLUGIN_API = 2\n"
            + textwrap.dedent(GOOD).replace('"halves"', '"old-halves"')
        },
    )
    _fake_dist(
        tmp_path,
        "segen-sameapi",
        {"sameapi": "segen_sameapi_mod"},
        {"segen_sameapi_mod": "SEGEN_PLUGIN_API = 1\n" + textwrap.dedent(GOOD)},
        requires=[f"segen>={version}"],
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.setenv("SEGEN_PLUGINS", "future,oldapi,sameapi")
    for var in ("SEGEN_DISABLE_PLUGINS", "SEGEN_NO_PLUGIN_AUTOLOAD", "SEGEN_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    try:
        host, caught = _load()
        failures = {f.plugin: f for f in host.failures}
        assert set(failures) == {"future", "oldapi"}, [str(f) for f in host.failures]
        assert failures["future"].phase == "validate"
        assert f"requires segen>=99 and this is segen {version}" in str(failures["future"])
        assert not marker.exists() and "segen_future_mod" not in sys.modules
        assert "written for segen plugin API 2 and this segen provides API 1" in str(failures["oldapi"])
        names = {e.name for e in host.registry.entries("segmenter")}
        assert "halves" in names and "old-halves" not in names
        assert len(caught) == 2
    finally:
        for m in ("segen_future_mod", "segen_oldapi_mod", "segen_sameapi_mod"):
            sys.modules.pop(m, None)
