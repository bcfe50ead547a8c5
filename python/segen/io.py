"""Read and write images: PNG, JPEG, TIFF, WebP, BMP, GIF and the other raster formats Pillow reads.

Decoding is done by maintained libraries — Pillow (PNG, JPEG, WebP, BMP, GIF, ...), pypng (16-bit colour
PNG, which Pillow cannot represent) and tifffile (TIFF; Pillow's libtiff for the compressions tifffile
leaves to the optional imagecodecs package: LZW, JPEG, CCITT fax) — and segen adds the conventions: RGB order (never
BGR), bit depth preserved (a 16-bit file gives ``uint16``), EXIF orientation applied (a phone photo comes
out upright), and limits checked from the file's header *before* any pixel is decoded, so a small file
that claims a huge image (a decompression bomb) is refused with a clear error instead of exhausting
memory or time. :func:`imread` reads a file, :func:`imdecode` the bytes of one (an HTTP upload, standard
input); :func:`imwrite` writes a file and :func:`imencode` the bytes of one.

Formats
-------
Read (:data:`READ_FORMATS`; the format is found from the data, never from the file name): PNG, JPEG and
TIFF, and through Pillow WebP, BMP/DIB, GIF, ICO, PNM (PBM/PGM/PPM), QOI, TGA, PCX, SGI, PSD, DDS, ICNS,
JPEG 2000, XBM, XPM and AVIF (when Pillow was built with it). TIFF pages in the compressions tifffile
leaves to the optional imagecodecs package (LZW, JPEG, CCITT fax, a floating-point predictor) are decoded
by Pillow's libtiff when imagecodecs is missing, to the same samples as stored (a palette's indices, CMYK,
grey + alpha; only YCbCr comes out as RGB); a page Pillow would give another dtype or shape (16-bit RGB,
signed 16-bit) is refused with an :class:`~segen.errors.ImageReadError` that names imagecodecs. Pillow's other formats are refused: EPS
(Pillow runs Ghostscript on it), and the stubs and rare scientific or container formats (FITS, HDF5,
MPEG, WMF, ...). Of an animated or multi-image file (GIF, WebP, APNG, multi-page TIFF, ICO) only the
first frame (for ICO and ICNS: the largest image) is decoded.

Written (:data:`SUPPORTED_FORMATS`, chosen by the extension): PNG, JPEG, TIFF, WebP (lossless, so what
is read back is what was written) and BMP.

EXIF orientation
----------------
Cameras store the pixels as the sensor saw them and say in an EXIF tag (0x0112) how to turn them for
display. :func:`imread` and :func:`imdecode` apply it by default (JPEG, WebP, PNG, TIFF and the other
formats Pillow finds EXIF in), as image viewers do, so a portrait photo comes out tall; pass
``exif_orientation=False`` to get the pixels as stored. A missing, unreadable or out-of-range tag leaves
the image as stored.

Limits
------
:func:`imread` refuses a file over any of these limits with :class:`~segen.errors.ImageLimitError` (an
``ImageReadError``) naming the file, what it declares and the limit. Each is a keyword argument of
:func:`imread` (and :func:`imdecode`, where the "file" is the data given), else an environment variable, else the default:

- ``max_pixels`` / ``SEGEN_MAX_IMAGE_PIXELS``, default 2**28 (:data:`DEFAULT_MAX_PIXELS`): width × height
  of the image decoded.
- ``max_bytes`` / ``SEGEN_MAX_IMAGE_BYTES``, default 1 GiB (:data:`DEFAULT_MAX_BYTES`): the size of the
  array returned (and of any larger intermediate, e.g. a palette expanded to RGBA), pixels × channels ×
  bytes per sample, computed from the header. A 2 MB 16-bit RGBA PNG of 65535 × 4096 is within the pixel
  limit but declares 2 GiB.
- ``max_pages`` / ``SEGEN_MAX_IMAGE_PAGES``, default 1000 (:data:`DEFAULT_MAX_PAGES`): the pages (IFDs) of
  a TIFF, counted by walking the IFD chain (at most ``max_pages + 1`` steps) without decoding any.
- ``max_file_bytes`` / ``SEGEN_MAX_IMAGE_FILE_BYTES``, default 2 GiB (:data:`DEFAULT_MAX_FILE_BYTES`): the
  size of the file, checked before reading it.

Only the first page of a multi-page TIFF (the first frame of an animated PNG, GIF or WebP) is decoded, so
a read costs at most ``max_bytes`` of pixels, whatever the file holds after them. Pillow's readers of
GIF, WebP, ICO and ICNS also apply Pillow's own process-wide limit (``PIL.Image.MAX_IMAGE_PIXELS``, an
error past twice its value): segen neither consults nor changes it, so for those formats the lower limit
wins (an ``ImageLimitError`` either way).

Only regular files are read: a FIFO, a socket or a device is refused without blocking, and the check is
made on the opened file descriptor, so the file cannot be swapped between the check and the read.

Corrupt data
------------
A truncated or undecodable file raises :class:`~segen.errors.ImageReadError`. JPEG decoders conceal damage
inside the compressed data instead of failing, so a JPEG whose marker structure shows corruption (a stray
marker inside the image data, restart markers missing or out of order, bytes between segments, scan
parameters a valid file cannot have) is decoded with an :class:`~segen.errors.ImageReadWarning` naming the
file and the damage: its pixels differ from what was written. Damage that leaves the marker structure intact
(a changed byte inside the entropy-coded data) is found only by the decoder's own warnings, which Pillow
discards; such a file decodes to a different image without a word (libjpeg itself notices about half of
them). A TIFF with complex samples, and a TIFF or PNG with a width or height of 0, are refused. NaN and
infinity in a float TIFF are returned as stored: check ``np.isfinite`` where it matters.
"""

from __future__ import annotations

import errno
import io as _io
import os
import pathlib
import stat
import struct
import threading
import warnings
from typing import Callable

import numpy as np

from ._shared.validation import check_bool
from .errors import (
    DTypeError,
    ImageFileNotFoundError,
    ImageIsADirectoryError,
    ImageLimitError,
    ImagePermissionError,
    ImageReadError,
    ImageReadWarning,
    InvalidArgumentError,
)

__all__ = [
    "imread",
    "imdecode",
    "imwrite",
    "imencode",
    "write_labels",
    "encode_labels",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_FILE_BYTES",
    "SUPPORTED_FORMATS",
    "READ_FORMATS",
    "READ_SUFFIXES",
]

#: Default limit on width × height of an image read from a file: 2**28 (268 million pixels, e.g.
#: 16384 × 16384). Override per call with ``max_pixels=`` or globally with ``SEGEN_MAX_IMAGE_PIXELS``.
DEFAULT_MAX_PIXELS = 1 << 28

