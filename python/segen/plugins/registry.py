"""One registry for every method: segmenters, generators and training recipes, whoever provides them.

A pure data structure: plugins fill it through the hooks of :mod:`segen.plugins.hookspecs` (the host in
:mod:`segen.plugins.host` calls them); users read it through the front door in :mod:`segen.plugins.lookup`.

Naming rule
-----------
Every entry has a short name (``kmeans``) and a qualified name ``<plugin>:<name>`` (``builtin:kmeans``);
aliases work like short names. When two plugins register the same short name, neither wins: both keep
working under their qualified names, the short name becomes ambiguous, a :class:`~segen.SegenPluginWarning`
names both plugins when they are loaded, and a lookup by the short name raises
:class:`~segen.UnknownModelError` listing the qualified names. A plugin registering one name twice is an
error in that plugin (:class:`~segen.PluginError`).

A plugin that failed to load (the host calls :meth:`Registry.mark_unavailable`) has no entries; a lookup of
``<that plugin>:<name>`` says the plugin failed and why, chained to the plugin's exception, and an unknown
short name mentions the plugins that failed.
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass, field
from typing import Callable

from ..errors import InvalidArgumentError, PluginError, UnknownModelError

__all__ = ["KINDS", "Entry", "Registry", "call_plugin", "describe_exception"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

#: The kinds of entries and the word used for them in messages.
KINDS = {"segmenter": "segmenter", "generator": "generator", "trainer": "trainer", "loader": "model loader"}


@dataclass(frozen=True)
class Entry:
    """One registered factory."""

    kind: str
    name: str
    plugin: str
    factory: Callable
    aliases: tuple[str, ...] = ()
    summary: str = ""
    extra: str | None = None  # trainers: the pip extra their imports need
    labels: str | None = None  # segmenters: "classes" or "instances" when declared at registration
    options: dict = field(default_factory=dict, compare=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}"


def describe_exception(exc: BaseException) -> str:
    """``"TypeName: message"`` for any exception, also a hostile one: when its ``str()`` raises, its
    ``repr()``; when that raises too, the type name and a note. Never raises."""
    try:
        name = type(exc).__name__
        if not isinstance(name, str):
            raise TypeError
    except BaseException:  # noqa: BLE001 - a metaclass can make even the name raise
        name = "exception"
    for describe in (str, repr):
        try:
            text = describe(exc)
        except BaseException:  # noqa: BLE001 - whatever __str__ raises (the caller handles a user's Ctrl-C)
            continue
        if describe is repr:
            return text
        return f"{name}: {text}" if text else name
    return f"{name} (its str() and repr() raise)"


def call_plugin(fn, what: str, *args, **kwargs):
    """``fn(*args, **kwargs)``, a plugin's code: its exceptions (and Ctrl-C) pass through, but SystemExit and
    other BaseExceptions become a :class:`PluginError` saying that `what` raised them (a plugin must not
    end the program)."""
    try:
        return fn(*args, **kwargs)
    except (Exception, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise PluginError(f"{what} raised {describe_exception(exc)}") from exc


def _first_line(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


class Registry:
    """Entries of every kind, keyed by qualified name, with short-name and alias lookup."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}
        self.conflicts: list[tuple[str, str, tuple[str, ...]]] = []  # (kind, short name, qualified names)
        #: plugins that failed to load or register: plugin name -> (what failed, the plugin's exception)
        self.unavailable: dict[str, tuple[str, BaseException]] = {}

    def mark_unavailable(self, plugin: str, why: str, error: BaseException) -> None:
        """Note that `plugin` failed (`why`: e.g. ``"import: ImportError: ..."``); lookups of its names say so."""
        self.unavailable.setdefault(plugin, (why, error))

    # ---- writing ----------------------------------------------------------------------------------------
    def add(
        self,
        kind: str,
        plugin: str,
        name,
        factory,
        *,
        aliases=(),
        summary: str = "",
        extra: str | None = None,
        labels: str | None = None,
        options: dict | None = None,
    ) -> Entry:
        """Validate and store one registration made by `plugin` (the ``register`` callback's body)."""
        what = KINDS[kind]
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise PluginError(
                f"plugin {plugin!r}: {what} `name` must be lowercase kebab-case "
                f"([a-z0-9][a-z0-9._-]*); got {name!r}"
            )
        if not callable(factory):
            raise PluginError(
                f"plugin {plugin!r}: the factory of {what} {name!r} must be callable; "
                f"got {type(factory).__name__}"
            )
        if isinstance(aliases, str):
            aliases = (aliases,)
        aliases = tuple(aliases)
        for a in aliases:
            if not isinstance(a, str) or not NAME_PATTERN.match(a):
                raise PluginError(
                    f"plugin {plugin!r}: alias of {what} {name!r} must be lowercase kebab-case; got {a!r}"
                )
        if not isinstance(summary, str):
            raise PluginError(
                f"plugin {plugin!r}: `summary` of {what} {name!r} must be a str; got {type(summary).__name__}"
            )
        if labels is not None and (kind != "segmenter" or labels not in ("classes", "instances")):
            raise PluginError(
                f"plugin {plugin!r}: `labels` of {what} {name!r} must be 'classes' or 'instances' (segmenters "
                f"only); got {labels!r}"
            )
        table = self._entries[kind]
        entry = Entry(
            kind,
            name,
            plugin,
            factory,
            aliases,
            summary.strip() or _first_line(factory),
            extra,
            labels,
            dict(options or {}),
        )
        mine = {n for e in table.values() if e.plugin == plugin for n in (e.name, *e.aliases)}
        for n in (name, *aliases):
            if n in mine:
                raise PluginError(f"plugin {plugin!r} registers the {what} name {n!r} twice")
        clashes = {
            n: sorted(e.qualified_name for e in table.values() if n in (e.name, *e.aliases))
            for n in (name, *aliases)
        }
        table[entry.qualified_name] = entry
        for n, others in clashes.items():
            if others:
                self.conflicts.append((kind, n, tuple(others + [entry.qualified_name])))
        return entry

    def remove(self, kind: str, plugin: str) -> None:
        """Forget the entries of `kind` that `plugin` registered (its hook failed half-way, or it left)."""
        table = self._entries[kind]
        for q in [q for q, e in table.items() if e.plugin == plugin]:
            del table[q]
        self.conflicts = [
            c for c in self.conflicts if c[0] != kind or len([q for q in c[2] if q in table]) > 1
        ]

    # ---- reading ----------------------------------------------------------------------------------------
    def entries(self, kind: str) -> list[Entry]:
        return list(self._entries[kind].values())

    def _candidates(self, kind: str, name: str) -> list[Entry]:
        table = self._entries[kind]
        if name in table:
            return [table[name]]
        return [e for e in table.values() if name == e.name or name in e.aliases]

    def display_name(self, entry: Entry) -> str:
        """The short name when it is unambiguous, else the qualified name."""
        return entry.name if len(self._candidates(entry.kind, entry.name)) == 1 else entry.qualified_name

    def resolve(self, kind: str, name) -> Entry:
        """The entry for `name` (short, alias or qualified); :class:`UnknownModelError` otherwise."""
        what = KINDS[kind]
        if not isinstance(name, str):
            raise InvalidArgumentError(f"`name` of a {what} must be a str; got {type(name).__name__}")
        found = self._candidates(kind, name)
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(repr(e.qualified_name) for e in found)
            raise UnknownModelError(
                f"{what} name {name!r} is ambiguous: it is registered by several plugins "
                f"({names}); use a qualified name"
            )
        plugin, qualified, _ = name.partition(":")
        if qualified and plugin in self.unavailable:
            why, error = self.unavailable[plugin]
            raise UnknownModelError(
                f"{what} {name!r} is unavailable: plugin {plugin!r} failed at {why} "
                "(`segen plugins` shows its error)"
            ) from error
        known = sorted(
            {n for e in self._entries[kind].values() for n in (e.name, e.qualified_name, *e.aliases)}
        )
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = "segen list" if kind != "trainer" else "segen train --help"
        installed = sorted({e.plugin for table in self._entries.values() for e in table.values()})
        if qualified and plugin not in installed:
            hint += (
                f"; no plugin named {plugin!r} is installed (installed: {', '.join(map(repr, installed))})"
            )
        failed = ""
        if self.unavailable:
            names = ", ".join(repr(p) for p in sorted(self.unavailable))
            failed = f"; plugins that failed to load: {names} (`segen plugins` shows why)"
        raise UnknownModelError(
            f"unknown {what} {name!r}{hint} (`{listing}` shows the installed ones){failed}"
        )

    def create(self, kind: str, name, options: dict):
        """Resolve `name` and call its factory with `options`, checking the option names first."""
        entry = self.resolve(kind, name)
        try:
            sig = inspect.signature(entry.factory)
        except (TypeError, ValueError):  # builtins without a signature: let the call decide
            sig = None
        if sig is not None:
            try:
                sig.bind(**options)
            except TypeError:
                params = sig.parameters.values()
                accepts_any = any(p.kind is p.VAR_KEYWORD for p in params)
                allowed = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
                bad = [k for k in options if k not in allowed]
                if bad and not accepts_any:
                    raise InvalidArgumentError(
                        f"{KINDS[kind]} {entry.qualified_name!r} has no option "
                        f"{', '.join('`%s`' % b for b in bad)}; its options are "
                        f"{', '.join('`%s`' % a for a in allowed) or 'none'}"
                    ) from None
                raise
        obj = call_plugin(entry.factory, f"the factory of {KINDS[kind]} {entry.qualified_name!r}", **options)
        if kind == "segmenter" and not callable(getattr(obj, "segment", None)):
            raise PluginError(
                f"the factory of segmenter {entry.qualified_name!r} returned "
                f"{type(obj).__name__}, which has no segment() method"
            )
        if kind == "generator" and not callable(getattr(obj, "generate", None)):
            raise PluginError(
                f"the factory of generator {entry.qualified_name!r} returned "
                f"{type(obj).__name__}, which has no generate() method"
            )
        declared = entry.labels
        made = getattr(getattr(obj, "info", None), "labels", None)
        if kind == "segmenter" and declared is not None and made is not None and made != declared:
            raise PluginError(
                f"segmenter {entry.qualified_name!r} was registered with labels={declared!r} but its info says "
                f"{made!r}"
            )
        if getattr(type(obj), "_recreate", False) is None:
            # the class asks to be pickled as the way it was made (e.g. FunctionSegmenter, whose function is
            # often local): another process (a Dask worker) asks its own registry for the same name and options
            try:
                from .lookup import recreate

                obj._recreate = (recreate, (kind, entry.qualified_name, dict(options)))
            except AttributeError:  # __slots__ or a read-only attribute: it pickles as it can
                pass
        return obj
