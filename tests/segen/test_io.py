import struct
import zlib

import numpy as np
import pytest
import segen
from segen.errors import ImageReadError


def _shapes():
    return [(31, 47), (31, 47, 3), (31, 47, 4)]


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", _shapes())
def test_lossless_round_trip(tmp_path, rng, ext, dtype, shape):
    img = rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)
    path = tmp_path / f"img{ext}"
    segen.io.imwrite(path, img)
    back = segen.io.imread(path)
    assert back.dtype == dtype
    assert back.shape == shape
    np.testing.assert_array_equal(back, img)


def test_png16_grey_alpha_becomes_rgba(tmp_path, rng):
    img = rng.integers(0, 65535, size=(8, 9, 2)).astype(np.uint16)
    segen.io.imwrite(tmp_path / "a.png", img)
    back = segen.io.imread(tmp_path / "a.png")
    assert back.shape == (8, 9, 4)
    np.testing.assert_array_equal(back[..., 0], img[..., 0])
    np.testing.assert_array_equal(back[..., 2], img[..., 0])
    np.testing.assert_array_equal(back[..., 3], img[..., 1])


def test_float_tiff_round_trip(tmp_path, rng):
    img = rng.random((20, 30, 3)).astype(np.float32)
    segen.io.imwrite(tmp_path / "f.tiff", img)
    back = segen.io.imread(tmp_path / "f.tiff")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, img)


def test_bool_png(tmp_path):
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    segen.io.imwrite(tmp_path / "m.png", mask)
    back = segen.io.imread(tmp_path / "m.png")
    np.testing.assert_array_equal(back.astype(bool), mask)


@pytest.mark.parametrize("shape", [(64, 80), (64, 80, 3)])
def test_jpeg_round_trip_is_close(tmp_path, astronaut, shape):
    img = astronaut[:64, :80] if len(shape) == 3 else astronaut[:64, :80, 1].copy()
    segen.io.imwrite(tmp_path / "p.jpg", img, quality=95)
    back = segen.io.imread(tmp_path / "p.jpg")
    assert back.shape == img.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - img).mean() < 3.0  # lossy, but close at quality 95


def test_reads_what_other_libraries_write(tmp_path, astronaut):
    # RGB order is kept: a file written by Pillow reads back identically (no BGR swap).
    from PIL import Image

    Image.fromarray(astronaut).save(tmp_path / "pil.png")
    np.testing.assert_array_equal(segen.io.imread(tmp_path / "pil.png"), astronaut)
    # palette PNG -> RGB
    Image.fromarray(astronaut).quantize(16).save(tmp_path / "pal.png")
    pal = segen.io.imread(tmp_path / "pal.png")
    assert pal.shape == astronaut.shape and pal.dtype == np.uint8


def _png_bytes(width, height, payload=b"\x00"):
    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(payload))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused_before_decoding(tmp_path):
    # A 100-byte file that claims 100000 x 100000 pixels (10 GB decoded).
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_bytes(100_000, 100_000))
    assert path.stat().st_size < 200
    with pytest.raises(ImageReadError, match="max_pixels"):
        segen.io.imread(path)


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg"])
def test_pixel_limit_parameter_and_env(tmp_path, monkeypatch, ext):
    path = tmp_path / f"small{ext}"
    segen.io.imwrite(path, np.zeros((20, 20), np.uint8))
    with pytest.raises(ImageReadError, match="400 pixels exceeds `max_pixels` \\(100\\)"):
        segen.io.imread(path, max_pixels=100)
    monkeypatch.setenv("SEGEN_MAX_IMAGE_PIXELS", "399")
    with pytest.raises(ImageReadError, match="max_pixels"):
        segen.io.imread(path)
    assert segen.io.imread(path, max_pixels=400).shape == (20, 20)


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        segen.io.imread(tmp_path / "nope.png")
    (tmp_path / "text.png").write_text("hello, not an image")
    with pytest.raises(ImageReadError, match="not an image file"):
        segen.io.imread(tmp_path / "text.png")
    good = tmp_path / "good.png"
    segen.io.imwrite(good, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:120])
    with pytest.raises(ImageReadError, match="cannot decode"):
        segen.io.imread(truncated)
    with pytest.raises(ValueError, match="max_pixels"):
        segen.io.imread(good, max_pixels=0)


@pytest.mark.parametrize(
    "name, image, exc, match",
    [
        ("x.gif", np.zeros((4, 4), np.uint8), ValueError, "`path`"),
        ("x.bmp", np.zeros((4, 4, 4), np.uint8), ValueError, "BMP stores grey or RGB"),
        ("x.webp", np.zeros((4, 4), np.uint16), TypeError, "uint8"),
        ("x.png", np.zeros((4, 4), np.float32), TypeError, "does not rescale"),
        ("x.jpg", np.zeros((4, 4), np.uint16), TypeError, "uint8"),
        ("x.jpg", np.zeros((4, 4, 4), np.uint8), ValueError, "channels"),
        ("x.png", np.zeros((4, 4, 5), np.uint8), ValueError, "`image`"),
        ("x.png", np.zeros((0, 4), np.uint8), ValueError, "non-empty"),
        ("x.tif", np.zeros((4, 4), complex), TypeError, "TIFF"),
    ],
)
def test_write_errors(tmp_path, name, image, exc, match):
    with pytest.raises(exc, match=match):
        segen.io.imwrite(tmp_path / name, image)


def test_write_labels_picks_the_smallest_lossless_format_and_writes_atomically(tmp_path, monkeypatch):
    io = segen.io
    small = np.arange(12, dtype=np.int32).reshape(3, 4)
    p = io.write_labels(tmp_path / "a_labels.png", small)
    assert p.name == "a_labels.png" and io.imread(p).dtype == np.uint8
    np.testing.assert_array_equal(io.imread(p), small)
    mid = small * 1000
    np.testing.assert_array_equal(io.imread(io.write_labels(tmp_path / "b.png", mid)), mid)
    big = small * 100000
    q = io.write_labels(tmp_path / "c.png", big)
    assert q.suffix == ".tif"
    np.testing.assert_array_equal(io.imread(q), big)
    # a write that fails half-way leaves the existing file as it was and no temporary file
    from PIL import Image

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        io.imwrite(p, np.zeros((3, 4), np.uint8))
    monkeypatch.undo()
    np.testing.assert_array_equal(io.imread(p), small)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a_labels.png", "b.png", "c.tif"]