#: Default limit on the bytes an image decodes to (pixels × channels × bytes per sample): 1 GiB.
#: Override per call with ``max_bytes=`` or globally with ``SEGEN_MAX_IMAGE_BYTES``.
DEFAULT_MAX_BYTES = 1 << 30

#: Default limit on the pages (IFDs) of a TIFF file: 1000. Override per call with ``max_pages=`` or
#: globally with ``SEGEN_MAX_IMAGE_PAGES``.
DEFAULT_MAX_PAGES = 1000

#: Default limit on the size of an image file: 2 GiB. Override per call with ``max_file_bytes=`` or
#: globally with ``SEGEN_MAX_IMAGE_FILE_BYTES``.
DEFAULT_MAX_FILE_BYTES = 2 << 30

#: The formats :func:`imwrite` writes, by file extension (:func:`imencode` takes the extension or the name).
SUPPORTED_FORMATS = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".webp": "webp",
    ".bmp": "bmp",
}

# Pillow formats read besides PNG and JPEG (TIFF is tifffile's), tried in this order on data whose first
# bytes are no PNG, JPEG or TIFF signature. TGA has no signature: it is tried last. Left out on purpose:
# EPS (decoded by running Ghostscript), Pillow's stub formats (BUFR, GRIB, HDF5, WMF on Linux), and rare
# containers (FITS, MPEG, FLI, DCX, MIC, SPIDER, ...).
_PILLOW_FORMATS = (
    "WEBP",
    "BMP",
    "DIB",
    "GIF",
    "ICO",
    "PPM",
    "QOI",
    "PCX",
    "SGI",
    "PSD",
    "DDS",
    "ICNS",
    "JPEG2000",
    "AVIF",
    "XBM",
    "XPM",
    "TGA",
)

#: The formats :func:`imread` and :func:`imdecode` read (Pillow's names; AVIF only where Pillow has it).
READ_FORMATS = ("PNG", "JPEG", "TIFF") + _PILLOW_FORMATS

_FORMAT_LIST = "PNG, JPEG, TIFF, WebP, BMP, GIF, ...: segen.io.READ_FORMATS"

#: File name endings of the formats in READ_FORMATS: how a folder's images are told from other files (a file
#: named explicitly is read whatever its name: the format is found from its content).
READ_SUFFIXES = frozenset(
    ".png .jpg .jpeg .jpe .jfif .tif .tiff .webp .bmp .dib .gif .ico .ppm .pgm .pbm .pnm .qoi .tga .pcx "
    ".sgi .rgb .psd .dds .icns .jp2 .j2k .jpx .avif .xbm .xpm".split()
)

