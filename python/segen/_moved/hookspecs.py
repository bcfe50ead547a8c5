"""``segen.hookspecs``, segen 0.1's name of :mod:`segen.plugins.hookspecs`: imports it, with a DeprecationWarning."""

from segen._shared.moved import alias

alias(__name__, "segen.plugins.hookspecs")
