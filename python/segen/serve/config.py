"""The settings of a ``segen serve`` process: which models, how many worker threads, and the limits."""

from __future__ import annotations

from dataclasses import dataclass

from .._shared.validation import check_int, check_real
from ..errors import InvalidArgumentError

__all__ = ["ServeConfig", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_PIXELS", "SERVER_OPTIONS"]

#: Default limit on a request body: 32 MiB (a 24-megapixel JPEG is 5-15 MB).
DEFAULT_MAX_BODY_BYTES = 32 << 20

#: Default limit on the pixels of an uploaded image: 2**25 (33.5 megapixels, e.g. 8192 x 4096), checked from
#: the file's header before decoding (the same guard as :func:`segen.io.imread`).
DEFAULT_MAX_PIXELS = 1 << 25

#: Model options a request may not set: they belong to the server (threads and execution providers are the
#: operator's choice; `sample` and `path` are not data a client can send).
SERVER_OPTIONS = frozenset({"threads", "providers", "sample", "path"})


@dataclass(frozen=True)
class ServeConfig:
    """What a ``segen serve`` process serves and how much work it accepts.

    Parameters
    ----------
    models : tuple of str, optional
        The segmenters and generators served (names as ``segen list`` shows them); None: every registered
        one. Listed models are loaded when the server starts.
    workers : int, optional
        Threads running segmentations and generations at once (default 1).
    queue : int, optional
        Requests that may wait for a worker (default 8); one more is refused with 503 and ``Retry-After``.
    timeout : float, optional
        Seconds a request may wait and run before it is answered 504 (default 60).
    max_body_bytes : int, optional
        Largest request body; a larger one is refused with 413 (default :data:`DEFAULT_MAX_BODY_BYTES`).
    max_pixels : int, optional
        Largest uploaded image (width x height), checked before decoding (default
        :data:`DEFAULT_MAX_PIXELS`); larger is 413.
    max_samples : int, optional
        Largest `n` of one generation request (default 256).
    max_output_pixels : int, optional
        Largest picture a generation may return (grid after scaling; default 2**24); larger is 413.
    max_models : int, optional
        Models (name + options) kept loaded; the least recently used beyond this is dropped (default 8).
    """

    models: tuple[str, ...] | None = None
    workers: int = 1
    queue: int = 8
    timeout: float = 60.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_samples: int = 256
    max_output_pixels: int = 1 << 24
    max_models: int = 8

    def __post_init__(self):
        if self.models is not None:
            if isinstance(self.models, str) or not all(isinstance(m, str) and m for m in self.models):
                raise InvalidArgumentError(
                    f"`models` must be a sequence of model names or None; got {self.models!r}"
                )
            object.__setattr__(self, "models", tuple(self.models))
        check_int(self.workers, "workers", minimum=1, maximum=256)
        check_int(self.queue, "queue", minimum=0, maximum=1 << 16)
        if check_real(self.timeout, "timeout") <= 0:
            raise InvalidArgumentError(
                f"`timeout` must be a positive number of seconds; got {self.timeout!r}"
            )
        for name in ("max_body_bytes", "max_pixels", "max_samples", "max_output_pixels", "max_models"):
            check_int(getattr(self, name), name, minimum=1)
