"""Read and write images: PNG, JPEG and TIFF, 8 and 16 bit, grey, RGB and RGBA.

Decoding is done by maintained libraries — Pillow (PNG, JPEG), pypng (16-bit colour PNG, which Pillow
cannot represent) and tifffile (TIFF) — and segen adds the conventions: RGB order (never BGR), bit depth
preserved (a 16-bit file gives ``uint16``), and a pixel limit checked from the file header *before* any
pixel is decoded, so a small file that claims a huge image (a decompression bomb) is refused with a clear
error instead of exhausting memory.
"""

from __future__ import annotations

import os
import pathlib
import threading
import warnings
from typing import Callable

import numpy as np

from .errors import DTypeError, ImageReadError, InvalidArgumentError

__all__ = ["imread", "imwrite", "write_labels", "DEFAULT_MAX_PIXELS", "SUPPORTED_FORMATS"]

#: Default limit on width × height × frames of an image read from a file: 2**28 (268 million pixels, e.g.
#: 16384 × 16384). Override per call with ``max_pixels=`` or globally with ``SEGEN_MAX_IMAGE_PIXELS``.
DEFAULT_MAX_PIXELS = 1 << 28

SUPPORTED_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _max_pixels(max_pixels: int | None) -> int:
    if max_pixels is None:
        env = os.environ.get("SEGEN_MAX_IMAGE_PIXELS")
        if env is None:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(env)
        except ValueError:
            raise InvalidArgumentError(f"`SEGEN_MAX_IMAGE_PIXELS` must be an integer; got {env!r}") from None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels <= 0:
        raise InvalidArgumentError(f"`max_pixels` must be a positive int; got {max_pixels!r}")
    return int(max_pixels)


def _check_pixels(path, width: int, height: int, frames: int, limit: int) -> None:
    n = int(width) * int(height) * max(int(frames), 1)
    if n > limit:
        raise ImageReadError(
            f"{path}: image of {width} x {height}"
            + (f" x {frames} frames" if frames > 1 else "")
            + f" = {n} pixels exceeds `max_pixels` ({limit}); pass a larger max_pixels (or set "
            "SEGEN_MAX_IMAGE_PIXELS) if you trust this file"
        )


