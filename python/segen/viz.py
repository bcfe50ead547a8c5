"""Pictures of results: normalising float maps for display, coloured labels and overlays, masks and
cut-outs, class legends, and laying images out on a grid or a contact sheet.

:func:`render` gives one of the results people ask a segmentation for (:data:`RENDER_KINDS`: the labels
themselves, an overlay, a mask, an RGBA cut-out), so the command line and the server write the same
pictures."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._shared.limits import check_allocation
from ._shared.validation import C_INT_MAX, as_array, check_bool, check_choice, check_int, check_real
from .errors import DTypeError, InvalidArgumentError

__all__ = [
    "to_uint8",
    "contact_sheet",
    "label2rgb",
    "boundaries",
    "overlay",
    "mask",
    "cutout",
    "add_legend",
    "confusion_picture",
    "render",
    "RENDER_KINDS",
    "image_grid",
]

#: The kinds of result :func:`render` draws: the label image itself, the labels coloured over the image,
#: a foreground mask, and the image with its background transparent.
RENDER_KINDS = ("labels", "overlay", "mask", "cutout")


def to_uint8(image: np.ndarray, *, percentile: float = 0.5) -> np.ndarray:
    """Scale any image to uint8 for display (robust min/max over the given percentiles; bool -> 0/255)."""
    a = as_array(image, "image")  # complex was cast to its real part, strings failed inside numpy
    percentile = check_real(percentile, "percentile", minimum=0.0, maximum=50.0)
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

    if (
        isinstance(images, (str, bytes))
        or not hasattr(images, "__len__")
        or isinstance(images, np.ndarray)
        and (images.ndim < 3)
    ):
        raise DTypeError(
            f"`images` must be a sequence of (H, W) or (H, W, C) images; got {type(images).__name__} "
            f"{np.shape(images) if isinstance(images, np.ndarray) else ''}".rstrip()
        )
    if titles is None:
        titles = [""] * len(images)
    elif isinstance(titles, (str, bytes)) or not hasattr(titles, "__len__"):  # a str gave a title per letter
        raise DTypeError(
            f"`titles` must be a sequence of strings (one per image); got {type(titles).__name__}"
        )
    titles = list(titles)
    if len(titles) != len(images):  # zip() dropped the images past the last title
        raise InvalidArgumentError(
            f"`titles` must have one string per image ({len(images)}); got {len(titles)} titles"
        )
    for t in titles:
        if not isinstance(t, str):
            raise DTypeError(f"`titles` must hold strings; got {type(t).__name__} {t!r}")
    columns = check_int(columns, "columns", minimum=1, maximum=C_INT_MAX)
    tile = check_int(tile, "tile", minimum=1, maximum=C_INT_MAX)
    arrays = []
    for i, img in enumerate(images):
        a = to_uint8(as_array(img, f"images[{i}]"))
        if a.ndim not in (2, 3) or a.size == 0 or (a.ndim == 3 and a.shape[2] == 2):
            raise InvalidArgumentError(
                f"`images[{i}]` must be a non-empty (H, W) or (H, W, C) image with C = 1, 3 or more; got shape "
                f"{a.shape}"
            )
        arrays.append(a)
    rows = -(-len(arrays) // columns)
    caption = 18
    width, height = columns * (tile + 8) + 8, rows * (tile + caption + 8) + 8
    if width > C_INT_MAX or height > C_INT_MAX:  # Pillow's limit: was an OverflowError
        raise InvalidArgumentError(
            f"the contact sheet would be {height} x {width} pixels, over 2**31 - 1 a side: lower `columns` or "
            "`tile`"
        )
    check_allocation(3.0 * width * height, f"a {height} x {width} RGB contact sheet (`columns`, `tile`)")
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (a, title) in enumerate(zip(arrays, titles)):
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
        draw.text((x, y + tile + 3), _fit_text(draw, title, tile + 4), fill=(0, 0, 0))
    return np.asarray(sheet)


def _fit_text(draw, text: str, width: int) -> str:
    """`text`, cut with an ellipsis where it would run wider than `width` pixels (into the next caption)."""
    if draw.textlength(text) <= width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid].rstrip() + "...") <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "..."


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


def _labels(labels, shape=None) -> np.ndarray:
    """A 2-D integer (or bool) label image, optionally of a given shape."""
    lab = as_array(labels, "labels")
    if lab.ndim != 2 or lab.dtype.kind not in "biu":
        raise InvalidArgumentError(
            f"`labels` must be a 2-D integer array; got {lab.dtype} array of shape {lab.shape}"
        )
    if shape is not None and lab.shape != shape:
        raise InvalidArgumentError(f"`labels` must have the image's shape {shape}; got {lab.shape}")
    return lab


#: How many colours instances are drawn from: touching objects always get two different ones.
INSTANCE_COLOURS = 12


def _touching_pairs(lab: np.ndarray) -> np.ndarray:
    """(K, 2) distinct pairs of different nonzero labels that touch (8-neighbourhood), smaller label first."""
    pairs = []
    for a, b in (
        (lab[:, :-1], lab[:, 1:]),
        (lab[:-1, :], lab[1:, :]),
        (lab[:-1, :-1], lab[1:, 1:]),
        (lab[:-1, 1:], lab[1:, :-1]),
    ):
        edge = (a != b) & (a > 0) & (b > 0)
        pairs.append(np.stack([np.minimum(a[edge], b[edge]), np.maximum(a[edge], b[edge])], axis=1))
    both = np.concatenate(pairs)
    return np.unique(both, axis=0) if both.size else both.reshape(0, 2)


def _instance_colours(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, rgb)``: an RGB colour in [0, 1] for each label value present, 0 black, such that touching
    objects differ — a greedy colouring of the touching graph, in label order, from
    :data:`INSTANCE_COLOURS` well-separated colours (the least used among the neighbours if all are taken).
    The colours depend on the objects' arrangement, not on their ids."""
    values, inverse = np.unique(lab, return_inverse=True)
    palette = _colours(np.arange(1, INSTANCE_COLOURS + 1))
    rank = {int(v): i for i, v in enumerate(values)}
    neighbours: dict[int, list[int]] = {}
    for a, b in _touching_pairs(lab).tolist():
        neighbours.setdefault(rank[b], []).append(rank[a])
        neighbours.setdefault(rank[a], []).append(rank[b])
    choice = np.full(values.size, -1)
    for i in range(values.size):
        if values[i] == 0:
            continue
        used = np.bincount(
            [choice[j] for j in neighbours.get(i, ()) if choice[j] >= 0], minlength=INSTANCE_COLOURS
        )
        choice[i] = int(np.argmin(used))  # the first colour no neighbour has, else the least used
    rgb = np.where((values == 0)[:, None], 0.0, palette[np.maximum(choice, 0)])
    return inverse.reshape(lab.shape), rgb


