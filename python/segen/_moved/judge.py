"""``segen.judge``, segen 0.1's name of :mod:`segen.eval.judge`: imports it, with a DeprecationWarning."""

from segen._shared.moved import alias

alias(__name__, "segen.eval.judge")
