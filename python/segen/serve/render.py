"""The work behind the endpoints, in plain numpy: decode an upload, segment it, render what was asked for
(labels, overlay, mask, cut-out) as PNG bytes, measure each label, generate samples."""

from __future__ import annotations

import io as _io
import os
import pathlib
import tempfile

import numpy as np

from .. import io, viz
from ..errors import ImageReadError, InvalidArgumentError, ResourceLimitError
from ..segmentation import regionprops

__all__ = ["OUTPUTS", "IMAGE_OUTPUTS", "decode", "segment", "render", "region_stats", "generate", "png_bytes"]

#: What ``POST /api/segment`` can answer: a PNG of one kind, or the statistics as JSON.
IMAGE_OUTPUTS = ("labels", "overlay", "mask", "cutout")
OUTPUTS = (*IMAGE_OUTPUTS, "stats")


def decode(data: bytes, *, max_pixels: int, max_bytes: int) -> np.ndarray:
    """Decode an uploaded image with :func:`segen.io.imread`'s checks (signature sniffing, pixel and size
    limits read from the header before decoding)."""
    if not data:
        raise InvalidArgumentError("`image` is empty (0 bytes)")
    # segen.io reads files; the upload goes through a private temporary file (removed at once)
    fd, name = tempfile.mkstemp(prefix="segen-serve-", suffix=".upload")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return io.imread(name, max_pixels=max_pixels, max_file_bytes=max(max_bytes, 1))
    except ImageReadError as exc:  # the message names the upload, not the server's temporary file
        raise type(exc)(str(exc).replace(name, "`image`")) from None
    finally:
        pathlib.Path(name).unlink(missing_ok=True)


def _colour_image(img: np.ndarray) -> np.ndarray:
    """The image a segmenter gets: alpha dropped (grey+alpha -> grey, RGBA -> RGB), as ``segen segment``."""
    if img.ndim == 3 and img.shape[2] in (2, 4):
        return np.ascontiguousarray(img[..., : img.shape[2] - 1])
    return img


def segment(model, img: np.ndarray) -> np.ndarray:
    """``model.segment`` of the decoded upload (alpha dropped)."""
    return model.segment(_colour_image(img))


def png_bytes(arr: np.ndarray) -> bytes:
    """A uint8 (H, W), (H, W, 3) or (H, W, 4) array as PNG bytes."""
    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _labels_png(labels: np.ndarray) -> bytes:
    """The label image as :func:`segen.io.write_labels` writes it (8-bit, 16-bit past 255, TIFF past 65535)."""
    with tempfile.TemporaryDirectory(prefix="segen-serve-") as tmp:
        path = io.write_labels(pathlib.Path(tmp) / "labels.png", labels)
        return path.read_bytes()


def _selected(labels: np.ndarray, select) -> np.ndarray:
    """Bool mask of the labels in `select` (all non-zero labels when None)."""
    if select is None:
        return labels > 0
    return np.isin(labels, np.asarray(sorted(select), dtype=np.int64))


def _overlay(img, labels, *, instances: bool, alpha: float, boundaries: bool) -> np.ndarray:
    if boundaries:
        return viz.overlay(img, labels, alpha=alpha, instances=instances)
    # no boundary lines: the same blend as viz.overlay without them
    base = viz.overlay(img, np.zeros_like(labels), alpha=0.0).astype(np.float32)
    colours = viz.label2rgb(labels, instances=instances).astype(np.float32)
    out = np.where((labels > 0)[..., None], (1 - alpha) * base + alpha * colours, base)
    return out.round().astype(np.uint8)


def render(
    kind: str,
    img: np.ndarray,
    labels: np.ndarray,
    *,
    instances: bool = False,
    alpha: float = 0.4,
    boundaries: bool = True,
    select=None,
) -> bytes:
    """One output of a segmentation as file bytes: ``labels`` (segen's label PNG), ``overlay`` (RGB),
    ``mask`` (grey, 255 on the selected labels), ``cutout`` (RGBA, transparent outside them)."""
    if kind == "labels":
        return _labels_png(labels)
    if kind == "overlay":
        return png_bytes(_overlay(img, labels, instances=instances, alpha=alpha, boundaries=boundaries))
    mask = _selected(labels, select)
    if kind == "mask":
        return png_bytes(mask.astype(np.uint8) * 255)
    if kind == "cutout":
        rgb = viz.overlay(_colour_image(img), np.zeros_like(labels), alpha=0.0)  # uint8 RGB, as displayed
        return png_bytes(np.dstack([rgb, mask.astype(np.uint8) * 255]))
    raise InvalidArgumentError(f"`output` must be one of {', '.join(map(repr, OUTPUTS))}; got {kind!r}")


def region_stats(labels: np.ndarray, *, classes=(), instances: bool = False) -> list[dict]:
    """Per label present (0 excluded): its value, class name (class segmenters with names), pixel count,
    fraction of the image, centroid ``[row, col]``, bounding box ``[min_row, min_col, max_row, max_col]``
    (max exclusive) and the colour the overlay gives it (``#rrggbb``)."""
    regions = regionprops(labels)
    if not regions:
        return []
    colours = viz.label2rgb(labels, instances=instances).reshape(-1, 3)
    values, first = np.unique(labels, return_index=True)  # one pixel of each label: its overlay colour
    colour_of = dict(zip(values.tolist(), colours[first].tolist()))
    total = labels.size
    out = []
    for r in regions:
        colour = colour_of[r.label]
        d = {
            "label": r.label,
            "area": r.area,
            "fraction": r.area / total,
            "centroid": [round(r.centroid[0], 3), round(r.centroid[1], 3)],
            "bbox": list(r.bbox),
            "color": "#{:02x}{:02x}{:02x}".format(*(int(v) for v in colour)),
        }
        if not instances and 0 <= r.label < len(classes):
            d["class"] = classes[r.label]
        out.append(d)
    return out


def generate(model, n: int, *, seed: int, labels, grid: bool, scale: int, max_pixels: int):
    """`n` samples as PNG bytes: one grid (``grid=True``) or a list, each pixel enlarged `scale` x `scale`
    (nearest neighbour); refused with :class:`ResourceLimitError` past `max_pixels` output pixels."""
    samples = model.generate(n, seed=seed, labels=labels)
    h, w = samples.shape[1:3]
    if grid:
        cols = int(np.ceil(np.sqrt(n)))
        rows = -(-n // cols)
        out_pixels = (rows * (h + 2) + 2) * (cols * (w + 2) + 2) * scale * scale
    else:
        out_pixels = n * h * w * scale * scale
    if out_pixels > max_pixels:
        raise ResourceLimitError(
            f"`n` ({n}) x `scale` ({scale}) makes {out_pixels} output pixels; the server's limit is {max_pixels}"
        )
    pictures = [viz.image_grid(samples, columns=cols)] if grid else list(samples)
    if scale > 1:
        pictures = [np.repeat(np.repeat(p, scale, axis=0), scale, axis=1) for p in pictures]
    return [png_bytes(p) for p in pictures]