def label2rgb(labels: np.ndarray, *, instances: bool = False) -> np.ndarray:
    """Colour a label image; returns (H, W, 3) uint8 with 0 black.

    Class labels (default): each label value its own fixed colour, the same in every image, so a class
    always looks the same. Instances (``instances=True``, each object its own id, as an instance
    segmenter's ``Segmenter.instances`` says): colours chosen so that touching objects always differ
    (ids carry no meaning, and consecutive fixed colours could make two touching objects look alike).
    """
    lab = _labels(labels)
    instances = check_bool(instances, "instances")
    lab = lab.astype(np.int64)
    if lab.size and lab.min() < 0:
        lab = np.where(lab < 0, 0, lab)
    if instances:
        index, rgb = _instance_colours(lab)
        return (rgb[index] * 255).round().astype(np.uint8)
    top = int(lab.max()) if lab.size else 0
    if top <= 2 * lab.size + 4096:
        return (_palette(top)[lab] * 255).round().astype(np.uint8)
    # sparse labels (e.g. 2**31 - 1 in a small image): a table per distinct value, not per value up to `top`
    values, inverse = np.unique(lab, return_inverse=True)
    return (_colours(values)[inverse.reshape(lab.shape)] * 255).round().astype(np.uint8)


def boundaries(labels: np.ndarray) -> np.ndarray:
    """Bool mask of the pixels whose right or lower neighbour has another label (thin region borders)."""
    lab = _labels(labels)  # a 1-D or 0-D array was an IndexError, NaN labels drew borders around NaN
    b = np.zeros(lab.shape, dtype=bool)
    dx = lab[:, 1:] != lab[:, :-1]
    dy = lab[1:, :] != lab[:-1, :]
    b[:, :-1] |= dx
    b[:-1, :] |= dy
    return b


