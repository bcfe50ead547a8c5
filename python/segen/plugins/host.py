"""Finding, loading and isolating plugins (a pluggy ``PluginManager`` for project ``segen``).

Loading happens once, on the first registry lookup (never at ``import segen``), in this order:

1. the entry points of group ``segen``, each loaded and registered inside its own ``try``;
2. :data:`DEFAULT_PLUGINS` (``segen.plugins.builtin``, the classical methods, and
   ``segen.plugins.user_models``, the user model folders), through the same door;
3. a check that every hook a plugin implements exists (a typo such as ``register_segmenter`` is reported);
4. the registration hooks, called plugin by plugin, each inside its own ``try``.

A failure at any step becomes a :class:`PluginFailure` (plugin, distribution and version, phase, error),
one :class:`~segen.SegenPluginWarning`, and a line in ``segen plugins``; everything else keeps working.
What a failing registration hook had registered is withdrawn, so a plugin is never half-registered, and a
lookup of one of its names (``broken:model``) raises :class:`~segen.UnknownModelError` saying that the
plugin failed, chained to the plugin's exception.

What counts as a plugin's failure
---------------------------------
Any exception a plugin's import or hook raises: ``Exception``, and also ``SystemExit``, ``GeneratorExit``
and other ``BaseException`` subclasses (a plugin calling ``sys.exit()`` at import must not end the program).
An exception whose ``str()``/``repr()`` itself raises is described by its type name.

``KeyboardInterrupt`` is the one exception the host tells apart by where it comes from. A Ctrl-C the user
presses while a plugin is imported or registered is the user's: it propagates (nothing is swallowed), with a
note naming the plugin being loaded and the switch that skips it (``SEGEN_DISABLE_PLUGINS=name``), so a
plugin that hangs at import can be found and bypassed. A ``KeyboardInterrupt`` the plugin raises on its own
(no Ctrl-C was pressed) is that plugin's failure like any other exception. The host knows a Ctrl-C was
pressed because, while it loads plugins in the main thread, its own SIGINT handler (doing what Python's
default handler does, plus noting the press) replaces the default one; in other threads a Ctrl-C never
raises, so a ``KeyboardInterrupt`` there is always the plugin's. Where it cannot tell (a SIGINT handler other
than Python's default is installed, or the plugin replaced the host's), it propagates the interrupt. A
Ctrl-C that a plugin catches and swallows during its import is raised again once that import ends.

A plugin whose import (or hook) takes longer than ``SEGEN_PLUGIN_SLOW_SECONDS`` (default 5) gets a notice on
standard error naming it and the switch that skips it; nothing is killed. Each plugin's import time is in
``segen plugins``.

Environment switches
--------------------
``SEGEN_PLUGINS=a,b``
    load only these entry points (entry-point or distribution names); built-ins are always loaded.
``SEGEN_DISABLE_PLUGINS=x,y``
    never load these (entry-point or distribution names; ``builtin`` disables the built-in methods,
    ``user-models`` the user model folders).
``SEGEN_NO_PLUGIN_AUTOLOAD=1``
    load no entry point at all (built-ins only).
``SEGEN_STRICT_PLUGINS=1``
    re-raise a plugin's failure as :class:`~segen.PluginError` instead of warning (for CI).
``SEGEN_TRACE_PLUGINS=1``
    print every hook call (hook and plugin) to standard error.
``SEGEN_PLUGIN_SLOW_SECONDS=5``
    after this many seconds in one plugin's import or hook, say so on standard error (0: never).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from ..errors import PluginError, SegenPluginWarning
from . import hookspecs
from .registry import KINDS, Registry, describe_exception

__all__ = [
    "ENTRY_POINT_GROUP",
    "DEFAULT_PLUGINS",
    "SLOW_SECONDS",
    "PluginFailure",
    "PluginHost",
    "get_host",
    "reset",
    "register_plugin",
    "unregister_plugin",
    "plugin_report",
]

#: The entry-point group plugins declare (``[project.entry-points.segen]``).
ENTRY_POINT_GROUP = "segen"
#: The version of the plugin interface (the hooks of :mod:`segen.plugins.hookspecs` and what they are
#: given). A plugin module may say which one it was written for with ``SEGEN_PLUGIN_API = 1``; one written
#: for another is skipped with a message instead of failing in a hook. Raised when a hook changes
#: incompatibly.
PLUGIN_API = 1
#: segen's own plugins: (plugin name, module), registered after the entry points like any plugin.
DEFAULT_PLUGINS = (("builtin", "segen.plugins.builtin"), ("user-models", "segen.plugins.user_models"))
#: Seconds one plugin's import or hook may take before a notice on standard error names it
#: (``SEGEN_PLUGIN_SLOW_SECONDS`` overrides; 0 turns the notice off).
SLOW_SECONDS = 5.0

_REGISTER_HOOKS = {
    "register_segmenters": "segmenter",
    "register_generators": "generator",
    "register_trainers": "trainer",
    "register_model_loaders": "loader",
}


def _segen_version() -> str | None:
    try:
        return metadata.version("segen")
    except metadata.PackageNotFoundError:  # a source checkout on PYTHONPATH
        return None


def _requirement_problem(dist) -> str | None:
    """Why `dist` cannot work with this segen, read from its ``Requires-Dist: segen ...`` before anything of
    it is imported (None: no such requirement, it is met, or it cannot be read)."""
    version = _segen_version()
    if dist is None or version is None:
        return None
    try:
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.version import Version
    except ImportError:  # packaging comes with pip and onnxruntime; without it the module check remains
        return None
    try:
        requires = dist.requires or ()
        have = Version(version)
    except Exception:  # odd metadata or version: the import decides
        return None
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.name.lower().replace("_", "-") != "segen":
            continue
        try:
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
        except Exception:
            continue
        if not req.specifier.contains(have, prereleases=True):
            return (
                f"it requires segen{req.specifier} and this is segen {version}: install a release of "
                f"{dist.metadata['Name']} made for segen {version}, or segen{req.specifier}"
            )
    return None


def _api_problem(module) -> str | None:
    """Why a plugin module that declares ``SEGEN_PLUGIN_API`` cannot be used (None: it can)."""
    api = getattr(module, "SEGEN_PLUGIN_API", None)
    if api is None or (isinstance(api, int) and not isinstance(api, bool) and api == PLUGIN_API):
        return None
    return (
        f"it was written for segen plugin API {api!r} and this segen provides API {PLUGIN_API}: "
        "install a release of the plugin made for this segen"
    )


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _slow_seconds() -> float | None:
    """``SEGEN_PLUGIN_SLOW_SECONDS`` (default :data:`SLOW_SECONDS`); None when the notice is off."""
    raw = os.environ.get("SEGEN_PLUGIN_SLOW_SECONDS", "").strip()
    try:
        value = float(raw) if raw else SLOW_SECONDS
    except ValueError:
        value = SLOW_SECONDS
    if math.isnan(value):
        value = SLOW_SECONDS
    return value if 0 < value < math.inf else None


def _add_note(exc: BaseException, note: str) -> None:
    if hasattr(exc, "add_note"):  # Python >= 3.11
        exc.add_note(note)


class _CtrlC:
    """Tells a Ctrl-C the user presses during one plugin step from a ``KeyboardInterrupt`` the plugin raises.

    In the main thread, Python's default SIGINT handler is replaced for the step by one that does the same
    (raise ``KeyboardInterrupt``) and notes the press. In any other thread a Ctrl-C never raises, so a
    ``KeyboardInterrupt`` there is the plugin's. Where neither holds, it cannot tell and says "the user's".
    """

    def __init__(self) -> None:
        self.pressed = False
        self._handler = self._on_sigint  # one bound method: getsignal() gives this object back
        self._installed = False
        self._previous = None
        self._can_tell = threading.current_thread() is not threading.main_thread()

    def _on_sigint(self, signum, frame):
        self.pressed = True
        raise KeyboardInterrupt

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            try:
                previous = signal.getsignal(signal.SIGINT)
                if previous is signal.default_int_handler:
                    signal.signal(signal.SIGINT, self._handler)
                    self._installed, self._previous = True, previous
            except (ValueError, OSError):  # not the main interpreter, or no signals here
                previous = None
            # SIG_IGN: a Ctrl-C is ignored; SIG_DFL: it ends the process. Neither raises KeyboardInterrupt.
            self._can_tell = self._installed or previous in (signal.SIG_IGN, signal.SIG_DFL)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(signal.SIGINT) is self._handler:  # a plugin's own handler stays
                    signal.signal(signal.SIGINT, self._previous)

    def users(self) -> bool:
        """Whether a ``KeyboardInterrupt`` caught during the step is to be treated as the user's Ctrl-C."""
        if self.pressed or not self._can_tell:
            return True
        try:  # the plugin replaced the host's handler: its Ctrl-C would not be noted
            return self._installed and signal.getsignal(signal.SIGINT) is not self._handler
        except (ValueError, OSError):
            return True


