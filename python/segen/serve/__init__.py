"""``segen serve``: segmenters and generators over HTTP, with a small web page (extra ``serve``).

=========  =================================================================================================
config     :class:`ServeConfig`: the models served, worker threads, queue, timeout and size limits
pool       :class:`ModelPool` (each model loaded once per process) and :class:`WorkQueue` (bounded work)
render     decoding uploads, rendering outputs (labels, overlay, mask, cut-out), statistics, samples
app        :func:`create_app`: the FastAPI application, its endpoints and error mapping
static/    the web page (HTML, CSS, JavaScript; no external resource)
=========  =================================================================================================

Importing :mod:`segen.serve` loads nothing heavy; :func:`create_app` and :func:`run` import FastAPI
(and uvicorn), which the ``serve`` extra installs. ``docs/serve.md`` is the user guide.
"""

from __future__ import annotations

from .config import ServeConfig

__all__ = ["ServeConfig", "create_app", "run"]


def create_app(config: ServeConfig | None = None, **kwargs):
    """Make the ASGI application; see :func:`segen.serve.app.create_app`."""
    from .app import create_app as make

    return make(config, **kwargs)


def run(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Load the configured models, then serve them with uvicorn on `host`:`port` until interrupted.

    Parameters
    ----------
    config : ServeConfig
        Models, workers and limits.
    host : str, optional
        Interface to bind (default ``127.0.0.1``: this machine only).
    port : int, optional
        TCP port (default 8000; 0 picks a free one, printed at start-up).
    log_level : str, optional
        uvicorn's log level (default ``"info"``).
    """
    import uvicorn

    from .app import create_app as make
    from .pool import ModelPool

    pool = ModelPool(config)
    pool.preload()
    app = make(config, pool=pool)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # uvicorn's own guard in front of the work queue: connections past these get 503 at once
        limit_concurrency=max(64, 4 * (config.workers + config.queue)),
        timeout_keep_alive=5,
        server_header=False,
    )
