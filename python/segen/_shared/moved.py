"""Module names that moved when segen was split into layers (``segen.datasets`` is now ``segen.data``).

Each old name is a one-line module in ``segen/_moved/``, a folder on ``segen.__path__`` (so the ordinary
import system finds them, and ``import segen`` pays nothing for them): importing one warns once and
reads every attribute from the new module.
"""

from __future__ import annotations

import importlib
import sys
import warnings

__all__ = ["alias"]


def alias(name: str, new: str) -> None:
    """Make the module `name` (being imported) an alias of the module `new`, with a DeprecationWarning."""
    warnings.warn(f"{name} moved to {new}; import that instead", DeprecationWarning, stacklevel=3)
    target = importlib.import_module(new)
    module = sys.modules[name]
    module.__getattr__ = lambda attr: getattr(target, attr)  # every attribute read from the new module
    module.__dir__ = lambda: dir(target)
