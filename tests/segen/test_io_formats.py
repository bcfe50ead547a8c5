"""segen.io beyond PNG/JPEG/TIFF: the other formats Pillow reads, EXIF orientation, bytes and streams."""

import io as _io

import numpy as np
import pytest
from PIL import Image, ImageOps
from segen import io
from segen.errors import ImageLimitError, ImageReadError


def _encode(arr, fmt, **kwargs) -> bytes:
    buf = _io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **kwargs)
    return buf.getvalue()


def _exif(code: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = code
    return exif


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG", "TIFF"])
@pytest.mark.parametrize("code", range(1, 9))
def test_exif_orientation_matches_pillows_exif_transpose(rng, fmt, code):
    """Each of the 8 orientations, in each format that carries EXIF, gives what Pillow's own
    ImageOps.exif_transpose gives (the reference), and exif_orientation=False the pixels as stored."""
    img = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    kwargs = {"quality": 100} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    data = _encode(img, fmt, exif=_exif(code), **kwargs)
    with Image.open(_io.BytesIO(data)) as im:
        stored = np.asarray(im.convert("RGB"))
        upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    if fmt == "TIFF":  # Pillow turns a TIFF upright as it loads it: the stored pixels from tifffile
        import tifffile

        stored = tifffile.imread(_io.BytesIO(data))
    assert upright.shape == ((9, 6, 3) if code >= 5 else (6, 9, 3))
    np.testing.assert_array_equal(io.imdecode(data), upright)
    np.testing.assert_array_equal(io.imdecode(data, exif_orientation=False), stored)


def test_a_phone_photo_comes_out_upright(tmp_path, astronaut):
    """A portrait JPEG stored sideways (orientation 6, as phones write) reads back tall, and its top row is
    the stored image's left column read bottom to top."""
    sideways = np.ascontiguousarray(np.rot90(astronaut[:200, :300], 1))  # what the sensor stored
    path = tmp_path / "phone.jpg"
    Image.fromarray(sideways).save(path, quality=95, exif=_exif(6))
    stored = io.imread(path, exif_orientation=False)
    upright = io.imread(path)
    assert stored.shape == (300, 200, 3) and upright.shape == (200, 300, 3)
    np.testing.assert_array_equal(upright, np.rot90(stored, -1))
    # the photo itself is back as it was taken (JPEG loss aside)
    assert np.abs(upright.astype(int) - astronaut[:200, :300]).mean() < 3


def test_bad_exif_is_ignored_not_fatal(rng):
    img = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    for value in (0, 9, 65535):
        np.testing.assert_array_equal(io.imdecode(_encode(img, "PNG", exif=_exif(value))), img)


@pytest.mark.parametrize("shape", [(13, 17), (13, 17, 3), (13, 17, 4)])
def test_webp_round_trip_is_exact(tmp_path, rng, shape):
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    io.imwrite(tmp_path / "x.webp", img)
    back = io.imread(tmp_path / "x.webp")
    expected = np.stack([img] * 3, axis=-1) if img.ndim == 2 else img  # grey is stored as RGB
    np.testing.assert_array_equal(back, expected)
    with Image.open(tmp_path / "x.webp") as im:  # a real WebP file, by Pillow's reading
        assert im.format == "WEBP"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "tiff", "webp", "bmp"])
def test_imencode_imdecode_round_trip(rng, fmt):
    img = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    data = io.imencode(img, fmt)
    with Image.open(_io.BytesIO(data)) as im:
        assert im.format == {"jpeg": "JPEG", "tiff": "TIFF"}.get(fmt, fmt.upper())
        ref = np.asarray(im)
    back = io.imdecode(data)
    np.testing.assert_array_equal(back, ref)
    if fmt != "jpeg":
        np.testing.assert_array_equal(back, img)
    assert io.imencode(img, f".{fmt}") == data


@pytest.mark.parametrize(
    "fmt, kwargs",
    [("BMP", {}), ("GIF", {}), ("PPM", {}), ("TGA", {}), ("QOI", {}), ("PCX", {}), ("SGI", {}), ("ICO", {})],
)
def test_reads_other_pillow_formats(tmp_path, fmt, kwargs):
    """Files Pillow writes in its other formats read back as Pillow reads them (RGB)."""
    img = np.zeros((16, 16, 3), np.uint8)
    img[2:10, 3:12] = (200, 30, 60)
    img[12:, :] = (10, 220, 90)
    path = tmp_path / f"x.{fmt.lower()}"
    Image.fromarray(img).save(path, fmt, **kwargs)
    got = io.imread(path)
    with Image.open(path) as im:
        ref = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(got[..., :3], ref)
    np.testing.assert_array_equal(got[..., :3], img)  # these formats store 3 colours losslessly


