"""Pictures of results: normalising float maps for display and laying images out in a contact sheet."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import InvalidArgumentError

__all__ = ["to_uint8", "contact_sheet", "label2rgb", "boundaries", "overlay", "image_grid"]


def to_uint8(image: np.ndarray, *, percentile: float = 0.5) -> np.ndarray:
    """Scale any image to uint8 for display (robust min/max over the given percentiles; bool -> 0/255)."""
    a = np.asarray(image)
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float64)
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return np.zeros(a.shape, np.uint8)
    lo, hi = np.percentile(finite, [percentile, 100 - percentile])
    if hi <= lo:
        hi = lo + 1
    return (np.clip((np.nan_to_num(a, nan=lo) - lo) / (hi - lo), 0, 1) * 255).round().astype(np.uint8)


def contact_sheet(
    images: Sequence[np.ndarray], titles: Sequence[str] | None = None, *, columns: int = 4, tile: int = 256
) -> np.ndarray:
    """Lay images out on a grid with a caption under each; returns an RGB uint8 array.

    Each image is scaled with :func:`to_uint8` and resized (box-averaged when shrinking, nearest neighbour
    when enlarging, aspect kept) to fit a `tile` × `tile` cell.
    """
    from PIL import Image, ImageDraw

    titles = list(titles) if titles is not None else [""] * len(images)
    rows = -(-len(images) // columns)
    caption = 18
    sheet = Image.new("RGB", (columns * (tile + 8) + 8, rows * (tile + caption + 8) + 8), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (img, title) in enumerate(zip(images, titles)):
        a = to_uint8(img)
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[..., 0]
        pil = Image.fromarray(a if a.ndim == 2 or a.shape[2] in (3, 4) else a[..., :3]).convert("RGB")
        scale = tile / max(pil.width, pil.height)
        size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
        # averaging when shrinking keeps thin lines (edge maps) visible; nearest keeps pixels crisp enlarged
        pil = pil.resize(size, Image.BOX if scale < 1 else Image.NEAREST)
        r, c = divmod(i, columns)
        x, y = 8 + c * (tile + 8), 8 + r * (tile + caption + 8)
        sheet.paste(pil, (x + (tile - pil.width) // 2, y + (tile - pil.height) // 2))
        draw.text((x, y + tile + 3), title, fill=(0, 0, 0))
    return np.asarray(sheet)


def _colours(values: np.ndarray) -> np.ndarray:
    """RGB colours in [0, 1] of label values: black for 0, then well-separated hues (golden-ratio steps); a
    label's colour depends only on its value."""
    i = np.asarray(values, dtype=np.float64)
    h = (i * 0.618033988749895) % 1.0
    s = 0.55 + 0.35 * ((i * 0.37) % 1.0)
    v = 0.75 + 0.25 * ((i * 0.71) % 1.0)
    k = (np.array([5.0, 3.0, 1.0]) + h[..., None] * 6) % 6
    rgb = v[..., None] - (v * s)[..., None] * np.clip(np.minimum(k, 4 - k), 0, 1)
    return np.where((i == 0)[..., None], 0.0, rgb)


def _palette(n: int) -> np.ndarray:
    """n + 1 RGB colours, for labels 0..n."""
    return _colours(np.arange(n + 1))


def label2rgb(labels: np.ndarray) -> np.ndarray:
    """Colour a label image: 0 black, each label its own fixed colour; returns (H, W, 3) uint8."""
    lab = np.asarray(labels)
    if lab.ndim != 2 or lab.dtype.kind not in "biu":
        raise InvalidArgumentError(f"`labels` must be a 2-D integer array; got {lab.dtype} {lab.shape}")
    lab = lab.astype(np.int64)
    if lab.size and lab.min() < 0:
        lab = np.where(lab < 0, 0, lab)
    top = int(lab.max()) if lab.size else 0
    if top <= 2 * lab.size + 4096:
        return (_palette(top)[lab] * 255).round().astype(np.uint8)
    # sparse labels (e.g. 2**31 - 1 in a small image): a table per distinct value, not per value up to `top`
    values, inverse = np.unique(lab, return_inverse=True)
    return (_colours(values)[inverse.reshape(lab.shape)] * 255).round().astype(np.uint8)


def boundaries(labels: np.ndarray) -> np.ndarray:
    """Bool mask of the pixels whose right or lower neighbour has another label (thin region borders)."""
    lab = np.asarray(labels)
    b = np.zeros(lab.shape, dtype=bool)
    dx = lab[:, 1:] != lab[:, :-1]
    dy = lab[1:, :] != lab[:-1, :]
    b[:, :-1] |= dx
    b[:-1, :] |= dy
    return b


def overlay(
    image: np.ndarray, labels: np.ndarray, *, alpha: float = 0.4, boundary_color=(255, 255, 0)
) -> np.ndarray:
    """Blend the coloured labels over an image and draw the region boundaries; (H, W, 3) uint8.

    Label 0 (background) is left uncoloured.
    """
    base = to_uint8(image)
    if base.ndim == 2:
        base = np.stack([base] * 3, axis=-1)
    base = base[..., :3].astype(np.float32)
    lab = np.asarray(labels)
    if lab.shape != base.shape[:2]:
        raise InvalidArgumentError(f"`labels` must have the image's shape {base.shape[:2]}; got {lab.shape}")
    colours = label2rgb(lab).astype(np.float32)
    fg = (lab > 0)[..., None]
    out = np.where(fg, (1 - alpha) * base + alpha * colours, base)
    out[boundaries(lab)] = boundary_color
    return out.round().astype(np.uint8)


def image_grid(images: np.ndarray, *, columns: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile a stack (n, H, W[, C]) of uint8 images on a grid with `pad` white pixels between them."""
    imgs = np.asarray(images)
    if imgs.ndim not in (3, 4) or imgs.shape[0] == 0:
        raise InvalidArgumentError(
            f"`images` must be a non-empty (n, H, W[, C]) stack; got shape {imgs.shape}"
        )
    imgs = np.stack([to_uint8(i) for i in imgs])
    n, h, w = imgs.shape[:3]
    cols = columns or int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + imgs.shape[3:]
    grid = np.full(shape, 255, dtype=np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = (
            im
        )
    return grid
