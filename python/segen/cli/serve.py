"""``segen serve``: the HTTP API and web page of :mod:`segen.serve` on this machine (extra ``serve``)."""

from __future__ import annotations

import click


def _names(values) -> tuple[str, ...] | None:
    """``("kmeans,otsu", "cgan-digits")`` -> ``("kmeans", "otsu", "cgan-digits")``; nothing given -> None."""
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    return names or None


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to bind (0.0.0.0: every one)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port.")
@click.option(
    "--models",
    "models",
    multiple=True,
    metavar="NAMES",
    help="Serve only these segmenters/generators (comma-separated or repeated), loaded at start "
    "(default: every installed one, loaded on first use).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Requests worked on at once (threads).",
)
@click.option(
    "--queue",
    type=click.IntRange(0, 1 << 16),
    default=8,
    show_default=True,
    help="Requests that may wait for a worker; more are refused with 503.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds a request may wait and run before it is answered 504.",
)
@click.option(
    "--max-body", default="32M", show_default=True, help="Largest request body (bytes, or 512K, 64M)."
)
@click.option(
    "--max-pixels",
    type=click.IntRange(1),
    default=1 << 25,
    show_default=True,
    help="Largest uploaded image (width x height), checked before decoding.",
)
@click.option(
    "--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info"
)
def serve(host, port, models, workers, queue, timeout, max_body, max_pixels, log_level) -> None:
    """Serve segmenters and generators over HTTP, with a web page at http://HOST:PORT/.

    JSON+PNG API: GET /api/models, POST /api/segment, POST /api/generate, GET /health, GET /version;
    the OpenAPI description is at /openapi.json. Binds to this machine only unless --host says otherwise;
    makes no outgoing connection. Needs the serve extra (pip install 'segen[serve]'). Example:

    \b
        segen serve --models kmeans,otsu,cgan-digits --workers 2
    """
    import importlib.util

    from .._shared.limits import parse_size

    missing = [m for m in ("fastapi", "uvicorn", "multipart") if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"segen serve needs the serve extra ({', '.join(missing)} missing): pip install 'segen[serve]'"
        )
    from ..errors import InvalidArgumentError
    from ..serve import ServeConfig, run

    try:
        body = parse_size(max_body, "--max-body")
    except InvalidArgumentError as exc:
        raise click.BadParameter(str(exc), param_hint="'--max-body'") from None
    config = ServeConfig(
        models=_names(models),
        workers=workers,
        queue=queue,
        timeout=timeout,
        max_body_bytes=body,
        max_pixels=max_pixels,
    )
    run(config, host=host, port=port, log_level=log_level)