def test_gif_first_frame_and_16_bit_pgm(tmp_path):
    frames = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (40, 200)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=50)
    got = io.imread(tmp_path / "a.gif")
    assert got.shape == (8, 8, 3) and (got == 40).all()
    grey16 = (np.arange(48, dtype=np.uint16) * 1000).reshape(6, 8)
    Image.fromarray(grey16).save(tmp_path / "a.pgm")
    back = io.imread(tmp_path / "a.pgm")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, grey16)


def test_limits_hold_for_every_format_before_decoding():
    """The pixel limit refuses a WebP, BMP or GIF from its header; Pillow's own global limit is not
    changed."""
    before = Image.MAX_IMAGE_PIXELS
    img = np.zeros((20, 30, 3), np.uint8)
    for fmt, kwargs in (("WEBP", {"lossless": True}), ("WEBP", {"quality": 80}), ("BMP", {}), ("GIF", {})):
        data = _encode(img, fmt, **kwargs)
        with pytest.raises(ImageLimitError, match="600 pixels exceeds `max_pixels` \\(599\\)"):
            io.imdecode(data, max_pixels=599)
        assert io.imdecode(data, max_pixels=600).shape == (20, 30, 3)
    assert Image.MAX_IMAGE_PIXELS == before


def test_a_webp_canvas_is_checked_before_the_decoder_allocates_it():
    """A 40-byte WebP declaring a 16000 x 16000 canvas (1 GB of RGBA, which Pillow's decoder allocates on
    opening) is refused from its header, not handed to the decoder."""
    vp8x = b"VP8X" + (10).to_bytes(4, "little") + b"\0" * 4
    vp8x += (15999).to_bytes(3, "little") * 2
    data = b"RIFF" + (4 + len(vp8x)).to_bytes(4, "little") + b"WEBP" + vp8x
    with pytest.raises(ImageLimitError, match="16000 x 16000 = 256000000 pixels exceeds `max_pixels`"):
        io.imdecode(data, max_pixels=10_000_000)


