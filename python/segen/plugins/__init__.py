"""The plugin side of segen: the hooks a plugin implements, the host that finds and isolates plugins, the
registry they fill, segen's own built-in plugin, and the front door users call.

=============  ==========================================================================================
hookspecs      :data:`hookimpl` and the hooks (``register_segmenters``, ``register_generators``, ...)
host           :class:`PluginHost`: entry points of group ``segen``, each plugin isolated; environment switches
registry       :class:`Registry`: names, aliases, qualified ``<plugin>:<name>``, conflicts
lookup         :func:`get_segmenter`, :func:`get_generator`, :func:`list_segmenters`, ... (load on first use)
shipped        :func:`register_shipped_models`: a plugin's ``models/*.onnx`` in one call; :func:`lazy`
builtin        segen's classical segmenters, registered through the same hook as any plugin
=============  ==========================================================================================

Importing this package loads pluggy but neither numpy nor the C++ core nor ONNX Runtime: listing the
registered models stays cheap.
"""

from __future__ import annotations

from .hookspecs import hookimpl
from .host import (
    DEFAULT_PLUGINS,
    ENTRY_POINT_GROUP,
    PLUGIN_API,
    PluginFailure,
    PluginHost,
    get_host,
    plugin_report,
    register_plugin,
    reset,
    unregister_plugin,
)
from .lookup import get_generator, get_segmenter, get_trainer, list_generators, list_segmenters, list_trainers
from .registry import Entry, Registry
from .shipped import lazy, register_shipped_models

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PLUGIN_API",
    "Entry",
    "PluginFailure",
    "PluginHost",
    "Registry",
    "get_generator",
    "get_host",
    "get_segmenter",
    "get_trainer",
    "hookimpl",
    "lazy",
    "list_generators",
    "list_segmenters",
    "list_trainers",
    "plugin_report",
    "register_plugin",
    "register_shipped_models",
    "reset",
    "unregister_plugin",
]