#: The largest label :func:`write_labels` writes (int32 TIFF, segen's label dtype).
MAX_LABEL = np.iinfo(np.int32).max

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# parameter name -> (environment variable, default)
_LIMITS = {
    "max_pixels": ("SEGEN_MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS),
    "max_bytes": ("SEGEN_MAX_IMAGE_BYTES", DEFAULT_MAX_BYTES),
    "max_pages": ("SEGEN_MAX_IMAGE_PAGES", DEFAULT_MAX_PAGES),
    "max_file_bytes": ("SEGEN_MAX_IMAGE_FILE_BYTES", DEFAULT_MAX_FILE_BYTES),
}


def _limit(name: str, value) -> int:
    """The limit `name`: `value` when given, else its environment variable, else its default."""
    env, default = _LIMITS[name]
    if value is None:
        text = os.environ.get(env)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise InvalidArgumentError(f"`{env}` must be an integer; got {text!r}") from None
        if value <= 0:
            raise InvalidArgumentError(f"`{env}` must be a positive int; got {text!r}")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise InvalidArgumentError(f"`{name}` must be a positive int; got {value!r}")
    return int(value)


def _over(path, what: str, name: str, limit: int) -> ImageLimitError:
    return ImageLimitError(
        f"{path}: {what} exceeds `{name}` ({limit}); pass a larger {name} (or set {_LIMITS[name][0]}) "
        "if you trust this file"
    )


def _check_pixels(path, width: int, height: int, frames: int, limit: int) -> None:
    n = int(width) * int(height) * max(int(frames), 1)
    if n > limit:
        frames_text = f" x {frames} frames" if frames > 1 else ""
        raise _over(path, f"image of {width} x {height}{frames_text} = {n} pixels", "max_pixels", limit)


def _check_size(path, width: int, height: int, channels: int, itemsize: int, limits: dict) -> None:
    """Refuse an empty image, and one over the pixel or the decoded-bytes limit."""
    if int(width) <= 0 or int(height) <= 0 or int(channels) <= 0:
        samples = f" of {channels} samples" if int(channels) <= 0 else ""
        raise ImageReadError(
            f"{path}: the file declares an image of {width} x {height} pixels{samples} (empty)"
        )
    _check_pixels(path, width, height, 1, limits["max_pixels"])
    n = int(width) * int(height) * int(channels) * int(itemsize)
    if n > limits["max_bytes"]:
        what = (
            f"image of {width} x {height} x {channels} channel(s) of {8 * itemsize}-bit samples "
            f"= {n} bytes ({n / (1 << 30):.2f} GiB) decoded"
        )
        raise _over(path, what, "max_bytes", limits["max_bytes"])


def _open_regular(path: pathlib.Path, max_file_bytes: int):
    """Open `path` for reading as a binary file object, refusing anything but a regular file.

    The kind of file is checked with ``fstat`` on the opened descriptor (no window between check and
    read); the open itself is non-blocking, so a FIFO with no writer does not hang it. A ``stat`` before
    opening spares device nodes the open (opening some has side effects), but is not what is trusted.
    """
    try:
        before = os.stat(path)
        if stat.S_ISREG(before.st_mode):
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
        else:
            fd = None
    except FileNotFoundError:
        raise _os_error(ImageFileNotFoundError, errno.ENOENT, "no such image file", path) from None
    except PermissionError:
        raise _os_error(
            ImagePermissionError, errno.EACCES, "permission denied reading the image file", path
        ) from None
    except OSError as exc:  # a symlink loop, a name too long, an I/O error
        raise ImageReadError(f"{path}: cannot open the image file ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd) if fd is not None else before
        if stat.S_ISDIR(st.st_mode):
            raise _os_error(ImageIsADirectoryError, errno.EISDIR, "a directory, not an image file", path)
        if not stat.S_ISREG(st.st_mode):
            raise ImageReadError(
                f"{path} is {_kind(st.st_mode)}, not a regular file; imread reads only files"
            )
        if st.st_size > max_file_bytes:
            raise _over(path, f"file of {st.st_size} bytes", "max_file_bytes", max_file_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        f = _CappedReader(fd, st.st_size)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    return f, st.st_size


class _CappedReader(_io.BufferedReader):
    """A file whose ``read(n)`` asks for no more than is left of it (as of ``fstat``).

    Decoders read lengths the file declares: Pillow's PNG reader calls ``read(0xFFFFFFFF)`` for a
    corrupt IDAT length and tifffile ``read(2**60)`` for a corrupt strip byte count, and a plain file
    object allocates that much before reading the few bytes there are (a MemoryError, or gigabytes of
    address space, from a 1 kB file).
    """

    def __init__(self, fd: int, size: int):
        super().__init__(_io.FileIO(fd, "rb"))
        self._size = size

    def read(self, n: int | None = -1) -> bytes:
        if n is not None and n > 0:
            n = min(n, max(self._size - self.tell(), 0))
            if n == 0:
                return b""
        return super().read(n)


def _os_error(cls, code: int, what: str, path) -> OSError:
    """``cls`` (an ImageReadError and an OSError) reading ``[Errno N] what: 'path'``, with errno set."""
    exc = cls(f"{what}: {os.fspath(path)!r}")
    exc.errno, exc.strerror, exc.filename = code, what, os.fspath(path)
    return exc


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"  # pragma: no cover


def _sniff(path, f) -> str:
    """``"png"``, ``"jpeg"`` or ``"tiff"`` from the signature, else ``"pillow"`` (the other formats read,
    found by Pillow's own checks in :func:`_open_pillow`)."""
    head = f.read(8)
    f.seek(0)
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    return "pillow"


def _not_an_image(path, head: bytes) -> ImageReadError:
    if not head:
        return ImageReadError(f"{path}: not an image file: it is empty (0 bytes)")
    ext = pathlib.PurePath(str(path)).suffix.lower()
    looks = " (looks like HTML or text)" if head.lstrip()[:1] in (b"<", b"{") else ""
    return ImageReadError(
        f"{path}: not an image file of a format segen reads ({_FORMAT_LIST}){looks} (extension {ext or 'none'!r}, first bytes {head[:4]!r})"
    )


def _limits(max_pixels, max_bytes, max_pages, max_file_bytes) -> dict:
    return {
        name: _limit(name, value)
        for name, value in zip(_LIMITS, (max_pixels, max_bytes, max_pages, max_file_bytes))
    }


def imread(
    path,
    *,
    max_pixels: int | None = None,
    max_bytes: int | None = None,
    max_pages: int | None = None,
    max_file_bytes: int | None = None,
    exif_orientation: bool = True,
) -> np.ndarray:
    """Read an image file into a numpy array.

    Parameters
    ----------
    path : str or os.PathLike
        An image file (a regular file: not a FIFO or a device) in one of :data:`READ_FORMATS`: PNG, JPEG,
        TIFF, WebP, BMP, GIF, ... The format is taken from the file's content, not its name.
    max_pixels : int, optional
        Refuse images with more pixels (width × height) than this, checked from the header before decoding.
        Default :data:`DEFAULT_MAX_PIXELS` (2**28) or the ``SEGEN_MAX_IMAGE_PIXELS`` environment variable.
    max_bytes : int, optional
        Refuse images that decode to more bytes (pixels × channels × bytes per sample) than this, checked
        from the header. Default :data:`DEFAULT_MAX_BYTES` (1 GiB) or ``SEGEN_MAX_IMAGE_BYTES``.
    max_pages : int, optional
        Refuse TIFF files with more pages than this, counted from the IFD chain without decoding any.
        Default :data:`DEFAULT_MAX_PAGES` (1000) or ``SEGEN_MAX_IMAGE_PAGES``.
    max_file_bytes : int, optional
        Refuse files larger than this. Default :data:`DEFAULT_MAX_FILE_BYTES` (2 GiB) or
        ``SEGEN_MAX_IMAGE_FILE_BYTES``.
    exif_orientation : bool, optional
        Turn the image as its EXIF orientation tag says (default True: a photo taken in portrait comes
        out tall, as viewers show it); False returns the pixels as stored.

    Returns
    -------
    image : (H, W) or (H, W, C) ndarray
        Grey images are 2-D; colour images are channels-last RGB (C = 3) or RGBA (C = 4); a TIFF gives
        its samples per pixel as stored (C = 2, or more than 4 for multispectral data). dtype follows the
        file: ``uint8`` for 8-bit, ``uint16`` for 16-bit, ``bool`` for 1-bit, ``float32`` for float16 and
        float32 TIFF, ``float64`` for float64 TIFF, and other integer TIFF types (int8 ... uint64) as
        stored. Palette images (GIF, palette PNG and BMP) become RGB (RGBA if the palette has
        transparency); grey+alpha becomes RGBA; CMYK and YCbCr JPEGs become RGB. EXIF orientation is
        applied unless `exif_orientation` is False (then H and W are as stored). Of a multi-page TIFF or
        an animation only the first page or frame is read.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If `path` does not exist, is a directory or cannot be read: segen's subclasses
        (:class:`~segen.errors.ImageFileNotFoundError`, ...) that are also ``ImageReadError``.
    segen.errors.ImageLimitError
        (an ``ImageReadError``) if the file is over one of the limits above.
    segen.errors.ImageReadError
        (a ``ValueError``) if the file is not a regular file, not in a format read, is truncated or
        corrupt, declares an empty image, or holds complex samples.

    Warns
    -----
    segen.errors.ImageReadWarning
        If a JPEG shows corruption inside its image data (see the module's "Corrupt data").
    """
    path = pathlib.Path(os.fspath(path))
    limits = _limits(max_pixels, max_bytes, max_pages, max_file_bytes)
    orient = check_bool(exif_orientation, "exif_orientation")
    f, size = _open_regular(path, limits["max_file_bytes"])
    with f:
        return _decode(path, f, size, limits, orient)


def imdecode(
    data,
    *,
    max_pixels: int | None = None,
    max_bytes: int | None = None,
    max_pages: int | None = None,
    max_file_bytes: int | None = None,
    exif_orientation: bool = True,
) -> np.ndarray:
    """Decode an image from its bytes: an HTTP upload, standard input, a file already in memory.

    The same formats, limits, conversions and errors as :func:`imread`, the data standing for the file
    (``max_file_bytes`` limits its length). Messages name the data ``<bytes>``, or the ``name`` of a
    file object when it has a text one (``<stdin>``).

    Parameters
    ----------
    data : bytes, bytearray, memoryview or binary file object
        The encoded image, or an object with a ``read`` method returning bytes (``sys.stdin.buffer``, an
        uploaded file), read to its end — but never more than ``max_file_bytes`` + 1 bytes: a longer
        stream is refused once that much has arrived.
    max_pixels, max_bytes, max_pages, max_file_bytes, exif_orientation
        As for :func:`imread`.

    Returns
    -------
    image : (H, W) or (H, W, C) ndarray
        As :func:`imread` returns.

    Raises
    ------
    TypeError
        If `data` is neither bytes-like nor a binary file object (a text stream such as ``sys.stdin``:
        pass ``sys.stdin.buffer``).
    segen.errors.ImageLimitError, segen.errors.ImageReadError
        As for :func:`imread`.

    Warns
    -----
    segen.errors.ImageReadWarning
        As for :func:`imread`.
    """
    limits = _limits(max_pixels, max_bytes, max_pages, max_file_bytes)
    orient = check_bool(exif_orientation, "exif_orientation")
    cap = limits["max_file_bytes"]
    name = "<bytes>"
    if isinstance(data, (bytes, bytearray, memoryview)):
        buf = bytes(data)
        if len(buf) > cap:
            raise _over(name, f"data of {len(buf)} bytes", "max_file_bytes", cap)
    elif callable(getattr(data, "read", None)):
        name = data.name if isinstance(getattr(data, "name", None), str) else name
        buf = _read_capped(data, name, cap)
    else:
        raise DTypeError(
            f"`data` must be bytes or a binary file object (with a read method); got {type(data).__name__}"
        )
    return _decode(name, _io.BytesIO(buf), len(buf), limits, orient)


def _read_capped(stream, name: str, cap: int) -> bytes:
    """All of `stream` (a binary file object) up to `cap` bytes; more is an ImageLimitError."""
    chunks, total = [], 0
    while True:
        chunk = stream.read(min(1 << 20, cap + 1 - total))
        if chunk is None:  # a non-blocking stream with nothing ready
            raise ImageReadError(f"{name}: the stream has no data ready (non-blocking); read it first")
        if isinstance(chunk, str):
            raise DTypeError(
                f"`data` must be a binary stream; {name} gives text (pass sys.stdin.buffer, not sys.stdin)"
            )
        if not chunk:
            break
        chunks.append(bytes(chunk))
        total += len(chunk)
        if total > cap:
            raise _over(name, f"data of more than {cap} bytes", "max_file_bytes", cap)
    return b"".join(chunks)


def _decode(path, f, size: int, limits: dict, orient: bool) -> np.ndarray:
    """Decode the open, seekable binary file `f` (`size` bytes) named `path` in messages."""
    fmt = _sniff(path, f)
    problem = None
    try:
        if fmt == "tiff":
            arr, orientation = _read_tiff(path, f, size, limits)
        else:
            if fmt == "jpeg":
                data = f.read()
                problem = _jpeg_damage(data)
                f = _io.BytesIO(data)
            arr, orientation = _read_pillow(path, f, limits, fmt)
    except (ImageReadError, MemoryError):
        raise
    except Exception as exc:  # decoder errors: truncated, corrupt, unsupported variants
        name = fmt.upper() if fmt != "pillow" else "image"
        raise ImageReadError(f"{path}: cannot decode {name} file ({type(exc).__name__}: {exc})") from exc
    if problem is not None:
        warnings.warn(
            f"{path}: corrupt JPEG data ({problem}); the decoder concealed it, so the pixels differ from "
            "what was written",
            ImageReadWarning,
            stacklevel=3,
        )
    return _orient(arr, orientation) if orient else arr


#: EXIF orientation (1..8) -> the numpy steps that turn stored pixels upright (what Pillow's
#: ``ImageOps.exif_transpose`` does: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
#: 7 transverse, 8 rotate 90 anticlockwise).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: a[::-1].swapaxes(0, 1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: a[:, ::-1].swapaxes(0, 1),
}


#: The orientation whose steps undo each one's (the rotations by 90 degrees undo each other; the rest
#: undo themselves).
_INVERSE_ORIENT = {6: 8, 8: 6}


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    step = _ORIENT.get(orientation)
    return arr if step is None else np.ascontiguousarray(step(arr))


def _exif_orientation(im) -> int:
    """The EXIF orientation tag of a Pillow image (1 when absent or unreadable)."""
    try:
        value = im.getexif().get(0x0112, 1)
        return int(value) if isinstance(value, int) else 1
    except Exception:  # noqa: BLE001 - a damaged EXIF block is no reason to refuse the pixels
        return 1


def _webp_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) a WebP file declares in its first 30 bytes (VP8X canvas, lossless or lossy frame
    header), or None when they are not a WebP header."""
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":  # 24-bit width - 1 and height - 1 of the canvas
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and head[20] == 0x2F:  # 14-bit width - 1, 14-bit height - 1
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # after the key frame's start code
        return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    return None


def _open_pillow(path, f, fmt: str, limits: dict):
    """The Pillow image object for `f`, of the sniffed `fmt` (PNG, JPEG) or of the first format in
    :data:`_PILLOW_FORMATS` whose check accepts the data."""
    # The plugin classes themselves, not Image.open: only the formats segen reads are tried, and Pillow's
    # own decompression-bomb check (a process-wide setting, Image.MAX_IMAGE_PIXELS) is not consulted or
    # changed — the checks in _read_pillow replace it.
    from PIL import Image, JpegImagePlugin, PngImagePlugin

    if fmt == "png":
        return PngImagePlugin.PngImageFile(f)
    if fmt == "jpeg":
        return JpegImagePlugin.JpegImageFile(f)
    Image.init()
    prefix = f.read(30)
    f.seek(0)
    for name in _PILLOW_FORMATS:
        if name not in Image.OPEN:  # a Pillow built without it (AVIF)
            continue
        factory, accept = Image.OPEN[name]
        try:
            if len(prefix) < 4 or (accept is not None and not accept(prefix)):
                continue
            if name == "WEBP" and (size := _webp_size(prefix)) is not None:
                _check_size(path, *size, 4, 1, limits)  # opening a WebP allocates its RGBA canvas
            return factory(f, str(path))
        except (SyntaxError, IndexError, TypeError, struct.error):  # not this format after all
            f.seek(0)
        except Image.DecompressionBombError as exc:  # GIF, WebP, ICO, ICNS: Pillow's own check
            raise ImageLimitError(
                f"{path}: {exc} (Pillow's limit for {name}, Image.MAX_IMAGE_PIXELS, applies too)"
            ) from None
    raise _not_an_image(path, prefix)


def _read_pillow(path, f, limits: dict, fmt: str) -> tuple[np.ndarray, int]:
    depth = 8
    if fmt == "png":
        head = f.read(33)
        f.seek(0)
        depth = head[24] if len(head) >= 25 and head[12:16] == b"IHDR" else 8
    with _open_pillow(path, f, fmt, limits) as im:
        png16 = fmt == "png" and depth == 16 and im.mode in ("RGB", "RGBA", "LA")
        channels, itemsize = (4 if im.mode in ("RGBA", "LA") else 3, 2) if png16 else _pillow_layout(im)
        _check_size(path, im.width, im.height, channels, itemsize, limits)
        if png16:
            # EXIF only from chunks before the image data: getexif() would otherwise decode it again
            orientation = _exif_orientation(im) if "exif" in im.info else 1
            f.seek(0)
            return _read_png16(f), orientation
        # 16-bit samples Pillow holds as 32-bit "I" (PGM/PPM with maxval > 255): uint16, as for PNG
        raw16 = im.mode == "I" and bool(im.tile)
        raw16 = raw16 and all(isinstance(t[3], str) and t[3].startswith("I;16") for t in im.tile)
        arr = _pillow_to_array(im)
        if raw16:
            arr = arr.astype(np.uint16)
        return arr, _exif_orientation(im)


def _pillow_layout(im) -> tuple[int, int]:
    """(channels, bytes per sample) of the largest array decoding `im` makes, from its header."""
    mode = im.mode
    bands = len(im.getbands())
    if mode == "P":
        out = 4 if "transparency" in im.info else 3
    elif mode in ("PA", "LA"):
        out = 4
    elif mode in ("CMYK", "YCbCr", "RGBX", "HSV", "LAB"):
        out = 3
    else:
        out = bands
    itemsize = 2 if mode.startswith("I;16") else 4 if mode in ("I", "F") or mode.startswith("I;32") else 1
    return max(bands, out), itemsize


def _read_png16(f) -> np.ndarray:
    import png  # pypng

    width, height, rows, info = png.Reader(file=f).asDirect()
    planes = info["planes"]
    arr = np.empty((height, width * planes), np.uint16)  # filled row by row: no list of rows held
    for i, row in enumerate(rows):
        arr[i] = np.frombuffer(row, np.uint16) if isinstance(row, (bytes, bytearray)) else row
    arr = arr.reshape(height, width, planes)
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


def _count_tiff_pages(f, size: int, cap: int) -> int:
    """Pages (IFDs) in the main chain of a TIFF, walking at most ``cap + 1`` of them, decoding none.

    A chain that loops or points past the end of the file stops the count there (tifffile reports it).
    """
    f.seek(0)
    head = f.read(16)
    order = "<" if head[:2] == b"II" else ">"
    big = struct.unpack(order + "H", head[2:4])[0] == 43
    if big:
        count_fmt, entry, offset_fmt = "Q", 20, "Q"
        offset = struct.unpack(order + "Q", head[8:16])[0] if len(head) >= 16 else 0
    else:
        count_fmt, entry, offset_fmt = "H", 12, "I"
        offset = struct.unpack(order + "I", head[4:8])[0]
    count_size, offset_size = struct.calcsize(count_fmt), struct.calcsize(offset_fmt)
    seen: set[int] = set()
    while offset and len(seen) <= cap and offset not in seen and offset + count_size <= size:
        seen.add(offset)
        f.seek(offset)
        (tags,) = struct.unpack(order + count_fmt, f.read(count_size))
        nxt = offset + count_size + tags * entry
        if nxt + offset_size > size:
            break
        f.seek(nxt)
        (offset,) = struct.unpack(order + offset_fmt, f.read(offset_size))
    return len(seen)


def _read_tiff(path, f, size: int, limits: dict) -> tuple[np.ndarray, int]:
    import tifffile

    cap = limits["max_pages"]
    if _count_tiff_pages(f, size, cap) > cap:
        raise _over(path, f"TIFF file of more than {cap} pages (counting stopped there)", "max_pages", cap)
    f.seek(0)
    # Only the first page is parsed and decoded. Not `tif.series`: building a series walks every page
    # (tifffile follows a corrupt IFD chain through short reads and misses most loops: a 1.3 kB file
    # walked 130 000 pages in 8 s), and OME series open the other files their XML names (any path, a
    # FIFO). Nor the formats whose loaders walk all pages on open (LSM, NDPI, old ScanImage): their
    # first page reads as a plain TIFF page.
    name = pathlib.PurePath(str(path)).name or "image.tif"
    with tifffile.TiffFile(f, name=name, is_lsm=False, is_ndpi=False, is_scanimage=False) as tif:
        try:
            page = tif.pages[0]
        except IndexError:
            page = None
        if page is None:
            raise ImageReadError(f"{path}: TIFF file holds no image")
        axes, dtype = page.axes, page.dtype
        shape = tuple(int(s) for s in page.shape)
        if dtype is None or dtype.kind not in "buif":
            kind = "complex" if dtype is not None and dtype.kind == "c" else f"{dtype} (unsupported)"
            raise ImageReadError(
                f"{path}: TIFF samples are {kind}; segen images are real-valued (bool, integer or float)"
            )
        h = shape[axes.index("Y")] if "Y" in axes else 0
        w = shape[axes.index("X")] if "X" in axes else 0
        others = int(np.prod([s for s, a in zip(shape, axes) if a not in "YX"], dtype=np.int64))
        itemsize = max(dtype.itemsize, 4 if dtype.kind == "f" else 1)  # float16 becomes float32
        _check_size(path, w, h, others, itemsize, limits)
        tag = page.tags.get(0x0112)  # Orientation
        orientation = tag.value if tag is not None and isinstance(tag.value, int) else 1
        if _tifffile_decodes(page):
            arr = page.asarray()
        else:  # LZW, JPEG, CCITT fax, ... without imagecodecs: Pillow's libtiff decodes them
            f.seek(0)
            samples = shape[axes.index("S")] if "S" in axes else 1
            arr = _read_tiff_pillow(path, f, page, (h, w, samples), limits, orientation)
            axes = "YXS" if arr.ndim == 3 else "YX"
    # channels last; other axes inside the page (depth): the first plane
    if "S" in axes:
        arr = np.moveaxis(arr, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    while arr.ndim > (3 if axes.endswith("S") else 2):
        arr = arr[0]
    if arr.dtype.kind == "f" and arr.dtype != np.float64:
        arr = arr.astype(np.float32, copy=False)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if arr.ndim not in (2, 3) or arr.size == 0:  # the header checks above should make this unreachable
        raise ImageReadError(f"{path}: TIFF page decoded to an array of shape {arr.shape}, not an image")
    return np.ascontiguousarray(arr), int(orientation)


def _tifffile_decodes(page) -> bool:
    """Whether tifffile decodes `page` itself: its compression and predictor need no imagecodecs."""
    from tifffile import TIFF

    return page.compression in TIFF.DECOMPRESSORS and page.predictor in TIFF.UNPREDICTORS


def _read_tiff_pillow(path, f, page, shape: tuple[int, ...], limits: dict, orientation: int) -> np.ndarray:
    """The first page of the TIFF `f` decoded by Pillow (libtiff), for a compression tifffile leaves to
    the imagecodecs package, as stored (EXIF orientation not applied). Only a result of the `shape` and
    dtype tifffile declared is returned, so the samples are those tifffile would give (Pillow reads
    16-bit RGB as 8-bit: refused)."""
    from PIL import TiffImagePlugin

    codec = getattr(page.compression, "name", str(page.compression))
    shape = shape if shape[2] > 1 else shape[:2]

    def differs(dtype, got_shape) -> ImageReadError:
        return ImageReadError(
            f"{path}: cannot decode TIFF file: its {codec} compression needs the imagecodecs package "
            f"(pip install imagecodecs) for {page.dtype} samples of shape {shape}; Pillow decodes them "
            f"as {dtype} {got_shape}"
        )

    try:
        # the plugin class, not Image.open: as for the other formats, Pillow's process-wide
        # decompression-bomb setting is neither consulted nor changed (the limits were checked above)
        with TiffImagePlugin.TiffImageFile(f, str(path)) as im:
            dtype = _PILLOW_DTYPES.get(im.mode, np.uint16 if im.mode.startswith("I;16") else np.uint8)
            if np.dtype(dtype) != page.dtype:  # found from the header: nothing decoded in vain
                raise differs(np.dtype(dtype), "(mode " + im.mode + ")")
            _check_size(path, im.width, im.height, *_pillow_layout(im), limits)
            # the samples as stored, as tifffile gives them (a palette's indices, CMYK, grey + alpha)
            arr = np.asarray(im, dtype=bool) if im.mode == "1" else np.asarray(im)
            arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        # Pillow turns a TIFF upright as it loads it; segen's caller does that (or not): undo it
        if orientation in _ORIENT:
            arr = np.ascontiguousarray(_ORIENT[_INVERSE_ORIENT.get(orientation, orientation)](arr))
    except (ImageReadError, MemoryError):
        raise
    except Exception as exc:
        raise ImageReadError(
            f"{path}: cannot decode TIFF file ({codec} compression, decoded by Pillow: "
            f"{type(exc).__name__}: {exc})"
        ) from exc
    if arr.shape != shape or arr.dtype != page.dtype:
        raise differs(arr.dtype, arr.shape)
    return arr


#: The dtype of the array a Pillow image of each mode becomes (:func:`_pillow_to_array`); other modes
#: ("I;16..." aside: uint16) become uint8.
_PILLOW_DTYPES = {"1": np.bool_, "I": np.int32, "F": np.float32}


# JPEG markers: start of frame (the coding processes Pillow's libjpeg may meet), restart, and what may
# follow the entropy-coded data of a scan (tables, another scan, comments, application data, the end).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_NO_END = "the file ends without an end-of-image marker"
_AFTER_SCAN = frozenset({0xC4, 0xCC, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xFE, *range(0xE0, 0xF0)})


def _jpeg_damage(data: bytes) -> str | None:
    """What in a JPEG's marker structure shows corrupt data, or None when it looks whole.

    Checks what a decoder can only conceal: bytes between segments, a marker inside the entropy-coded data
    that cannot be there, restart markers out of order or not as many as the restart interval needs, scan
    parameters a valid file cannot have, a component scanned twice or never. Costs one pass over the bytes
    in numpy and a Python step per segment. (A truncated file is reported too; the decoder raises on most.)
    """
    buf = np.frombuffer(data, np.uint8)
    n = len(buf)
    ff = np.flatnonzero(buf[:-1] == 0xFF)
    nxt = buf[ff + 1]
    is_rst = (nxt >= 0xD0) & (nxt <= 0xD7)
    ends = ff[(nxt != 0) & ~is_rst]  # inside entropy-coded data: FF 00 is a byte, FF Dn a restart
    rst = ff[is_rst]
    frame = None
    interval = 0
    scanned: set[int] = set()
    pos = 2  # after SOI
    while True:
        if pos >= n:
            return _NO_END
        if buf[pos] != 0xFF:
            k = np.searchsorted(ff, pos)
            stray = (int(ff[k]) if k < len(ff) else n) - pos
            return f"{stray} stray byte(s) before a marker at byte {pos}"
        while pos < n and buf[pos] == 0xFF:
            pos += 1
        if pos >= n:
            return _NO_END
        marker, at = int(buf[pos]), pos - 1
        pos += 1
        if marker == 0xD9:
            eoi = at
            break
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            return f"misplaced marker 0xFF{marker:02X} at byte {at}"
        if pos + 2 > n:
            return _NO_END
        length = int(buf[pos]) << 8 | int(buf[pos + 1])
        if length < 2 or pos + length > n:
            return f"segment 0xFF{marker:02X} at byte {at} of length {length} (the file has {n} bytes)"
        seg = data[pos + 2 : pos + length]
        if marker in _SOF:
            if frame is not None:
                return f"a second frame header at byte {at}"
            if len(seg) < 6 or len(seg) < 6 + 3 * seg[5]:
                return f"frame header at byte {at} shorter than its component count"
            comps = {seg[6 + 3 * i]: (seg[7 + 3 * i] >> 4, seg[7 + 3 * i] & 15) for i in range(seg[5])}
            height, width = struct.unpack(">HH", seg[1:5])
            frame = (marker in _PROGRESSIVE, comps, width, height)
        elif marker == 0xDD and len(seg) >= 2:
            interval = seg[0] << 8 | seg[1]
        elif marker == 0xDA:
            if frame is None:
                return f"a scan before the frame header at byte {at}"
            progressive, comps, width, height = frame
            ns = seg[0] if seg else 0
            if ns == 0 or len(seg) < 4 + 2 * ns:
                return f"scan header at byte {at} shorter than its component count"
            ids = [seg[1 + 2 * i] for i in range(ns)]
            ss, se, ah, al = seg[1 + 2 * ns], seg[2 + 2 * ns], seg[3 + 2 * ns] >> 4, seg[3 + 2 * ns] & 15
            if any(c not in comps for c in ids) or len(set(ids)) != ns:
                return f"scan at byte {at} of components {ids} the frame does not have"
            if not progressive:
                if (ss, se, ah, al) != (0, 63, 0, 0):
                    return f"scan at byte {at} with progressive parameters in a sequential JPEG"
                if scanned & set(ids):
                    return f"scan at byte {at} of a component already scanned"
            elif ss > se or se > 63 or (ss == 0) != (se == 0) or (ss > 0 and ns != 1):
                return f"scan at byte {at} with invalid progression parameters"
            scanned.update(ids)
            start = pos + length
            k = np.searchsorted(ends, start)
            if k == len(ends):
                return _NO_END
            end = int(ends[k])
            lo, hi = np.searchsorted(rst, [start, end])
            found = buf[rst[lo:hi] + 1].astype(np.int64) - 0xD0
            if interval == 0 and len(found):
                return f"{len(found)} restart marker(s) in a scan without a restart interval (byte {start})"
            if interval and height:
                hmax = max(h for h, _ in comps.values())
                vmax = max(v for _, v in comps.values())
                if ns > 1:
                    mcus = -(-width // (8 * hmax)) * -(-height // (8 * vmax))
                else:
                    h, v = comps[ids[0]]
                    mcus = -(-(-(-width * h // hmax)) // 8) * -(-(-(-height * v // vmax)) // 8)
                need = -(-mcus // interval) - 1
                wrong = np.flatnonzero(found != np.arange(len(found)) % 8)
                if len(wrong):
                    return f"restart marker out of order at byte {int(rst[lo + wrong[0]])}"
                if len(found) != need:
                    return (
                        f"{len(found)} restart markers in the scan at byte {at}, where its size needs {need}"
                    )
            pos = end
            while pos < n and buf[pos] == 0xFF:
                pos += 1
            if pos < n and int(buf[pos]) not in _AFTER_SCAN:
                return f"marker 0xFF{int(buf[pos]):02X} inside the image data at byte {end}"
            pos = end
            continue
        pos += length
    if frame is None:
        return None  # the decoder refuses a JPEG without a frame
    if not frame[0] and scanned != set(frame[1]):
        return "image data ends before every component was scanned"
    rest = data[pos:]
    if len(rest) > 2 and rest.endswith(b"\xff\xd9") and not rest.lstrip(b"\x00").startswith(b"\xff\xd8"):
        # trailing data is common (camera trailers, a second image), but not more entropy-coded data
        # that ends in its own end-of-image marker: an end marker inside the image data
        return f"an end-of-image marker at byte {eoi}, {len(rest)} bytes before the one that ends the file"
    return None


def imwrite(path, image, *, quality: int = 95) -> None:
    """Write an image to a PNG, JPEG, TIFF, WebP or BMP file, chosen by the file extension.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the extension (.png, .jpg/.jpeg, .tif/.tiff, .webp, .bmp: :data:`SUPPORTED_FORMATS`)
        selects the format. A symlink is followed: the file it points to is replaced, the link stays.
    image : (H, W) or (H, W, C) ndarray
        Grey, grey+alpha (C = 2), RGB (C = 3) or RGBA (C = 4), channels last, RGB order.
        PNG takes ``bool``, ``uint8`` and ``uint16``; JPEG takes ``uint8`` (grey or RGB); WebP takes
        ``uint8`` grey, RGB or RGBA (written lossless, exactly; grey is stored as RGB, so it reads back as
        RGB); BMP takes ``uint8`` grey or RGB; TIFF also takes ``float32``/``float64`` and ``int32``.
        Values are never rescaled: convert floats in [0, 1] yourself, e.g.
        ``(img * 255).round().astype(np.uint8)``.
    quality : int, optional
        JPEG quality 1..95 (default 95).

    Notes
    -----
    The file is written in the destination's folder and put in place with one rename, so a failed,
    interrupted or killed write never leaves a truncated `path` (an existing one stays as it was). On
    Linux the data goes to an unnamed file (``O_TMPFILE``) linked in only when complete, so a process
    killed mid-write (SIGKILL included) leaves nothing behind; elsewhere a hidden temporary file is used
    and removed on any exception (``KeyboardInterrupt`` included), though not when the process is killed.
    An existing file keeps its permission bits; a new one gets the umask's default, as ``open`` gives.

    Raises
    ------
    ValueError
        If the extension is unknown, the image shape does not fit the format, or `path` names something
        other than a regular file (a FIFO, a device).
    TypeError
        If the dtype cannot be stored in the format without rescaling.
    IsADirectoryError
        If `path` is a directory.
    """
    path = pathlib.Path(os.fspath(path))
    fmt = SUPPORTED_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidArgumentError(
            f"`path` must end in one of {', '.join(sorted(SUPPORTED_FORMATS))}; got {path.name!r}"
        )
    arr = _image_to_write(image)
    _atomic_write(path, _encoder(fmt, arr, quality))


def imencode(image, format: str = "png", *, quality: int = 95) -> bytes:
    """The bytes of an image file, as :func:`imwrite` would write it (for an HTTP response or stdout).

    Parameters
    ----------
    image : (H, W) or (H, W, C) ndarray
        As for :func:`imwrite`.
    format : str, optional
        ``"png"`` (default), ``"jpeg"``/``"jpg"``, ``"tiff"``/``"tif"``, ``"webp"`` or ``"bmp"``, with or
        without a leading dot (a file extension of :data:`SUPPORTED_FORMATS`).
    quality : int, optional
        JPEG quality 1..95 (default 95).

    Returns
    -------
    data : bytes
        The encoded file; :func:`imdecode` reads it back.

    Raises
    ------
    ValueError, TypeError
        As for :func:`imwrite`; a `format` not written names the formats that are.
    """
    key = format.lower() if isinstance(format, str) else None
    fmt = None if key is None else SUPPORTED_FORMATS.get(key if key.startswith(".") else f".{key}")
    if fmt is None:
        names = ", ".join(sorted({k.lstrip(".") for k in SUPPORTED_FORMATS}))
        raise InvalidArgumentError(f"`format` must be one of {names}; got {format!r}")
    save = _encoder(fmt, _image_to_write(image), quality)
    out = _io.BytesIO()
    save(out)
    return out.getvalue()


def _as_array(value, name: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise DTypeError(f"`{name}` must be an array of numbers; got {type(value).__name__}") from exc


def _image_to_write(image) -> np.ndarray:
    """`image` as an (H, W) or (H, W, C >= 2) array, checked for a shape every format may take."""
    arr = _as_array(image, "image")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise InvalidArgumentError(
            f"`image` must be (H, W) or (H, W, C) with C in 1..4; got shape {tuple(arr.shape)}"
        )
    if arr.size == 0:
        raise InvalidArgumentError(f"`image` must be non-empty; got shape {tuple(arr.shape)}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return arr


#: O_TMPFILE files can be linked into place through /proc/self/fd (Linux); elsewhere a named temp file.
_TMPFILE = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


def _atomic_write(path: pathlib.Path, save: Callable) -> None:
    """Run ``save(file)`` into a new file that replaces `path` (or the file a symlink `path` points to)
    only once it is complete; keep an existing file's permission bits."""
    target = path
    if os.path.islink(path):  # write what the link points to, keep the link
        target = pathlib.Path(os.path.realpath(path))
        if os.path.islink(target):
            raise OSError(errno.ELOOP, f"cannot write {path}: symlink loop", os.fspath(path))
    mode = None
    try:
        st = os.stat(target)
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, f"cannot write {path}: it is a directory", os.fspath(path))
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgumentError(
                f"`path` {path} is {_kind(st.st_mode)}; imwrite replaces only regular files"
            )
        mode = stat.S_IMODE(st.st_mode)
    if _TMPFILE:
        try:
            fd = os.open(target.parent, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o666)
        except OSError as exc:  # a file system without O_TMPFILE: the named temporary file below
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise
        else:
            try:
                with os.fdopen(fd, "wb", closefd=False) as f:
                    save(f)
                if mode is not None:
                    os.fchmod(fd, mode)
                _link_into_place(fd, target)
            finally:
                os.close(fd)
            return
    tmp = _temp_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            save(f)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _link_into_place(fd: int, target: pathlib.Path) -> None:
    # os.link needs a dir_fd to call linkat(AT_SYMLINK_FOLLOW), which links the file /proc/self/fd/N is
    # (plain link() would try to link the /proc symlink itself: EXDEV)
    source = f"/proc/self/fd/{fd}"
    folder = os.open(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    try:
        try:
            os.link(source, target.name, dst_dir_fd=folder, follow_symlinks=True)  # appears complete
            return
        except FileExistsError:
            pass
        tmp = _temp_name(target).name  # replacing: link beside it, then rename over it (one syscall apart)
        os.link(source, tmp, dst_dir_fd=folder, follow_symlinks=True)
        try:
            os.replace(tmp, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            _unlink_quietly(tmp, folder)
            raise
    finally:
        os.close(folder)


def _temp_name(target: pathlib.Path) -> pathlib.Path:
    token = os.urandom(4).hex()
    return target.with_name(
        f".{target.stem}.{os.getpid()}.{threading.get_ident()}.{token}.tmp{target.suffix}"
    )


def _unlink_quietly(path, dir_fd: int | None = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except OSError:
        pass


def _encoder(fmt: str, arr: np.ndarray, quality) -> Callable:
    """Check `arr` against `fmt` and return ``save(file)`` writing it in that format to a binary file."""
    if fmt == "tiff":
        if arr.dtype.kind not in "buif" or arr.dtype.itemsize > 8:
            raise DTypeError(f"`image` dtype {arr.dtype} cannot be written to TIFF")
        import tifffile

        photometric = "rgb" if arr.ndim == 3 and arr.shape[2] in (3, 4) else "minisblack"
        extra = {"extrasamples": ["unassalpha"]} if arr.ndim == 3 and arr.shape[2] == 4 else {}
        return lambda f: tifffile.imwrite(
            tifffile.FileHandle(f, name="image.tif"),  # named: tifffile takes a name apart
            np.ascontiguousarray(arr),
            photometric=photometric,
            **extra,
        )
    allowed = {"png": (np.bool_, np.uint8, np.uint16)}.get(fmt, (np.uint8,))
    if arr.dtype.type not in allowed:
        names = ", ".join(np.dtype(t).name for t in allowed)
        raise DTypeError(
            f"`image` must have dtype {names} for {fmt.upper()}; got {arr.dtype} (segen does not rescale: "
            "convert explicitly, e.g. (img * 255).round().astype(np.uint8) for floats in [0, 1])"
        )
    channels = {"jpeg": (3,), "bmp": (3,), "webp": (3, 4)}.get(fmt)
    if channels is not None and arr.ndim == 3 and arr.shape[2] not in channels:
        what = {(3,): "grey or RGB", (3, 4): "grey, RGB or RGBA"}[channels]
        raise InvalidArgumentError(f"{fmt.upper()} stores {what} images; got {arr.shape[2]} channels")
    if fmt == "jpeg" and not (1 <= int(quality) <= 95):
        raise InvalidArgumentError(f"`quality` must be in 1..95; got {quality}")
    if arr.dtype == np.uint16 and arr.ndim == 3:
        return lambda f: _write_png16(f, arr)
    from PIL import Image

    if arr.dtype == np.bool_:
        im = Image.fromarray(arr.astype(np.uint8) * 255).convert("1")
    else:  # uint8: Pillow picks L, LA, RGB or RGBA from the shape; uint16 grey: I;16
        im = Image.fromarray(np.ascontiguousarray(arr))
    kwargs = {
        "jpeg": {"quality": int(quality)},
        # exact: keep the colour under fully transparent pixels (a cut-out's background) as given
        "webp": {"lossless": True, "exact": True},
    }.get(fmt, {})
    return lambda f: im.save(f, format=fmt.upper(), **kwargs)


def write_labels(path, labels) -> pathlib.Path:
    """Write a label image losslessly in the smallest format that holds it: an 8-bit PNG when the labels
    fit, 16-bit PNG up to 65535, else a 32-bit TIFF (`path` with a ``.tif`` suffix).

    Parameters
    ----------
    path : str or os.PathLike
        Destination (a ``.png`` name; changed to ``.tif`` past 65535 labels).
    labels : (H, W) ndarray of int or bool
        Labels 0 (background) .. :data:`MAX_LABEL` (2**31 - 1, the int32 that segen's label images use).

    Returns
    -------
    path : pathlib.Path
        The file written (atomically, as :func:`imwrite` writes).

    Raises
    ------
    TypeError
        If `labels` is not an integer (or bool) array: float labels are refused, not truncated.
    ValueError
        If `labels` is not 2-D and non-empty, has a negative label, or one over :data:`MAX_LABEL`.
    """
    path = pathlib.Path(os.fspath(path))
    arr = _label_array(labels)
    if arr.dtype == np.int32:
        path = path.with_suffix(".tif")
    imwrite(path, arr)
    return path


def encode_labels(labels) -> tuple[bytes, str]:
    """The bytes of the file :func:`write_labels` writes, and its extension.

    Returns
    -------
    data : bytes
        An 8-bit PNG when the labels fit, a 16-bit PNG up to 65535, else a 32-bit TIFF.
    extension : str
        ``".png"`` or ``".tif"``.

    Raises
    ------
    TypeError, ValueError
        As for :func:`write_labels`.
    """
    arr = _label_array(labels)
    fmt = "tiff" if arr.dtype == np.int32 else "png"
    return imencode(arr, fmt), ".tif" if fmt == "tiff" else ".png"


def _label_array(labels) -> np.ndarray:
    """`labels` checked and cast to the smallest of uint8, uint16 and int32 that holds them."""
    labels = _as_array(labels, "labels")
    if labels.dtype == np.bool_:
        labels = labels.view(np.uint8)
    if labels.dtype.kind not in "iu":
        hint = (
            " (round and cast float labels yourself if they are whole numbers)"
            if labels.dtype.kind == "f"
            else ""
        )
        raise DTypeError(f"`labels` must be an integer array; got dtype {labels.dtype}{hint}")
    if labels.ndim != 2 or labels.size == 0:
        raise InvalidArgumentError(
            f"`labels` must be a non-empty (H, W) array; got shape {tuple(labels.shape)}"
        )
    low, top = int(labels.min()), int(labels.max())
    if low < 0:
        raise InvalidArgumentError(f"`labels` must be >= 0 (0 is the background); got a label of {low}")
    if top > MAX_LABEL:
        raise InvalidArgumentError(
            f"`labels` must be <= {MAX_LABEL} (int32, the largest a label file holds); got a label of {top}"
        )
    return labels.astype(np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.int32)


def _write_png16(f, arr: np.ndarray) -> None:
    import png  # pypng

    h, w, c = arr.shape
    writer = png.Writer(width=w, height=h, bitdepth=16, greyscale=c <= 2, alpha=c in (2, 4))
    writer.write(f, arr.reshape(h, w * c))
