"""``segen.gen_training``, segen 0.1's name of :mod:`segen.training.generator`: imports it, with a DeprecationWarning."""

from segen._shared.moved import alias

alias(__name__, "segen.training.generator")
