"""The ASGI application of ``segen serve`` (FastAPI): the endpoints, the error mapping and the body limit.

Status codes: 400 a bad value (option, label, parameter), 404 an unknown model (or one this server does
not serve), 413 a body or image over the limits, 415 an upload that is not an image segen reads, 422 a
request that does not match the schema (FastAPI's check), 503 busy (with ``Retry-After``), 504 over the
timeout; 500 only for a fault of the server or a model, never for a client's mistake. Error bodies are
``{"detail": "<one line>", "error": "<kind>"}``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import platform
import re
import time
from importlib.resources import files
from typing import Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    DTypeError,
    ImageLimitError,
    ImageReadError,
    InvalidArgumentError,
    ResourceLimitError,
    UnknownModelError,
)
from ..plugins.registry import describe_exception
from . import render
from .config import ServeConfig
from .pool import Busy, ModelPool, Timeout, WorkQueue, option_specs

__all__ = ["create_app"]

log = logging.getLogger("segen.serve")


def _version(package: str = "segen") -> str:
    """The installed version of `package` (from its metadata: nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "unknown"


def _error(status: int, kind: str, detail: str, headers=None) -> JSONResponse:
    return JSONResponse({"detail": detail, "error": kind}, status_code=status, headers=headers)


def _status_of(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and error kind for an exception raised while serving a request."""
    if isinstance(exc, ImageLimitError) or isinstance(exc, ResourceLimitError):
        return 413, "too_large"
    if isinstance(exc, ImageReadError):
        return 415, "not_an_image"
    if isinstance(exc, UnknownModelError):
        return 404, "unknown_model"
    if isinstance(exc, Busy):
        return 503, "busy"
    if isinstance(exc, Timeout):
        return 504, "timeout"
    if isinstance(exc, (InvalidArgumentError, DTypeError, ValueError, TypeError)):
        return 400, "bad_request"
    return 500, "server_error"


class _BodyLimit:
    """ASGI middleware: a body over `limit` bytes is refused with 413, from Content-Length before reading
    anything, else as soon as the bytes received pass the limit (a chunked upload)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or ()).get(b"content-length")
        too_large = f"the request body is over the server's limit of {self.limit} bytes"
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _error(413, "too_large", too_large)(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, too_large)
            return message

        return await self.app(scope, limited, send)


class GenerateRequest(BaseModel):
    """``POST /api/generate``: which generator, how many samples, and how to return them."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="Generator name (GET /api/models lists them).", examples=["cgan-digits"])
    n: int = Field(16, ge=1, description="Number of samples (at most the server's max_samples).")
    seed: int = Field(0, ge=0, description="Seed of the latent vectors: the same seed gives the same images.")
    labels: int | list[int] | None = Field(
        None, description="Class labels of a conditional generator: one for all, or one per sample."
    )
    options: dict = Field(default_factory=dict, description="Options of the generator's factory.")
    output: Literal["grid", "images"] = Field(
        "grid", description="'grid': one PNG; 'images': JSON with one base64 PNG per sample."
    )
    scale: int = Field(1, ge=1, le=32, description="Each pixel enlarged scale x scale (nearest neighbour).")


def create_app(config: ServeConfig | None = None, *, pool: ModelPool | None = None) -> FastAPI:
    """Make the ``segen serve`` application.

    Parameters
    ----------
    config : ServeConfig, optional
        Models, workers and limits (default: every model, one worker, the default limits).
    pool : ModelPool, optional
        The loaded models to share (default: a new pool for `config`).

    Returns
    -------
    app : fastapi.FastAPI
        An ASGI application (run it with uvicorn, as ``segen serve`` does, or test it with
        ``fastapi.testclient.TestClient``). ``app.state.pool`` and ``app.state.queue`` are its model pool and
        work queue.

    Raises
    ------
    UnknownModelError
        If ``config.models`` names a model no plugin registered.
    """
    config = ServeConfig() if config is None else config
    pool = ModelPool(config) if pool is None else pool
    queue = WorkQueue(config.workers, config.queue, config.timeout)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        queue.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="segen serve",
        version=_version(),
        summary="Image segmentation and generation over HTTP",
        docs_url=None,  # the interactive pages load scripts from a CDN; this server makes no outside request
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.config, app.state.pool, app.state.queue = config, pool, queue
    app.add_middleware(_BodyLimit, limit=config.max_body_bytes)
    app.mount("/static", StaticFiles(packages=[("segen.serve", "static")]), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def _http_exception(request: Request, exc: StarletteHTTPException):
        kind = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http")
        return _error(exc.status_code, kind, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        """FastAPI's schema check, as one line: ``body.n: Input should be greater than or equal to 1``."""
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",)) or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        return _error(422, "invalid_request", "; ".join(problems))

    async def _work(fn, *args):
        """Run `fn` on the work queue; a user's mistake becomes its 4xx, anything else a logged 500."""
        try:
            return await queue.run(fn, *args)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an HTTP answer
            status, kind = _status_of(exc)
            text = describe_exception(exc).removeprefix(f"{type(exc).__name__}: ")
            if status >= 500 and status != 503 and status != 504:
                log.exception("segen serve: request failed")
                text = f"{type(exc).__name__}: {text}"
            headers = {"Retry-After": "1"} if status == 503 else None
            raise _Answer(_error(status, kind, text, headers)) from exc

    @app.exception_handler(_Answer)
    async def _answer(request: Request, exc: _Answer):
        return exc.response

    async def _mistake(request: Request, exc: Exception):
        """A check made in the endpoint itself (before any work is queued) failed."""
        status, kind = _status_of(exc)
        return _error(status, kind, describe_exception(exc).removeprefix(f"{type(exc).__name__}: "))

    for cls in (InvalidArgumentError, DTypeError, UnknownModelError):
        app.add_exception_handler(cls, _mistake)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((files("segen.serve") / "static" / "index.html").read_text(encoding="utf-8"))

    @app.get("/health", summary="Liveness and load")
    def health() -> dict:
        """``status`` "ok", the workers, the requests running or waiting now, and the models loaded."""
        return {
            "status": "ok",
            "workers": queue.workers,
            "capacity": queue.capacity,
            "in_flight": queue.in_flight,
            "models_loaded": pool.loaded(),
        }

    @app.get("/version", summary="Versions of segen and its runtime")
    def version() -> dict:
        return {
            "segen": _version(),
            "python": platform.python_version(),
            "numpy": _version("numpy"),
            "onnxruntime": _version("onnxruntime"),
        }

    def _entry_row(entry, *, loaded=None) -> dict:
        row = {
            "name": pool.display_name(entry),
            "qualified_name": entry.qualified_name,
            "plugin": entry.plugin,
            "summary": _public_summary(entry),
            "aliases": list(entry.aliases),
            "options": option_specs(entry.factory),
        }
        if entry.kind == "segmenter":
            row["labels"] = entry.labels or "classes"
        if loaded is not None:
            row["info"] = _public_info(loaded)
        return row

    @app.get("/api/models", summary="The segmenters and generators served")
    def models() -> dict:
        """Each model's name, plugin, summary, options (name, default, type) and, for the models already
        loaded, their metadata (``info``: classes, input size, latent size, conditioning classes...)."""
        loaded = {(m["kind"], m["name"]) for m in pool.loaded() if not m["options"]}
        out = {}
        for kind in ("segmenter", "generator"):
            rows = []
            for e in pool.entries(kind):
                model = pool.get(kind, e.qualified_name) if (kind, e.qualified_name) in loaded else None
                rows.append(_entry_row(e, loaded=model))
            out[kind + "s"] = rows
        return out

    @app.get("/api/models/{kind}/{name}", summary="One model's metadata (loads it)")
    async def model_info(kind: Literal["segmenter", "generator"], name: str) -> dict:
        """The model's row of /api/models with its ``info``; the model is loaded (default options)."""
        model = await _work(pool.get, kind, name)
        return _entry_row(pool.resolve(kind, name), loaded=model)

    @app.post(
        "/api/segment",
        summary="Segment an uploaded image",
        responses={
            200: {
                "content": {"image/png": {}, "application/json": {}},
                "description": "A PNG (output labels, overlay, mask, cutout) or the statistics as JSON "
                "(output stats).",
            }
        },
    )
    async def segment_(
        image: UploadFile = File(
            description="The image: any format segen.io reads (PNG, JPEG, TIFF, WebP, BMP, GIF...)."
        ),
        model: str = Form(description="Segmenter name (GET /api/models lists them).", examples=["kmeans"]),
        options: str = Form("{}", description='Segmenter options as a JSON object, e.g. {"k": 3}.'),
        output: Literal["labels", "overlay", "mask", "cutout", "stats"] = Form(
            "overlay",
            description="labels: the label PNG (8-bit, 16-bit past 255 labels); overlay: coloured labels "
            "over the image; mask: white where selected labels are; cutout: RGBA, transparent outside them; "
            "stats: JSON with each label's area, centroid, box and colour.",
        ),
        include: str = Form(
            "", description="With output=stats: comma-separated images to embed as base64 PNG data URLs."
        ),
        alpha: float = Form(0.4, ge=0.0, le=1.0, description="Overlay: opacity of the label colours."),
        boundaries: bool = Form(True, description="Overlay: draw the region boundaries."),
        legend: bool = Form(False, description="Overlay: add a legend of the classes on its right."),
        select: str = Form(
            "", description="Mask and cutout: comma-separated label values (default: all > 0)."
        ),
    ) -> Response:
        """Segment IMAGE with MODEL and answer OUTPUT."""
        opts = _json_object(options, "options")
        kinds = [k.strip() for k in include.split(",") if k.strip()]
        for k in kinds:
            if k not in render.IMAGE_OUTPUTS:
                raise InvalidArgumentError(
                    f"`include` may name {', '.join(map(repr, render.IMAGE_OUTPUTS))}; got {k!r}"
                )
        chosen = _int_list(select, "select")
        data = await image.read()

        def work():
            seg = pool.get("segmenter", model, opts)
            t0 = time.perf_counter()
            img = render.decode(data, max_pixels=config.max_pixels, max_bytes=config.max_body_bytes)
            labels = render.segment(seg, img)
            ms = (time.perf_counter() - t0) * 1e3
            instances = bool(getattr(seg, "instances", False))
            info = getattr(seg, "info", None)
            names = tuple(getattr(info, "classes", ()) or ())
            style = dict(
                instances=instances,
                alpha=alpha,
                boundaries=boundaries,
                legend=legend,
                names=names,
                select=chosen,
            )
            if output != "stats":
                return render.render(output, img, labels, **style), labels, ms
            stats = {
                "model": model,
                "width": int(labels.shape[1]),
                "height": int(labels.shape[0]),
                "labels": "instances" if instances else "classes",
                "classes": list(names),
                "regions": render.region_stats(labels, classes=names, instances=instances),
                "elapsed_ms": round(ms, 2),
                "images": {
                    k: "data:image/png;base64,"
                    + base64.b64encode(render.render(k, img, labels, **style)).decode()
                    for k in kinds
                },
            }
            return stats, labels, ms

        result, labels, ms = await _work(work)
        if output == "stats":
            return JSONResponse(result)
        media = "image/tiff" if result[:4] in (b"II*\x00", b"MM\x00*") else "image/png"
        return Response(result, media_type=media, headers={"X-Segen-Elapsed-Ms": f"{ms:.2f}"})

    @app.post(
        "/api/generate",
        summary="Generate samples",
        responses={200: {"content": {"image/png": {}, "application/json": {}}}},
    )
    async def generate_(req: GenerateRequest) -> Response:
        """N samples of a generator with a seed: one PNG grid, or JSON with one base64 PNG per sample."""
        if req.n > config.max_samples:
            raise InvalidArgumentError(
                f"`n` must be <= {config.max_samples} (the server's limit); got {req.n}"
            )

        def work():
            gen = pool.get("generator", req.model, req.options)
            return render.generate(
                gen,
                req.n,
                seed=req.seed,
                labels=req.labels,
                grid=req.output == "grid",
                scale=req.scale,
                max_pixels=config.max_output_pixels,
            )

        pictures = await _work(work)
        if req.output == "grid":
            return Response(pictures[0], media_type="image/png")
        return JSONResponse(
            {
                "model": req.model,
                "seed": req.seed,
                "images": ["data:image/png;base64," + base64.b64encode(p).decode() for p in pictures],
            }
        )

    return app


class _Answer(Exception):
    """An HTTP answer already made (raised out of an endpoint, returned by the handler)."""

    def __init__(self, response: JSONResponse):
        super().__init__(response.status_code)
        self.response = response


def _public_info(model) -> dict:
    """A model's ``info`` for clients: what it does and expects, and where it comes from in brief (not the
    server's file paths nor the training log)."""
    info = getattr(model, "info", None)
    if info is None or not callable(getattr(info, "as_dict", None)):
        return {}
    d = info.as_dict()
    d.pop("file", None)
    prov = d.pop("provenance", {})
    brief = {k: prov[k] for k in ("segen_version", "sha256", "source", "license", "authors") if k in prov}
    training = prov.get("training")
    if isinstance(training, dict):
        brief["training"] = {
            k: training[k] for k in ("command", "data", "epochs_run", "seed") if k in training
        }
    if brief:
        d["provenance"] = brief
    return d


def _public_summary(entry) -> str:
    """A model's summary for clients: a user model's says where it comes from, not the server's file path."""
    summary = entry.summary or ""
    if entry.plugin != "user-models":
        return summary
    summary = re.sub(r"\s*\(user model: .*\)\s*$", "", summary)
    return "user model" if summary in ("", "user model") else f"{summary} (user model)"


def _json_object(text: str, name: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(f"`{name}` must be a JSON object; got {text!r} ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"`{name}` must be a JSON object; got {text!r}")
    return value


def _int_list(text: str, name: str):
    if not text.strip():
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise InvalidArgumentError(f"`{name}` must be comma-separated integers; got {text!r}") from None
