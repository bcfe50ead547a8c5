"""Finding, loading and isolating plugins (a pluggy ``PluginManager`` for project ``segen``).

Loading happens once, on the first registry lookup (never at ``import segen``), in this order:

1. the entry points of group ``segen``, each loaded and registered inside its own ``try``;
2. :data:`DEFAULT_PLUGINS` (``segen.plugins.builtin``, the classical methods), through the same door;
3. a check that every hook a plugin implements exists (a typo such as ``register_segmenter`` is reported);
4. the registration hooks, called plugin by plugin, each inside its own ``try``.

A failure at any step becomes a :class:`PluginFailure` (plugin, distribution and version, phase, error),
one :class:`~segen.SegenPluginWarning`, and a line in ``segen plugins``; everything else keeps working.
What a failing registration hook had registered is withdrawn, so a plugin is never half-registered.

Environment switches
--------------------
``SEGEN_PLUGINS=a,b``
    load only these entry points (entry-point or distribution names); built-ins are always loaded.
``SEGEN_DISABLE_PLUGINS=x,y``
    never load these (entry-point or distribution names; ``builtin`` disables the built-in methods).
``SEGEN_NO_PLUGIN_AUTOLOAD=1``
    load no entry point at all (built-ins only).
``SEGEN_STRICT_PLUGINS=1``
    re-raise a plugin's failure as :class:`~segen.PluginError` instead of warning (for CI).
``SEGEN_TRACE_PLUGINS=1``
    print every hook call (hook and plugin) to standard error.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from ..errors import PluginError, SegenPluginWarning
from . import hookspecs
from .registry import KINDS, Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "DEFAULT_PLUGINS",
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
#: segen's own plugins: (plugin name, module), registered after the entry points like any plugin.
DEFAULT_PLUGINS = (("builtin", "segen.plugins.builtin"),)

_REGISTER_HOOKS = {
    "register_segmenters": "segmenter",
    "register_generators": "generator",
    "register_trainers": "trainer",
}


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be imported, validated or registered."""

    plugin: str
    phase: str  #: "import", "validate", or the hook that raised ("register_segmenters", ...)
    error: BaseException
    distribution: str | None = None
    version: str | None = None

    @property
    def message(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"

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

    # ---- failures ------------------------------------------------------------------------------------------
    def _fail(self, plugin: str, phase: str, error: BaseException) -> None:
        rec = self.records.get(plugin)
        failure = PluginFailure(
            plugin, phase, error, rec.distribution if rec else None, rec.version if rec else None
        )
        self.failures.append(failure)
        if self.strict:
            raise PluginError(str(failure)) from error
        warnings.warn(
            f"{failure}; the plugin was skipped (`segen plugins` shows it)", SegenPluginWarning, stacklevel=3
        )

    # ---- loading -------------------------------------------------------------------------------------------
    def load(self) -> PluginHost:
        """Load entry points and built-ins and run the registration hooks (call once)."""
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
            try:
                module = ep.load()
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - a plugin must never take the host down
                self._fail(ep.name, "import", exc)
                continue
            self._add(ep.name, module)
        for name in allow or ():
            if name not in seen:
                warnings.warn(
                    f"SEGEN_PLUGINS names {name!r}, which is not an installed segen plugin",
                    SegenPluginWarning,
                    stacklevel=3,
                )

    def _import_and_add(self, name: str, module_name: str, *, builtin: bool) -> None:
        self.records[name] = _PluginRecord(name, module_name, builtin=builtin)
        try:
            module = importlib.import_module(module_name)
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            self._fail(name, "import", exc)
            return
        self._add(name, module)

    def _add(self, name: str, plugin) -> bool:
        """Register `plugin` with pluggy and check its hooks; False (and a failure) if that fails."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001 - pluggy's validation (bad hook signature, ...) or a dup
            self._fail(name, "validate", exc)
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

                def register(reg_name, factory, *, aliases=(), summary="", extra=None, _kind=kind):
                    if _kind == "trainer":
                        return self.registry.add(
                            _kind,
                            name,
                            reg_name,
                            factory,
                            summary=summary,
                            extra="train" if extra is None else extra,
                        )
                    if extra is not None:
                        raise PluginError(f"plugin {name!r}: `extra` is only for trainers")
                    return self.registry.add(_kind, name, reg_name, factory, aliases=aliases, summary=summary)

                args = {"register": register}
                if self.trace:
                    sys.stderr.write(f"[segen plugins] {hook_name} of plugin {name!r}\n")
                try:
                    impl.function(*[args[a] for a in impl.argnames])
                except Exception as exc:  # noqa: BLE001
                    self.registry.remove(kind, name)
                    self._fail(name, hook_name, exc)
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

    def add_commands(self, cli) -> None:
        """Let every plugin add its subcommands to the click group `cli` (once per group)."""
        if id(cli) in self._commands_added:
            return
        self._commands_added.add(id(cli))
        for impl in self.pm.hook.register_commands.get_hookimpls():
            if self.trace:
                sys.stderr.write(f"[segen plugins] register_commands of plugin {impl.plugin_name!r}\n")
            try:
                impl.function(*[{"cli": cli}[a] for a in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                self._fail(impl.plugin_name, "register_commands", exc)

    # ---- reporting -----------------------------------------------------------------------------------------
    def report(self, *, include_builtins: bool = False, hook: str | None = None) -> list[dict]:
        """Loaded and failed plugins as a list of JSON-ready dicts (what ``segen plugins`` prints)."""
        out = []
        for rec in self.records.values():
            if rec.builtin and not include_builtins:
                continue
            errors = [{"phase": f.phase, "error": f.message} for f in self.failures if f.plugin == rec.name]
            if hook is not None and hook not in rec.hooks:
                continue
            item = {"name": rec.name, "module": rec.module}
            if rec.distribution:
                item["distribution"] = rec.distribution
                item["version"] = rec.version
            item["hooks"] = rec.hooks
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


def plugin_report(*, include_builtins: bool = False, hook: str | None = None) -> list[dict]:
    """See :meth:`PluginHost.report`."""
    return get_host().report(include_builtins=include_builtins, hook=hook)