def _sniff(path: pathlib.Path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    ext = path.suffix.lower()
    raise ImageReadError(
        f"{path}: not a PNG, JPEG or TIFF file (extension {ext or 'none'!r}, first bytes {head[:4]!r})"
    )


def imread(path, *, max_pixels: int | None = None) -> np.ndarray:
    """Read an image file into a numpy array.

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG or TIFF file. The format is taken from the file's signature, not its name.
    max_pixels : int, optional
        Refuse images with more pixels (width × height × frames) than this, checked from the header before
        decoding. Default :data:`DEFAULT_MAX_PIXELS` (2**28) or the ``SEGEN_MAX_IMAGE_PIXELS`` environment
        variable.

    Returns
    -------
    image : (H, W) or (H, W, C) ndarray
        Grey images are 2-D; colour images are channels-last RGB (C = 3) or RGBA (C = 4). dtype follows the
        file: ``uint8`` for 8-bit, ``uint16`` for 16-bit, ``bool`` for 1-bit, ``float32`` for float TIFF.
        Palette images become RGB (RGBA if the palette has transparency); grey+alpha becomes RGBA; CMYK and
        YCbCr JPEGs become RGB. EXIF orientation is not applied (the pixels are returned as stored).

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    segen.errors.ImageReadError
        (a ``ValueError``) if the file is not a PNG/JPEG/TIFF, is truncated or corrupt, or is larger than
        `max_pixels`.
    """
    path = pathlib.Path(os.fspath(path))
    limit = _max_pixels(max_pixels)
    if not path.exists():
        raise FileNotFoundError(f"no such image file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not an image file")
    fmt = _sniff(path)
    try:
        if fmt == "tiff":
            return _read_tiff(path, limit)
        return _read_pillow(path, limit, fmt)
    except (ImageReadError, MemoryError):
        raise
    except Exception as exc:  # decoder errors: truncated, corrupt, unsupported variants
        raise ImageReadError(
            f"{path}: cannot decode {fmt.upper()} file ({type(exc).__name__}: {exc})"
        ) from exc


def _read_pillow(path: pathlib.Path, limit: int, fmt: str) -> np.ndarray:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # our own limit, checked below, replaces Pillow's
        try:
            with Image.open(path) as im:
                frames = 1  # only the first frame is decoded
                _check_pixels(path, im.width, im.height, frames, limit)
                if fmt == "png" and im.mode in ("RGB", "RGBA", "LA", "P") and _png_bit_depth(path) == 16:
                    return _read_png16(path)
                return _pillow_to_array(im)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _png_bit_depth(path: pathlib.Path) -> int:
    with open(path, "rb") as f:
        head = f.read(33)
    return head[24] if len(head) >= 25 and head[12:16] == b"IHDR" else 8


def _read_png16(path: pathlib.Path) -> np.ndarray:
    import png  # pypng

    with open(path, "rb") as f:
        width, height, rows, info = png.Reader(file=f).asDirect()
        planes = info["planes"]
        arr = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(height, width, planes)
    if planes == 2:  # grey + alpha -> RGBA
        arr = np.concatenate([arr[..., :1]] * 3 + [arr[..., 1:]], axis=-1)
    return np.ascontiguousarray(arr)


def _pillow_to_array(im) -> np.ndarray:
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA" or mode == "LA":
        im = im.convert("RGBA")
    elif mode in ("CMYK", "YCbCr", "RGBX", "HSV", "LAB"):
        im = im.convert("RGB")
    elif mode == "1":
        return np.asarray(im, dtype=bool).copy()
    arr = np.asarray(im)
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if mode.startswith("I;16"):
        arr = arr.astype(np.uint16, copy=False)
    return np.ascontiguousarray(arr)


def _read_tiff(path: pathlib.Path, limit: int) -> np.ndarray:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise ImageReadError(f"{path}: TIFF file holds no image")
        series = tif.series[0]
        shape = series.shape
        axes = series.axes
        h = shape[axes.index("Y")] if "Y" in axes else 0
        w = shape[axes.index("X")] if "X" in axes else 0
        frames = int(np.prod([s for s, a in zip(shape, axes) if a not in "YXS"], dtype=np.int64))
        _check_pixels(path, w, h, frames, limit)
        arr = series.asarray()
    # only the first image of a stack; channels last
    if "S" in axes:
        arr = np.moveaxis(arr, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    while arr.ndim > (3 if axes.endswith("S") else 2):
        arr = arr[0]
    if arr.dtype.kind == "f" and arr.dtype != np.float64:
        arr = arr.astype(np.float32, copy=False)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return np.ascontiguousarray(arr)


def imwrite(path, image, *, quality: int = 95) -> None:
    """Write an image to a PNG, JPEG or TIFF file, chosen by the file extension.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the extension (.png, .jpg/.jpeg, .tif/.tiff) selects the format.
    image : (H, W) or (H, W, C) ndarray
        Grey, grey+alpha (C = 2), RGB (C = 3) or RGBA (C = 4), channels last, RGB order.
        PNG takes ``bool``, ``uint8`` and ``uint16``; JPEG takes ``uint8`` (grey or RGB); TIFF also takes
        ``float32``/``float64`` and ``int32``. Values are never rescaled: convert floats in [0, 1] yourself,
        e.g. ``(img * 255).round().astype(np.uint8)``.
    quality : int, optional
        JPEG quality 1..95 (default 95).

    Notes
    -----
    The file is written under a temporary name in the same folder and renamed into place, so a failed
    or interrupted write never leaves a truncated `path`.

    Raises
    ------
    ValueError
        If the extension is unknown, or the image shape does not fit the format.
    TypeError
        If the dtype cannot be stored in the format without rescaling.
    """
    path = pathlib.Path(os.fspath(path))
    fmt = SUPPORTED_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidArgumentError(
            f"`path` must end in one of {', '.join(sorted(SUPPORTED_FORMATS))}; got {path.name!r}"
        )
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise InvalidArgumentError(
            f"`image` must be (H, W) or (H, W, C) with C in 1..4; got shape {tuple(arr.shape)}"
        )
    if arr.size == 0:
        raise InvalidArgumentError(f"`image` must be non-empty; got shape {tuple(arr.shape)}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    save = _encoder(fmt, arr, quality)
    # atomic: written under a temporary name beside `path`, then renamed, so a failed or interrupted
    # write never leaves a truncated file (an existing `path` stays as it was)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp{path.suffix}")
    try:
        save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _encoder(fmt: str, arr: np.ndarray, quality) -> Callable:
    """Check `arr` against `fmt` and return ``save(path)`` writing it in that format."""
    if fmt == "tiff":
        if arr.dtype.kind not in "buif" or arr.dtype.itemsize > 8:
            raise DTypeError(f"`image` dtype {arr.dtype} cannot be written to TIFF")
        import tifffile

        photometric = "rgb" if arr.ndim == 3 and arr.shape[2] in (3, 4) else "minisblack"
        extra = {"extrasamples": ["unassalpha"]} if arr.ndim == 3 and arr.shape[2] == 4 else {}
        return lambda target: tifffile.imwrite(
            target, np.ascontiguousarray(arr), photometric=photometric, **extra
        )
    allowed = {"png": (np.bool_, np.uint8, np.uint16), "jpeg": (np.uint8,)}[fmt]
    if arr.dtype.type not in allowed:
        names = ", ".join(np.dtype(t).name for t in allowed)
        raise DTypeError(
            f"`image` must have dtype {names} for {fmt.upper()}; got {arr.dtype} (segen does not rescale: "
            "convert explicitly, e.g. (img * 255).round().astype(np.uint8) for floats in [0, 1])"
        )
    if fmt == "jpeg" and arr.ndim == 3 and arr.shape[2] not in (3,):
        raise InvalidArgumentError(f"JPEG stores grey or RGB images; got {arr.shape[2]} channels")
    if fmt == "jpeg" and not (1 <= int(quality) <= 95):
        raise InvalidArgumentError(f"`quality` must be in 1..95; got {quality}")
    if arr.dtype == np.uint16 and arr.ndim == 3:
        return lambda target: _write_png16(target, arr)
    from PIL import Image

    if arr.dtype == np.bool_:
        im = Image.fromarray(arr.astype(np.uint8) * 255).convert("1")
    elif arr.dtype == np.uint16:
        im = Image.fromarray(np.ascontiguousarray(arr))
    else:  # uint8: Pillow picks L, LA, RGB or RGBA from the shape
        im = Image.fromarray(np.ascontiguousarray(arr))
    kwargs = {"quality": int(quality)} if fmt == "jpeg" else {}
    return lambda target: im.save(target, format=fmt.upper(), **kwargs)


def write_labels(path, labels) -> pathlib.Path:
    """Write a label image losslessly in the smallest format that holds it: an 8-bit PNG when the labels
    fit, 16-bit PNG up to 65535, else a 32-bit TIFF (`path` with a ``.tif`` suffix).

    Parameters
    ----------
    path : str or os.PathLike
        Destination (a ``.png`` name; changed to ``.tif`` past 65535 labels).
    labels : (H, W) ndarray of int
        Labels >= 0.

    Returns
    -------
    path : pathlib.Path
        The file written (atomically, as :func:`imwrite` writes).
    """
    path = pathlib.Path(os.fspath(path))
    labels = np.asarray(labels)
    top = int(labels.max()) if labels.size else 0
    if top <= 255:
        imwrite(path, labels.astype(np.uint8))
    elif top <= 65535:
        imwrite(path, labels.astype(np.uint16))
    else:
        path = path.with_suffix(".tif")
        imwrite(path, labels.astype(np.int32))
    return path


def _write_png16(path: pathlib.Path, arr: np.ndarray) -> None:
    import png  # pypng

    h, w, c = arr.shape
    writer = png.Writer(width=w, height=h, bitdepth=16, greyscale=c <= 2, alpha=c in (2, 4))
    with open(path, "wb") as f:
        writer.write(f, arr.reshape(h, w * c))