def overlay(
    image: np.ndarray,
    labels: np.ndarray,
    *,
    alpha: float = 0.4,
    boundary_color=(255, 255, 0),
    instances: bool = False,
) -> np.ndarray:
    """Blend the coloured labels over an image and draw the region boundaries; (H, W, 3) uint8.

    Label 0 (background) is left uncoloured. ``instances=True`` (pass ``segmenter.instances``) colours the
    objects of an instance segmentation so that touching ones differ, instead of one fixed colour per
    class value (see :func:`label2rgb`). ``boundary_color=None`` draws no boundaries (on a textured photo
    the lines of many small regions can hide it).
    """
    alpha = check_real(alpha, "alpha", minimum=0.0, maximum=1.0)  # -1 or 2.5 gave wrapped-around colours
    colour = None if boundary_color is None else as_array(boundary_color, "boundary_color")
    if colour is not None and (
        colour.shape != (3,) or not np.isfinite(colour).all() or colour.min() < 0 or colour.max() > 255
    ):
        raise InvalidArgumentError(
            f"`boundary_color` must be three values (R, G, B) in [0, 255], or None; got {boundary_color!r}"
        )
    base = _rgb(image)
    lab = _labels(labels, base.shape[:2])
    colours = label2rgb(lab, instances=instances).astype(np.float32)
    fg = (lab > 0)[..., None]
    base = base.astype(np.float32)
    out = np.where(fg, (1 - alpha) * base + alpha * colours, base)
    if colour is not None:
        out[boundaries(lab)] = colour
    return out.round().astype(np.uint8)


def _rgb(image) -> np.ndarray:
    """`image` for display as (H, W, 3) uint8 (grey repeated; alpha and channels past 3 dropped)."""
    base = to_uint8(image)
    if base.ndim == 3 and base.shape[2] == 1:
        base = base[..., 0]
    if base.ndim not in (2, 3) or base.size == 0 or (base.ndim == 3 and base.shape[2] < 3):
        raise InvalidArgumentError(
            f"`image` must be a non-empty (H, W) grey or (H, W, C >= 3) colour image; got shape {base.shape}"
        )
    if base.ndim == 2:
        base = np.stack([base] * 3, axis=-1)
    return np.ascontiguousarray(base[..., :3])


def mask(labels: np.ndarray, *, foreground=None) -> np.ndarray:
    """The foreground of a label image as an (H, W) bool mask.

    Parameters
    ----------
    labels : (H, W) integer ndarray
        A label image (0 = background).
    foreground : int or sequence of int, optional
        The label values that count as foreground (e.g. one class of a semantic segmentation). Default:
        every nonzero label.
    """
    lab = _labels(labels)
    if foreground is None:
        return lab > 0
    return np.isin(lab, _label_values(foreground))


def _label_values(foreground) -> np.ndarray:
    values = np.atleast_1d(as_array(foreground, "foreground"))
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"`foreground` must be a label value or a non-empty list of them (integers); got {foreground!r}"
        )
    if values.min() < 0:
        raise InvalidArgumentError(f"`foreground` must hold labels >= 0; got {int(values.min())}")
    return values


