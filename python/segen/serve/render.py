"""The work behind the endpoints, in plain numpy: decode an upload, segment it, render what was asked for
(labels, overlay, mask, cut-out) as PNG bytes, measure each label, generate samples."""

from __future__ import annotations

import numpy as np

from .. import io, viz
from ..errors import ImageReadError, InvalidArgumentError, ResourceLimitError
from ..segmentation import regionprops

__all__ = ["OUTPUTS", "IMAGE_OUTPUTS", "decode", "segment", "render", "region_stats", "generate", "png_bytes"]

#: What ``POST /api/segment`` can answer: a PNG of one kind, or the statistics as JSON.
IMAGE_OUTPUTS = ("labels", "overlay", "mask", "cutout")
OUTPUTS = (*IMAGE_OUTPUTS, "stats")


def decode(data: bytes, *, max_pixels: int, max_bytes: int) -> np.ndarray:
    """Decode an upload with :func:`segen.io.imdecode`: every format Pillow reads, EXIF orientation applied,
    the pixel and size limits checked from the header before decoding; messages name it `image`."""
    if not data:
        raise InvalidArgumentError("`image` is empty (0 bytes)")
    try:
        return io.imdecode(data, max_pixels=max_pixels, max_file_bytes=max(max_bytes, 1))
    except ImageReadError as exc:  # "<bytes>: ..." -> "`image`: ..."
        raise type(exc)(str(exc).replace("<bytes>", "`image`")) from None


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
    return io.imencode(arr, "png")


def render(
    kind: str,
    img: np.ndarray,
    labels: np.ndarray,
    *,
    instances: bool = False,
    alpha: float = 0.4,
    boundaries: bool = True,
    legend: bool = False,
    names=(),
    select=None,
) -> bytes:
    """One output of a segmentation as file bytes (:func:`segen.viz.render`, as ``segen segment`` writes it):
    ``labels`` (segen's label PNG, a TIFF past 65535 labels), ``overlay`` (RGB; with a legend of `names` on the right when `legend`), ``mask`` (grey, 255 on the
    selected labels), ``cutout`` (RGBA, transparent outside them)."""
    if kind not in IMAGE_OUTPUTS:
        raise InvalidArgumentError(f"`output` must be one of {', '.join(map(repr, OUTPUTS))}; got {kind!r}")
    picture = viz.render(
        _colour_image(img),
        labels,
        kind,
        alpha=alpha,
        boundaries=boundaries,
        legend=legend,
        names=names,
        instances=instances,
        foreground=select,
    )
    return io.encode_labels(picture)[0] if kind == "labels" else png_bytes(picture)


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