class _SlowNotice:
    """One watcher thread: names, on standard error, a plugin step that runs longer than `seconds` (a
    thread per load, not per step: a timer per step cost a few milliseconds per load). Nothing is killed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._cond = threading.Condition()
        self._step: tuple[float, str] | None = None  # (deadline, notice)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="segen-plugin-watch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    @contextlib.contextmanager
    def step(self, notice: str):
        with self._cond:
            self._step = (time.monotonic() + self.seconds, notice)
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._step = None
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._step is None:
                        self._cond.wait()
                        continue
                    deadline, notice = self._step
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._step = None  # one notice per step
                        break
                    self._cond.wait(left)
                if self._closed:
                    return
            with contextlib.suppress(Exception):  # written outside the lock: stderr may block
                sys.stderr.write(notice)
                sys.stderr.flush()


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be imported, validated or registered."""

    plugin: str
    phase: str  #: "import", "validate", or the hook that raised ("register_segmenters", ...)
    error: BaseException
    distribution: str | None = None
    version: str | None = None
    #: ``"TypeName: message"``, taken once when the failure is recorded (see :func:`describe_exception`)
    message: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", describe_exception(self.error))

    @property
    def traceback(self) -> str:
        """The plugin's traceback as text (``segen plugins --traceback``)."""
        try:
            return "".join(traceback.format_exception(type(self.error), self.error, self.error.__traceback__))
        except Exception:  # noqa: BLE001 - a hostile exception must not break the report
            return self.message + "\n"

    def __str__(self) -> str:
        where = f" ({self.distribution} {self.version})" if self.distribution else ""
        return f"plugin {self.plugin!r}{where} failed at {self.phase}: {self.message}"