def cutout(image: np.ndarray, labels: np.ndarray, *, foreground=None) -> np.ndarray:
    """The image with its background transparent: (H, W, 4) uint8 RGBA, alpha 255 on the foreground
    (:func:`mask` of `labels` and `foreground`) and 0 elsewhere.

    The colour is the image's (scaled with :func:`to_uint8`; grey repeated), also under transparent
    pixels. An RGBA image keeps its own transparency where it is more transparent than the mask.
    """
    base = _rgb(image)
    keep = mask(_labels(labels, base.shape[:2]), foreground=foreground)
    alpha = keep.astype(np.uint8) * 255
    img = as_array(image, "image")
    if img.ndim == 3 and img.shape[2] == 4:
        alpha = np.minimum(alpha, to_uint8(img[..., 3]))
    return np.concatenate([base, alpha[..., None]], axis=-1)


#: The most classes a legend lists (one row each); the rest are counted in a last row.
LEGEND_ROWS = 30


def add_legend(picture: np.ndarray, labels: np.ndarray, *, names=(), instances: bool = False) -> np.ndarray:
    """`picture` (an overlay of `labels`) with a legend panel on its right: (H', W + panel, 3) uint8.

    For class labels each label value present (but 0) gets a row: its colour (as :func:`label2rgb` and
    :func:`overlay` draw it) and its name from `names` (index = label value, e.g. ``segmenter.info.classes``),
    else the value; at most :data:`LEGEND_ROWS` rows, the rest counted. For instances (colours chosen per
    picture, so they name no class) the panel says how many objects there are. The picture is not drawn
    over; the result is taller than it when the rows need more room (white below).
    """
    from PIL import Image, ImageDraw, ImageFont

    pic = _rgb(picture)
    lab = _labels(labels, pic.shape[:2])
    instances = check_bool(instances, "instances")
    try:
        if isinstance(names, (str, bytes)):
            raise TypeError
        names = [str(n) for n in names]
    except TypeError:
        raise DTypeError(f"`names` must be a sequence of class names; got {type(names).__name__}") from None
    values = np.unique(lab)
    values = values[values > 0]
    if instances:
        rows = [(None, f"{values.size} object{'s' if values.size != 1 else ''}")]
    else:
        rows = [(int(v), names[v] if v < len(names) and names[v] else f"label {v}") for v in values]
        if len(rows) > LEGEND_ROWS:
            rows = rows[: LEGEND_ROWS - 1] + [(None, f"... {len(rows) - LEGEND_ROWS + 1} more")]
        if not rows:
            rows = [(None, "no regions")]
    h, w = pic.shape[:2]
    size = int(np.clip(min(h, 2 * w) // 24, 10, 28))  # text height: readable, in proportion
    try:
        font = ImageFont.load_default(size=size)
    except (ImportError, OSError):  # a Pillow without FreeType: its small bitmap font
        font = ImageFont.load_default()
    row_h, swatch, pad = size + size // 2, size, size // 2
    text_w = max(int(font.getlength(text)) for _, text in rows)
    panel_w = pad + swatch + pad + text_w + pad
    height = max(h, pad + row_h * len(rows) + pad)
    check_allocation(3.0 * height * (w + panel_w), f"a {height} x {w + panel_w} picture with a legend")
    sheet = Image.new("RGB", (w + panel_w, height), (255, 255, 255))
    sheet.paste(Image.fromarray(pic), (0, 0))
    draw = ImageDraw.Draw(sheet)
    for i, (value, text) in enumerate(rows):
        y = pad + i * row_h
        x = w + pad
        if value is not None:
            colour = tuple(int(c) for c in (_colours(np.array([value]))[0] * 255).round())
            draw.rectangle([x, y, x + swatch - 1, y + swatch - 1], fill=colour, outline=(0, 0, 0))
        draw.text((x + swatch + pad, y), text, fill=(0, 0, 0), font=font)
    return np.asarray(sheet)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):  # a Pillow without FreeType: its small bitmap font
        return ImageFont.load_default()


def confusion_picture(cm, names=(), *, cell: int = 56) -> np.ndarray:
    """A confusion matrix as a picture: (H, W, 3) uint8, true classes down, predictions across.

    Each cell shows the share of its row (the true class's pixels) in percent, shaded from white (0) to
    dark blue (100 %); the diagonal is outlined; the rows are marked "true" and the columns "predicted". A (K, K + 1) matrix's last column is drawn as
    "unmatched" (pixels of clusters matched to no class, from ``segen evaluate --match hungarian``).

    Parameters
    ----------
    cm : (K, K) or (K, K + 1) array_like of int
        ``cm[t, p]``: pixels of true class ``t`` predicted as ``p`` (:func:`segen.metrics.confusion_matrix`).
    names : sequence of str, optional
        Class names (default ``0 .. K-1``).
    cell : int, optional
        Side of a cell in pixels (16 .. 256; default 56).
    """
    from PIL import Image, ImageDraw

    cm = np.asarray(cm)
    if (
        cm.ndim != 2
        or cm.dtype.kind not in "iu"
        or cm.shape[0] < 1
        or cm.shape[1] not in (cm.shape[0], cm.shape[0] + 1)
    ):
        raise InvalidArgumentError(
            f"`cm` must be a (K, K) or (K, K + 1) matrix of counts; got {cm.dtype} {cm.shape}"
        )
    cell = check_int(cell, "cell", minimum=16, maximum=256)
    k, c = cm.shape
    if k > 64:
        raise InvalidArgumentError(f"`cm` has {k} classes; a picture of more than 64 would not be readable")
    names = [str(n) for n in names] if names is not None else []
    rows = [names[i] if i < len(names) else str(i) for i in range(k)]
    cols = rows + (["unmatched"] if c > k else [])
    font = _font(max(10, cell // 4))
    label_w = max(int(font.getlength(t)) for t in [*rows, "true"]) + cell // 4
    top = cell // 3 + 4  # a band above the column names: "predicted"
    head_h = top + max(int(font.getlength(t)) for t in cols) + cell // 4  # column names are written turned
    sheet = Image.new("RGB", (label_w + c * cell + 4, head_h + k * cell + 4), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    word = int(font.getlength("predicted"))
    draw.text((label_w + max(0, (c * cell - word) // 2), 2), "predicted", fill=(90, 90, 90), font=font)
    draw.text((2, head_h - cell // 3 - 2), "true", fill=(90, 90, 90), font=font)
    for j, t in enumerate(cols):
        tw = int(font.getlength(t))
        txt = Image.new("RGB", (tw + 4, cell // 3 + 4), (255, 255, 255))
        ImageDraw.Draw(txt).text((2, 0), t, fill=(0, 0, 0), font=font)
        turned = txt.rotate(90, expand=True)
        sheet.paste(turned, (label_w + j * cell + (cell - turned.width) // 2, head_h - turned.height - 2))
    for i in range(k):
        y = head_h + i * cell
        draw.text((2, y + cell // 3), rows[i], fill=(0, 0, 0), font=font)
        for j in range(c):
            x = label_w + j * cell
            v = float(share[i, j])
            fill = tuple(int(round(255 - v * (255 - b))) for b in (24, 64, 140))
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=fill, outline=(200, 200, 200))
            if i == j:
                draw.rectangle([x, y, x + cell - 1, y + cell - 1], outline=(0, 0, 0), width=2)
            text = f"{100 * v:.0f}"
            tw = int(font.getlength(text))
            draw.text(
                (x + (cell - tw) // 2, y + cell // 3),
                text,
                fill=(255, 255, 255) if v > 0.5 else (0, 0, 0),
                font=font,
            )
    return np.asarray(sheet)


def render(
    image: np.ndarray,
    labels: np.ndarray,
    kind: str = "overlay",
    *,
    alpha: float = 0.4,
    boundaries: bool = True,
    legend: bool = False,
    names=(),
    instances: bool = False,
    foreground=None,
) -> np.ndarray:
    """One picture (or the labels) of a segmentation, as the command line and the server write it.

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        The image that was segmented.
    labels : (H, W) integer ndarray
        Its labels (0 = background).
    kind : str
        One of :data:`RENDER_KINDS`:

        - ``"labels"``: the labels themselves, as int32 (write them with :func:`segen.io.write_labels`);
        - ``"overlay"``: (H, W, 3) uint8, the coloured labels blended over the image (:func:`overlay`),
          with a legend on the right when `legend` is true (then wider, see :func:`add_legend`);
        - ``"mask"``: (H, W) uint8, 255 on the foreground and 0 on the background (:func:`mask`);
        - ``"cutout"``: (H, W, 4) uint8 RGBA, the image with the background transparent (:func:`cutout`).
    alpha : float
        Overlay: opacity of the label colours, 0..1 (default 0.4).
    boundaries : bool
        Overlay: draw the region boundaries in yellow (default True).
    legend : bool
        Overlay: add a legend of the classes (or the number of objects) on the right (default False).
    names : sequence of str
        Legend: class names by label value (``segmenter.info.classes``).
    instances : bool
        Whether the labels are instances (``segmenter.instances``): colours and legend follow.
    foreground : int or sequence of int, optional
        Mask and cut-out: the label values kept (default: every nonzero label).

    Returns
    -------
    ndarray
        As described under `kind`.
    """
    kind = check_choice(kind, "kind", RENDER_KINDS)
    lab = _labels(labels)
    if kind == "labels":
        return lab.astype(np.int32)
    if kind == "mask":
        return mask(lab, foreground=foreground).astype(np.uint8) * 255
    if kind == "cutout":
        return cutout(image, lab, foreground=foreground)
    draw = check_bool(boundaries, "boundaries")
    legend = check_bool(legend, "legend")
    picture = overlay(
        image, lab, alpha=alpha, instances=instances, boundary_color=(255, 255, 0) if draw else None
    )
    return add_legend(picture, lab, names=names, instances=instances) if legend else picture


def image_grid(images: np.ndarray, *, columns: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile a stack (n, H, W[, C]) of uint8 images on a grid with `pad` white pixels between them."""
    imgs = as_array(images, "images")
    if imgs.ndim not in (3, 4) or imgs.size == 0:
        raise InvalidArgumentError(
            f"`images` must be a non-empty (n, H, W[, C]) stack; got shape {imgs.shape}"
        )
    cols = None if columns is None else check_int(columns, "columns", minimum=1, maximum=C_INT_MAX)
    pad = check_int(pad, "pad", minimum=0, maximum=C_INT_MAX)
    n, h, w = imgs.shape[:3]
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + imgs.shape[3:]
    check_allocation(float(np.prod(shape, dtype=np.float64)), f"a {shape} uint8 grid (`columns`, `pad`)")
    imgs = _stack_to_uint8(imgs)
    grid = np.full(shape, 255, dtype=np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = (
            im
        )
    return grid


def _stack_to_uint8(imgs: np.ndarray) -> np.ndarray:
    """:func:`to_uint8` of each image of a stack; one vectorised pass when every value is finite (100,000
    tiny images took 10 s one by one)."""
    if imgs.dtype in (np.bool_, np.uint8):
        return to_uint8(imgs)
    a = imgs.astype(np.float64)
    if not np.isfinite(a).all():
        return np.stack([to_uint8(i) for i in imgs])
    lo, hi = np.percentile(a.reshape(a.shape[0], -1), [0.5, 99.5], axis=1)
    hi = np.where(hi <= lo, lo + 1, hi)
    shape = (-1,) + (1,) * (a.ndim - 1)
    lo, hi = lo.reshape(shape), hi.reshape(shape)
    return (np.clip((a - lo) / (hi - lo), 0, 1) * 255).round().astype(np.uint8)