def test_pillows_own_limit_is_a_limit_error(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(ImageLimitError, match="Pillow's limit for WEBP"):
        io.imdecode(_encode(np.zeros((20, 30, 3), np.uint8), "WEBP"))


def test_a_bmp_bomb_is_refused_from_its_header():
    """A 54-byte BMP header declaring 100000 x 100000 pixels: refused before a byte is allocated."""
    header = b"BM" + (0).to_bytes(4, "little") + b"\0\0\0\0" + (54).to_bytes(4, "little")
    info = (40).to_bytes(4, "little") + (100000).to_bytes(4, "little", signed=True) * 2
    info += (1).to_bytes(2, "little") + (24).to_bytes(2, "little") + b"\0" * 24
    with pytest.raises(ImageLimitError, match="100000 x 100000"):
        io.imdecode(header + info)


def test_formats_not_read_are_refused_cleanly(tmp_path):
    """EPS would run Ghostscript: it is not one of the formats read; nor is text."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(ImageReadError, match="<bytes>: not an image file"):
        io.imdecode(eps)
    (tmp_path / "x.webp").write_text("<html>not found</html>")
    with pytest.raises(ImageReadError, match="x.webp: not an image file.*looks like HTML"):
        io.imread(tmp_path / "x.webp")
    good = io.imencode(np.zeros((40, 40, 3), np.uint8), "webp")
    with pytest.raises(ImageReadError, match="cannot decode"):
        io.imdecode(good[: len(good) // 2])


class _Stream:
    """A binary stream of `total` bytes of a PNG followed by zeros, counting what is read."""

    def __init__(self, data: bytes, total: int):
        self.data, self.total, self.given, self.name = data, total, 0, "<stdin>"

    def read(self, n=-1):
        n = self.total - self.given if n is None or n < 0 else min(n, self.total - self.given)
        out = (self.data + b"\0" * self.total)[self.given : self.given + n]
        self.given += n
        return out


def test_imdecode_reads_streams_with_a_cap():
    img = np.arange(48, dtype=np.uint8).reshape(6, 8)
    png = io.imencode(img)
    np.testing.assert_array_equal(io.imdecode(_Stream(png, len(png))), img)
    np.testing.assert_array_equal(io.imdecode(_io.BytesIO(png)), img)
    np.testing.assert_array_equal(io.imdecode(memoryview(png)), img)
    huge = _Stream(png, 10_000_000)
    with pytest.raises(ImageLimitError, match="<stdin>: data of more than 1000 bytes"):
        io.imdecode(huge, max_file_bytes=1000)
    assert huge.given <= 1001  # stopped reading at the cap
    with pytest.raises(ImageLimitError, match="max_file_bytes"):
        io.imdecode(png, max_file_bytes=len(png) - 1)


def test_empty_data_says_so(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="^.*x.png: not an image file: it is empty \\(0 bytes\\)$"):
        io.imread(tmp_path / "x.png")
    with pytest.raises(ImageReadError, match="^<stdin>: not an image file: it is empty \\(0 bytes\\)$"):
        io.imdecode(_Stream(b"", 0))


def test_imdecode_and_imencode_bad_arguments():
    with pytest.raises(TypeError, match="`data` must be bytes"):
        io.imdecode("photo.png")
    with pytest.raises(TypeError, match="sys.stdin.buffer"):
        io.imdecode(_io.StringIO("text"))
    with pytest.raises(ValueError, match="`exif_orientation`"):
        io.imdecode(b"", exif_orientation="yes")
    with pytest.raises(ValueError, match="`format` must be one of bmp, jpeg, jpg, png, tif, tiff, webp"):
        io.imencode(np.zeros((2, 2), np.uint8), "gif")
    with pytest.raises(ValueError, match="WEBP stores grey, RGB or RGBA"):
        io.imencode(np.zeros((2, 2, 2), np.uint8), "webp")
    with pytest.raises(TypeError, match="`image` must be an array of numbers"):
        io.imencode([[1, 2], [3]])
    with pytest.raises(TypeError, match="`labels` must be an array of numbers"):
        io.encode_labels([[1, 2], [3]])


def test_encode_labels_is_what_write_labels_writes(tmp_path):
    for top, ext in ((255, ".png"), (65535, ".png"), (70000, ".tif")):
        labels = np.zeros((3, 4), np.int64)
        labels[1, 2] = top
        data, suffix = io.encode_labels(labels)
        written = io.write_labels(tmp_path / f"l{top}.png", labels)
        assert suffix == ext == written.suffix and written.read_bytes() == data
        np.testing.assert_array_equal(io.imdecode(data), labels)


@pytest.fixture
def without_imagecodecs(monkeypatch):
    """As where imagecodecs is not installed (whether or not it is here): tifffile decodes uncompressed,
    Deflate and PackBits pages itself and leaves LZW, JPEG and CCITT fax ones to Pillow."""
    original = io._tifffile_decodes
    monkeypatch.setattr(
        io, "_tifffile_decodes", lambda page: original(page) and int(page.compression) not in (2, 3, 4, 5, 7)
    )


@pytest.mark.parametrize(
    "mode, compression",
    [
        ("RGB", "tiff_lzw"),
        ("RGBA", "tiff_lzw"),
        ("L", "tiff_lzw"),
        ("I;16", "tiff_lzw"),
        ("F", "tiff_lzw"),
        ("1", "tiff_lzw"),
        ("1", "group4"),
        ("RGB", "jpeg"),
    ],
)
def test_tiff_compressions_tifffile_leaves_to_imagecodecs(
    without_imagecodecs, tmp_path, rng, mode, compression
):
    """LZW (GIMP's and many scanners' default), JPEG-in-TIFF and CCITT fax TIFFs read as Pillow (libtiff,
    the reference) reads them, dtype included, whether or not imagecodecs is installed; lossless ones give
    back exactly what was written."""
    h, w = 37, 53
    if mode == "F":
        img = rng.random((h, w), dtype=np.float32)
    elif mode == "I;16":
        img = rng.integers(0, 65536, (h, w), dtype=np.uint16)
    elif mode == "1":
        img = rng.random((h, w)) < 0.5
    else:
        img = rng.integers(0, 256, (h, w, len(mode)) if len(mode) > 1 else (h, w), dtype=np.uint8)
    pil = Image.fromarray(img, "RGB") if compression == "jpeg" else Image.fromarray(img)
    path = tmp_path / "c.tif"
    pil.save(path, compression=compression, **({"quality": 90} if compression == "jpeg" else {}))
    with Image.open(path) as im:
        ref = np.asarray(im)
    got = io.imread(path)
    assert got.dtype == img.dtype and got.shape == img.shape
    np.testing.assert_array_equal(got, ref)
    if compression != "jpeg":
        np.testing.assert_array_equal(got, img)
    assert io.imdecode(path.read_bytes()).shape == img.shape


def test_lzw_tiff_orientation_pages_and_damage(without_imagecodecs, tmp_path, rng):
    """An LZW TIFF keeps the rest of the TIFF rules: EXIF orientation applied, only the first page read,
    the pixel limit checked from the header, damage an ImageReadError."""
    import tifffile

    first = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    second = np.zeros((6, 9, 3), np.uint8)
    path = tmp_path / "pages.tif"
    Image.fromarray(first).save(
        path, compression="tiff_lzw", save_all=True, append_images=[Image.fromarray(second)]
    )
    np.testing.assert_array_equal(io.imread(path), first)
    with pytest.raises(ImageLimitError, match="max_pixels"):
        io.imread(path, max_pixels=53)
    Image.fromarray(first).save(path, compression="tiff_lzw", exif=_exif(6))
    np.testing.assert_array_equal(io.imread(path), np.rot90(first, -1))
    np.testing.assert_array_equal(io.imread(path, exif_orientation=False), first)
    big = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    Image.fromarray(big).save(path, compression="tiff_lzw")
    with tifffile.TiffFile(path) as tif:
        start = tif.pages[0].dataoffsets[1]
    data = bytearray(path.read_bytes())
    data[start : start + 2000] = b"\xff" * 2000  # the second strip's codes: garbage
    path.write_bytes(data)
    with pytest.raises(ImageReadError, match="pages.tif: cannot decode TIFF file \\(LZW compression"):
        io.imread(path)


@pytest.mark.parametrize("mode", ["P", "CMYK", "LA"])
def test_lzw_tiff_gives_the_samples_tifffile_gives(without_imagecodecs, tmp_path, rng, mode):
    """A palette, CMYK or grey + alpha LZW TIFF (decoded by Pillow) reads as the same file uncompressed
    (decoded by tifffile): the samples as stored, palette indices included."""
    pil = Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)).convert(mode)
    pil.save(tmp_path / "plain.tif")
    pil.save(tmp_path / "lzw.tif", compression="tiff_lzw")
    plain = io.imread(tmp_path / "plain.tif")
    np.testing.assert_array_equal(io.imread(tmp_path / "lzw.tif"), plain)
    np.testing.assert_array_equal(plain, np.asarray(pil))


@pytest.mark.parametrize("code", range(1, 9))
def test_lzw_tiff_orientation_is_the_uncompressed_tiffs(without_imagecodecs, rng, code):
    """Pillow turns a TIFF upright as it loads it: an LZW TIFF still reads as the same image written
    uncompressed (read by tifffile), each EXIF orientation applied once, or not at all when asked."""
    img = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    plain = _encode(img, "TIFF", exif=_exif(code))
    lzw = _encode(img, "TIFF", exif=_exif(code), compression="tiff_lzw")
    for orient in (True, False):
        want = io.imdecode(plain, exif_orientation=orient)
        np.testing.assert_array_equal(io.imdecode(lzw, exif_orientation=orient), want)
    np.testing.assert_array_equal(io.imdecode(lzw, exif_orientation=False), img)


def test_a_tiff_pillow_would_decode_differently_is_refused(without_imagecodecs, tmp_path, rng):
    """16-bit RGB with LZW: Pillow would give 8 bits per sample. Refused (naming imagecodecs) rather than
    returned with a dtype other than the file's."""
    import tifffile

    img = rng.integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    path = tmp_path / "rgb16.tif"
    tifffile.imwrite(path, img, photometric="rgb")
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[0].tags["Compression"].valueoffset
    data = bytearray(path.read_bytes())
    data[offset : offset + 2] = (5).to_bytes(2, "little")  # says LZW; the strips are not LZW data
    with pytest.raises(ImageReadError, match="needs the imagecodecs package .* for uint16 samples"):
        io.imdecode(bytes(data))