@dataclass
class _PluginRecord:
    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False
    hooks: list[str] = field(default_factory=list)
    import_seconds: float | None = None


class PluginHost:
    """A plugin manager, the registry it fills, and the record of what failed.

    Parameters
    ----------
    autoload : bool, optional
        Load the ``segen`` entry points (default: unless ``SEGEN_NO_PLUGIN_AUTOLOAD`` is set).
    builtins : bool, optional
        Register :data:`DEFAULT_PLUGINS` (default True).
    strict : bool, optional
        Raise :class:`~segen.PluginError` on a plugin failure instead of warning (default:
        ``SEGEN_STRICT_PLUGINS``).
    """

    def __init__(self, *, autoload: bool | None = None, builtins: bool = True, strict: bool | None = None):
        self.pm = pluggy.PluginManager("segen")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.failures: list[PluginFailure] = []
        self.records: dict[str, _PluginRecord] = {}
        self.autoload = not _env_flag("SEGEN_NO_PLUGIN_AUTOLOAD") if autoload is None else autoload
        self.builtins = builtins
        self.strict = _env_flag("SEGEN_STRICT_PLUGINS") if strict is None else strict
        self._conflicts_seen: set = set()
        self._commands_added: set[int] = set()
        self.trace = _env_flag("SEGEN_TRACE_PLUGINS")
        self.slow_seconds = _slow_seconds()
        self._watch: _SlowNotice | None = None

    # ---- failures ------------------------------------------------------------------------------------------
    def _fail(self, plugin: str, phase: str, error: BaseException) -> None:
        rec = self.records.get(plugin)
        failure = PluginFailure(
            plugin, phase, error, rec.distribution if rec else None, rec.version if rec else None
        )
        self.failures.append(failure)
        self.registry.mark_unavailable(plugin, f"{phase}: {failure.message}", error)
        if self.strict:
            raise PluginError(str(failure)) from error
        warnings.warn(
            f"{failure}; the plugin was skipped (`segen plugins` shows it)", SegenPluginWarning, stacklevel=4
        )

    def _where(self, name: str) -> str:
        rec = self.records.get(name)
        return f" ({rec.distribution} {rec.version})" if rec is not None and rec.distribution else ""

    @contextlib.contextmanager
    def _watching(self):
        """The slow-step watcher for a load (or a run-time registration); nested uses share one."""
        if self._watch is not None or self.slow_seconds is None:
            yield
            return
        self._watch = _SlowNotice(self.slow_seconds)
        try:
            yield
        finally:
            self._watch.close()
            self._watch = None

    def _slow_step(self, name: str, phase: str):
        """A context in which plugin `name`'s step is named on standard error if it outlasts ``slow_seconds``."""
        if self._watch is None:
            return contextlib.nullcontext()
        what = "importing" if phase == "import" else f"running its {phase} hook"
        return self._watch.step(
            f"segen: plugin {name!r}{self._where(name)} has been {what} for more than {self.slow_seconds:g} s; "
            f"if it hangs, press Ctrl-C and run with SEGEN_DISABLE_PLUGINS={name} to skip it "
            "(SEGEN_NO_PLUGIN_AUTOLOAD=1 skips every installed plugin)\n"
        )

    def _interrupted(self, exc: KeyboardInterrupt, name: str, phase: str) -> KeyboardInterrupt:
        what = "importing" if phase == "import" else f"running the {phase} hook of"
        _add_note(
            exc,
            f"segen was {what} plugin {name!r}{self._where(name)} when interrupted; if that plugin hangs or "
            f"stops segen, skip it with SEGEN_DISABLE_PLUGINS={name} (SEGEN_NO_PLUGIN_AUTOLOAD=1 skips every "
            "installed plugin)",
        )
        return exc

    def _guarded(self, name: str, phase: str, fn, *args):
        """Run one step of plugin `name` (its import, registration or a hook): ``(True, result)``, or
        ``(False, None)`` with the failure recorded. Any exception the plugin raises is its failure,
        ``SystemExit`` included; a Ctrl-C the user pressed propagates (see the module's docstring)."""
        error = None
        start = time.perf_counter()
        with self._slow_step(name, phase), _CtrlC() as ctrl_c:
            try:
                result = fn(*args)
            except KeyboardInterrupt as exc:
                if ctrl_c.users():
                    raise self._interrupted(exc, name, phase) from None
                error = exc
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: a plugin must not end the host
                error = exc
        if ctrl_c.pressed:  # pressed during the step, and the plugin swallowed the KeyboardInterrupt
            raise self._interrupted(KeyboardInterrupt(), name, phase)
        if phase == "import" and name in self.records:
            self.records[name].import_seconds = time.perf_counter() - start
        if error is not None:
            self._fail(name, phase, error)
            return False, None
        return True, result

    # ---- loading -------------------------------------------------------------------------------------------
    def load(self) -> PluginHost:
        """Load entry points and built-ins and run the registration hooks (call once)."""
        with self._watching():
            return self._load()

    def _load(self) -> PluginHost:
        if self.autoload:
            self._load_entry_points()
        if self.builtins:
            blocked = set(_env_list("SEGEN_DISABLE_PLUGINS") or ())
            for name, module in DEFAULT_PLUGINS:
                if name not in blocked:
                    self._import_and_add(name, module, builtin=True)
        for name in list(self.records):
            self._collect(name)
        return self

    def _load_entry_points(self) -> None:
        allow = _env_list("SEGEN_PLUGINS")
        block = set(_env_list("SEGEN_DISABLE_PLUGINS") or ())
        seen = set()
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        for ep in eps:
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            names = {ep.name, dist_name}
            seen |= names
            if names & block or (allow is not None and not names & set(allow)):
                continue
            if ep.name in self.records:  # the same distribution seen twice on sys.path
                continue
            self.records[ep.name] = _PluginRecord(
                ep.name, ep.value, dist_name, dist.version if dist else None
            )
            ok, problem = self._guarded(ep.name, "validate", _requirement_problem, dist)
            if ok and problem:  # checked before the plugin's code runs
                self._fail(ep.name, "validate", PluginError(problem))
                continue
            ok, module = self._guarded(ep.name, "import", ep.load)
            if ok:
                self._add(ep.name, module)
        for name in allow or ():
            if name not in seen:
                installed = ", ".join(repr(ep.name) for ep in eps) or "none"
                warnings.warn(
                    f"SEGEN_PLUGINS names {name!r}, which is not an installed segen plugin (installed: {installed})",
                    SegenPluginWarning,
                    stacklevel=3,
                )

    def _import_and_add(self, name: str, module_name: str, *, builtin: bool) -> None:
        self.records[name] = _PluginRecord(name, module_name, builtin=builtin)
        ok, module = self._guarded(name, "import", importlib.import_module, module_name)
        if ok:
            self._add(name, module)

    def _add(self, name: str, plugin) -> bool:
        """Register `plugin` with pluggy and check its hooks; False (and a failure) if that fails."""
        ok, problem = self._guarded(name, "validate", _api_problem, plugin)
        if not ok:
            return False
        if problem:
            self._fail(name, "validate", PluginError(problem))
            return False
        # pluggy's validation (bad hook signature, ...) or a duplicate; it also reads the plugin's attributes,
        # which a module's __getattr__ can turn into anything
        ok, _ = self._guarded(name, "validate", lambda: self.pm.register(plugin, name=name))
        if not ok:
            return False
        hooks = []
        unknown = []
        for caller in self.pm.get_hookcallers(plugin) or ():
            (hooks if caller.spec is not None else unknown).append(caller.name)
        self.records[name].hooks = sorted(hooks)
        if unknown:
            import difflib

            msgs = []
            for u in sorted(unknown):
                close = difflib.get_close_matches(u, hookspecs.__all__, n=1)
                msgs.append(
                    f"{u!r} is not a segen hook" + (f" (did you mean {close[0]!r}?)" if close else "")
                )
            self._fail(name, "validate", PluginError("; ".join(msgs)))
        return True

    def _collect(self, name: str) -> None:
        """Call `name`'s registration hooks, each in its own try."""
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            return
        for hook_name, kind in _REGISTER_HOOKS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not plugin:
                    continue

                def register(
                    reg_name,
                    factory,
                    *,
                    aliases=(),
                    summary="",
                    extra=None,
                    labels=None,
                    options=None,
                    _kind=kind,
                ):
                    if _kind == "trainer":
                        return self.registry.add(
                            _kind,
                            name,
                            reg_name,
                            factory,
                            summary=summary,
                            extra="train" if extra is None else extra,
                            options=options,
                        )
                    if extra is not None or options is not None:
                        raise PluginError(f"plugin {name!r}: `extra` and `options` are only for trainers")
                    return self.registry.add(
                        _kind, name, reg_name, factory, aliases=aliases, summary=summary, labels=labels
                    )

                args = {"register": register}
                if self.trace:
                    sys.stderr.write(f"[segen plugins] {hook_name} of plugin {name!r}\n")
                ok, _ = self._guarded(
                    name, hook_name, lambda: impl.function(*[args[a] for a in impl.argnames])
                )
                if not ok:
                    self.registry.remove(kind, name)
        self._warn_conflicts()

    def _warn_conflicts(self) -> None:
        for conflict in self.registry.conflicts:
            if conflict in self._conflicts_seen:
                continue
            self._conflicts_seen.add(conflict)
            kind, short, qualified = conflict
            plugins = " and ".join(repr(q.split(":", 1)[0]) for q in qualified)
            msg = (
                f"{KINDS[kind]} name {short!r} is registered by plugins {plugins}; use a qualified name "
                f"({', '.join(repr(q) for q in qualified)})"
            )
            if self.strict:
                raise PluginError(msg)
            warnings.warn(msg, SegenPluginWarning, stacklevel=4)

    # ---- adding and removing plugins at run time (tests, notebooks) ----------------------------------------
    def register_plugin(self, plugin, name: str | None = None) -> str:
        """Register a plugin object (module, class or instance with hookimpls) and run its hooks now."""
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if name in self.records:
            raise PluginError(f"a plugin named {name!r} is already registered")
        self.records[name] = _PluginRecord(name, getattr(plugin, "__name__", type(plugin).__name__))
        with self._watching():
            if self._add(name, plugin):
                self._collect(name)
        return name

    def unregister_plugin(self, name: str) -> None:
        """Remove plugin `name`, its registrations and its failure records."""
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        for kind in KINDS:
            self.registry.remove(kind, name)
        self.records.pop(name, None)
        self.failures = [f for f in self.failures if f.plugin != name]
        self.registry.unavailable.pop(name, None)

    def add_commands(self, cli) -> None:
        """Let every plugin add its subcommands to the click group `cli` (once per group)."""
        if id(cli) in self._commands_added:
            return
        self._commands_added.add(id(cli))
        with self._watching():
            self._add_commands(cli)

    def _add_commands(self, cli) -> None:
        for impl in self.pm.hook.register_commands.get_hookimpls():
            if self.trace:
                sys.stderr.write(f"[segen plugins] register_commands of plugin {impl.plugin_name!r}\n")
            self._guarded(
                impl.plugin_name,
                "register_commands",
                impl.function,
                *[{"cli": cli}[a] for a in impl.argnames],
            )

    # ---- reporting -----------------------------------------------------------------------------------------
    def report(
        self, *, include_builtins: bool = False, hook: str | None = None, tracebacks: bool = False
    ) -> list[dict]:
        """Loaded and failed plugins as a list of JSON-ready dicts (what ``segen plugins`` prints); with
        `tracebacks`, each error carries the plugin's traceback."""
        out = []
        for rec in self.records.values():
            if rec.builtin and not include_builtins:
                continue
            errors = []
            for f in self.failures:
                if f.plugin == rec.name:
                    errors.append({"phase": f.phase, "error": f.message})
                    if tracebacks:
                        errors[-1]["traceback"] = f.traceback
            if hook is not None and hook not in rec.hooks:
                continue
            item = {"name": rec.name, "module": rec.module}
            if rec.distribution:
                item["distribution"] = rec.distribution
                item["version"] = rec.version
            item["hooks"] = rec.hooks
            if rec.import_seconds is not None:
                item["import_seconds"] = round(rec.import_seconds, 3)
            provides = {}
            for kind in KINDS:
                names = [e.name for e in self.registry.entries(kind) if e.plugin == rec.name]
                if names:
                    provides[kind + "s"] = sorted(names)
            if provides:
                item["provides"] = provides
            item["status"] = "failed" if errors else "ok"
            if errors:
                item["errors"] = errors
            out.append(item)
        return out


