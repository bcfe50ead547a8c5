"""Loaded models shared by every request, and the bounded worker queue that runs the work.

:class:`ModelPool` makes each model once per process (keyed by qualified name and options, the least
recently used dropped past ``max_models``) and serves only the models a server was started with.
:class:`WorkQueue` runs the work on a fixed number of threads and holds at most ``queue`` more requests;
past that it refuses at once (:class:`Busy`, answered 503) instead of letting the backlog grow, and a request
still unanswered after the timeout is answered (:class:`Timeout`, 504) while its slot stays taken until the
work really ends, so timed-out work cannot pile up either.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ..errors import InvalidArgumentError, SegenError, UnknownModelError
from ..plugins import get_host
from .config import SERVER_OPTIONS, ServeConfig

__all__ = ["ModelPool", "WorkQueue", "Busy", "Timeout", "option_specs"]

KINDS = ("segmenter", "generator")


class Busy(SegenError):
    """Every worker is busy and the queue is full."""


class Timeout(SegenError):
    """The request waited and ran longer than the server's timeout."""


def option_specs(factory) -> list[dict]:
    """The keyword options of a model factory as ``[{"name", "default", "type"}]`` (JSON-ready; options
    without a JSON default get ``"default": null``; the options a server keeps to itself are left out)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    out = []
    for p in params:
        if p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) or p.name in SERVER_OPTIONS:
            continue
        default = None if p.default is p.empty else p.default
        if not isinstance(default, (bool, int, float, str, type(None))):
            default = None
        kind = type(default).__name__ if default is not None else None
        if kind is None and p.annotation is not p.empty:
            kind = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", None)
        out.append({"name": p.name, "default": default, "type": kind})
    return out


def check_options(options) -> dict:
    """A request's model options: a JSON object whose keys are option names the server lets clients set."""
    if not isinstance(options, dict):
        raise InvalidArgumentError(f"`options` must be a JSON object; got {type(options).__name__}")
    for key in options:
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidArgumentError(f"`options` keys must be option names; got {key!r}")
        if key in SERVER_OPTIONS:
            raise InvalidArgumentError(
                f"`options` may not set `{key}`: the server sets it (segen serve's own options)"
            )
    return options


class ModelPool:
    """The models a server serves, each made once (per distinct options) and shared by every request.

    Parameters
    ----------
    config : ServeConfig
        ``models`` restricts what is served (and those are loaded by :meth:`preload`); ``max_models``
        bounds how many (name, options) instances stay loaded.

    Raises
    ------
    UnknownModelError
        If a name in ``config.models`` is neither a segmenter nor a generator.
    """

    def __init__(self, config: ServeConfig):
        self.config = config
        self._registry = get_host().registry
        self._lock = threading.Lock()
        self._loading: dict[tuple, threading.Lock] = {}
        self._models: collections.OrderedDict[tuple, object] = collections.OrderedDict()
        self._allowed: dict[str, set[str]] | None = None
        if config.models is not None:
            self._allowed = {k: set() for k in KINDS}
            for name in config.models:
                found, errors = [], []
                for kind in KINDS:
                    try:
                        found.append((kind, self._registry.resolve(kind, name)))
                    except UnknownModelError as exc:
                        errors.append(str(exc))
                if not found:
                    raise UnknownModelError(
                        f"`models`: {name!r} is no segmenter nor generator: {'; '.join(errors)}"
                    )
                for kind, entry in found:
                    self._allowed[kind].add(entry.qualified_name)

    def entries(self, kind: str) -> list:
        """The registry entries of `kind` this server serves, sorted by name."""
        entries = self._registry.entries(kind)
        if self._allowed is not None:
            entries = [e for e in entries if e.qualified_name in self._allowed[kind]]
        return sorted(entries, key=lambda e: (e.name, e.plugin))

    def display_name(self, entry) -> str:
        return self._registry.display_name(entry)

    def resolve(self, kind: str, name: str):
        """The entry `name` resolves to; :class:`UnknownModelError` also for a model this server does not
        serve (with the names it does)."""
        if kind not in KINDS:
            raise InvalidArgumentError(f"`kind` must be 'segmenter' or 'generator'; got {kind!r}")
        entry = self._registry.resolve(kind, name)
        if self._allowed is not None and entry.qualified_name not in self._allowed[kind]:
            served = ", ".join(repr(self.display_name(e)) for e in self.entries(kind)) or "none"
            raise UnknownModelError(f"{kind} {name!r} is not served here (served {kind}s: {served})")
        return entry

    def get(self, kind: str, name: str, options: dict | None = None):
        """The loaded model `name` with `options`, made on first use (one thread makes it, others wait)."""
        options = check_options({} if options is None else options)
        entry = self.resolve(kind, name)
        try:
            key = (kind, entry.qualified_name, json.dumps(options, sort_keys=True))
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"`options` must hold JSON values; got {options!r}") from exc
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            model = self._registry.create(kind, entry.qualified_name, options)
            with self._lock:
                self._models[key] = model
                self._loading.pop(key, None)
                while len(self._models) > self.config.max_models:
                    self._models.popitem(last=False)
            return model

    def loaded(self) -> list[dict]:
        """The models loaded now: kind, qualified name and options."""
        with self._lock:
            keys = list(self._models)
        return [{"kind": k, "name": n, "options": json.loads(o)} for k, n, o in keys]

    def preload(self) -> None:
        """Load the models the server was started with (``config.models``), with their default options."""
        if self._allowed is None:
            return
        for kind in KINDS:
            for qualified in sorted(self._allowed[kind]):
                self.get(kind, qualified)


class WorkQueue:
    """``workers`` threads and room for ``queue`` waiting requests; see the module's docstring."""

    def __init__(self, workers: int, queue: int, timeout: float):
        self.workers, self.capacity, self.timeout = workers, workers + queue, timeout
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="segen-serve")
        self._lock = threading.Lock()
        self._taken = 0

    @property
    def in_flight(self) -> int:
        """Requests running or waiting now."""
        return self._taken

    def _release(self, _future) -> None:
        with self._lock:
            self._taken -= 1

    async def run(self, fn, *args):
        """Run ``fn(*args)`` on a worker and return its result; :class:`Busy` at once when full,
        :class:`Timeout` after ``timeout`` seconds."""
        with self._lock:
            if self._taken >= self.capacity:
                raise Busy(
                    f"the server is busy: {self.workers} request(s) running and "
                    f"{self.capacity - self.workers} waiting; retry shortly"
                )
            self._taken += 1
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except asyncio.TimeoutError:
            raise Timeout(f"the request took longer than the server's timeout ({self.timeout:g} s)") from None

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
