"""The plugin surface: the markers and the four hooks a segen plugin may implement.

A plugin is a module (found through the ``segen`` entry-point group) with functions decorated by
:data:`hookimpl` whose names are hooks below. Every hook receives a callback and calls it; no hook returns
anything and none may do heavy work (no model file is read and no ONNX session is made while registering:
that happens when :func:`segen.get_segmenter` / :func:`segen.get_generator` is called).

Hooks are called once per plugin, each inside its own ``try``: an exception in one plugin's hook is
recorded against that plugin (``segen plugins`` shows it) and the other plugins keep working. pluggy passes
only the arguments an implementation declares, so arguments may be added to a hook later without breaking
plugins. The plugin author's guide is ``docs/plugins.md``.
"""

from __future__ import annotations

import pluggy

__all__ = [
    "hookspec",
    "hookimpl",
    "register_segmenters",
    "register_generators",
    "register_trainers",
    "register_model_loaders",
    "register_commands",
]

#: Marker of the hook specifications below (project name ``segen``).
hookspec = pluggy.HookspecMarker("segen")
#: Decorator for a plugin's hook implementations: ``@segen.hookimpl``.
hookimpl = pluggy.HookimplMarker("segen")


@hookspec
def register_segmenters(register):
    """Register segmenter factories.

    Called once per plugin, when the registry is first used (not at ``import segen``).

    :param register: ``register(name, factory, *, aliases=(), summary="", labels=None)``. `name` and each
        alias are lowercase kebab-case (``[a-z0-9][a-z0-9._-]*``), `factory` is a callable
        ``factory(**options) -> Segmenter`` (a :class:`segen.Segmenter` subclass is the usual factory),
        `summary` is the one-line description that ``segen list`` prints (default: the first line of the
        factory's docstring), `labels` says what the label values are, ``"classes"`` or ``"instances"``
        (each object its own id), so that ``segen list`` can tell without making the segmenter (undeclared:
        classes; a segmenter whose ``info.labels`` contradicts the declaration is refused when made). The
        name is also reachable as ``<plugin>:<name>``. ``register`` raises :class:`segen.PluginError` for
        a bad name, a non-callable factory, a bad `labels`, or a name this plugin already registered.
    """


@hookspec
def register_generators(register):
    """Register generator factories.

    Called once per plugin, when the registry is first used (not at ``import segen``).

    :param register: ``register(name, factory, *, aliases=(), summary="")``, as for
        :func:`register_segmenters`; ``factory(**options)`` returns a :class:`segen.Generator`.
    """


@hookspec
def register_trainers(register):
    """Register training recipes, run by ``segen train NAME``.

    Called once per plugin, when the registry is first used.

    :param register: ``register(name, train_fn, *, extra="train", summary="", options=None)``; `options`
        maps each option name to a :class:`segen.plugins.options.TrainOption` (default and one line of
        help), which ``segen train NAME --help`` lists and the command line checks. ``train_fn(output,
        **params)`` trains and writes ``<name>.onnx`` + ``<name>.json`` into the folder `output`; it imports
        torch (or any other training-only package) inside its body, never at module level. When it raises
        ``ImportError``, the CLI tells the user to install the pip extra named by `extra`.
    """


@hookspec
def register_model_loaders(register):
    """Register how to load the model files a plugin's recipes write, when a user gives one by its path
    or keeps it in a user model folder.

    Called once per plugin, when the registry is first used.

    :param register: ``register(name, loader, *, summary="")``. A model file whose JSON sidecar says
        ``"loader": name`` is made by ``loader(path, **options)``, which returns a :class:`segen.Segmenter`
        or :class:`segen.Generator` (the sidecar's ``task`` says which): e.g. a VAE decoder with its fitted
        prior, or a network whose output needs the plugin's post-processing. Sidecars without a
        ``loader`` load as plain ONNX segmenters and generators. Name the loader after the plugin
        (``"segen-vae"``); a sidecar naming a loader no installed plugin registers is a
        :class:`segen.ModelError` that says which one it needs.
    """


@hookspec
def register_commands(cli):
    """Add subcommands to the ``segen`` command line.

    Called once per plugin, when the command line first needs a command it does not define itself (its
    help, or an unknown command name).

    :param cli: the ``segen`` :class:`click.Group`; add commands with ``@cli.command()`` or
        ``cli.add_command(...)``. Import heavy modules inside the command's body, not at module level.
    """
