"""Resource limits: the memory budget for allocations whose size comes from a parameter or the data's values.

An array's own size is the caller's choice (an 8192² image makes an 8192² result); but a bin count, the
largest label of a label image or a size field in a model's metadata can ask for terabytes from a tiny
input. Those allocations are checked against one budget before anything is allocated, and refused with
:class:`~segen.errors.ResourceLimitError` naming the parameter, the size asked for and the limit.

The budget is ``SEGEN_MEMORY_LIMIT`` (bytes, or with a K/M/G/T suffix, powers of 1024) when set, else
4 GiB; :func:`segen.set_memory_limit` changes it for the process.
"""

from __future__ import annotations

import os
import re
import threading

from ..errors import InvalidArgumentError, ResourceLimitError

DEFAULT_MEMORY_LIMIT = 4 << 30
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_lock = threading.Lock()
_limit: int | None = None


def parse_size(text: str, name: str) -> int:
    """``"512M"`` -> 536870912; plain integers are bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", str(text), flags=re.IGNORECASE)
    if not m:
        raise InvalidArgumentError(
            f"`{name}` must be a byte count such as 4294967296, 512M or 4G; got {text!r}"
        )
    value = int(m.group(1)) * _UNITS[m.group(2).upper()]
    if value <= 0:
        raise InvalidArgumentError(f"`{name}` must be > 0; got {text!r}")
    return value


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


def get_memory_limit() -> int:
    """The current budget in bytes."""
    global _limit
    with _lock:
        if _limit is None:
            env = os.environ.get("SEGEN_MEMORY_LIMIT")
            _limit = parse_size(env, "SEGEN_MEMORY_LIMIT") if env else DEFAULT_MEMORY_LIMIT
        return _limit


def set_memory_limit(nbytes) -> None:
    """Set the budget (an int of bytes or a string such as ``"8G"``); ``None`` restores the default."""
    global _limit
    if nbytes is None:
        value = None
    elif isinstance(nbytes, str):
        value = parse_size(nbytes, "nbytes")
    else:
        from .validation import check_int

        value = check_int(nbytes, "nbytes", minimum=1)
    with _lock:
        _limit = value


def check_allocation(nbytes: float, what: str, hint: str = "") -> None:
    """Refuse an allocation of `nbytes` (may be a float, so that products never overflow) over the budget."""
    limit = get_memory_limit()
    if nbytes > limit:
        raise ResourceLimitError(
            f"{what} would need {format_bytes(nbytes)}, more than segen's memory limit of "
            f"{format_bytes(limit)}"
            + (f"; {hint}" if hint else "")
            + " (raise it with segen.set_memory_limit() or SEGEN_MEMORY_LIMIT)"
        )