_host: PluginHost | None = None
_loading: PluginHost | None = None  # the host being loaded, seen only by the loading thread (under _lock)
_lock = threading.RLock()


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use.

    Thread-safe: the first callers wait while one of them loads the plugins, and the host is published only
    once loading has finished (before, a second thread could see a half-loaded registry and be told that
    ``kmeans`` does not exist). A plugin that asks for the host while it is being loaded (from the loading
    thread) gets the host being loaded.
    """
    global _host, _loading
    host = _host
    if host is not None:
        return host
    with _lock:
        if _host is not None:
            return _host
        if _loading is not None:  # re-entered by the loading thread itself (a plugin's import or hook)
            return _loading
        host = _loading = PluginHost()
        try:
            host.load()
        finally:
            _loading = None
        _host = host
        return host


def reset() -> None:
    """Forget the loaded plugins; the next registry lookup loads them again (e.g. after a pip install)."""
    global _host
    with _lock:
        _host = None


def register_plugin(plugin, name: str | None = None) -> str:
    """Register a plugin object in the process-wide host (see :meth:`PluginHost.register_plugin`)."""
    return get_host().register_plugin(plugin, name)


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered with :func:`register_plugin`."""
    get_host().unregister_plugin(name)


def plugin_report(
    *, include_builtins: bool = False, hook: str | None = None, tracebacks: bool = False
) -> list[dict]:
    """See :meth:`PluginHost.report`."""
    return get_host().report(include_builtins=include_builtins, hook=hook, tracebacks=tracebacks)
