"""segen.io against hostile and careless files (RELIABILITY.md 3.3, F1-F10; issue 14).

Every hostile file is built here, in tmp_path, with Pillow, tifffile or by hand; each test names the error
type and checks that the message names the file or the parameter.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import numpy as np
import pytest
from segen import io
from segen.errors import (
    DTypeError,
    ImageFileNotFoundError,
    ImageIsADirectoryError,
    ImageLimitError,
    ImageReadError,
    ImageReadWarning,
    InvalidArgumentError,
    ResourceLimitError,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file types and signals")


def _in_thread(fn, timeout=20.0):
    """Run ``fn()`` in a daemon thread; (finished, result or exception). A hang fails, not blocks."""
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), out.get("error", out.get("value"))


def _png(width, height, depth=8, colour=0, idat=b"\x00"):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return _PNG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(idat)) + chunk(b"IEND", b"")


_PNG = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------- paths (F8)


@posix_only
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    finished, result = _in_thread(lambda: io.imread(fifo))
    assert finished, "imread blocked on a FIFO"
    assert isinstance(result, ImageReadError)
    assert "pipe.png" in str(result) and "FIFO" in str(result)


@posix_only
def test_fifo_swapped_in_after_stat_is_caught_by_fstat(tmp_path, monkeypatch):
    # os.stat says "regular file" (the file was swapped after it): the check on the opened descriptor
    # still refuses, and the non-blocking open does not hang
    fifo = tmp_path / "swapped.png"
    os.mkfifo(fifo)
    regular = os.stat(__file__)
    monkeypatch.setattr(io.os, "stat", lambda *a, **k: regular)
    finished, result = _in_thread(lambda: io.imread(fifo))
    assert finished and isinstance(result, ImageReadError)
    assert "swapped.png" in str(result) and "not a regular file" in str(result)


@posix_only
def test_segment_command_on_a_fifo_reports_it(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "segen", "segment", str(fifo), "-m", "kmeans", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "pipe.png" in proc.stderr and "FIFO" in proc.stderr


@posix_only
def test_device_is_refused(tmp_path):
    with pytest.raises(ImageReadError, match="/dev/zero is a character device"):
        io.imread("/dev/zero")


def test_path_errors_are_builtin_and_image_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png") as info:
        io.imread(tmp_path / "nope.png")
    assert isinstance(info.value, ImageReadError) and isinstance(info.value, ImageFileNotFoundError)
    assert info.value.errno == 2 and info.value.filename == str(tmp_path / "nope.png")
    with pytest.raises(IsADirectoryError, match=tmp_path.name) as info:
        io.imread(tmp_path)
    assert isinstance(info.value, ImageIsADirectoryError) and isinstance(info.value, ImageReadError)


@posix_only
def test_symlink_loop_is_an_image_read_error(tmp_path):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    with pytest.raises(ImageReadError, match="loop.png"):
        io.imread(loop)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_permission_error(tmp_path):
    path = tmp_path / "secret.png"
    io.imwrite(path, np.zeros((4, 4), np.uint8))
    path.chmod(0)
    with pytest.raises(PermissionError, match="secret.png") as info:
        io.imread(path)
    assert isinstance(info.value, ImageReadError)


def test_html_saved_as_png_says_so(tmp_path):
    path = tmp_path / "page.png"
    path.write_text("<!DOCTYPE html><html><body>404</body></html>")
    with pytest.raises(ImageReadError, match="page.png: not an image file.*\\(looks like HTML"):
        io.imread(path)


# ------------------------------------------------------------------------------------ decode limits (F2)


def test_16bit_rgba_png_inside_the_pixel_limit_is_refused_by_decoded_bytes(tmp_path):
    # 65535 x 4096 = 268 million pixels, just inside max_pixels, but 2 GiB decoded (took ~50 s and 6 GB)
    path = tmp_path / "wide16.png"
    path.write_bytes(_png(65535, 4096, depth=16, colour=6))
    assert 65535 * 4096 <= io.DEFAULT_MAX_PIXELS
    start = time.perf_counter()
    with pytest.raises(ImageLimitError, match="max_bytes") as info:
        io.imread(path)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert "wide16.png" in message and "65535 x 4096 x 4" in message and "16-bit" in message
    assert "SEGEN_MAX_IMAGE_BYTES" in message and str(io.DEFAULT_MAX_BYTES) in message
    assert isinstance(info.value, ImageReadError) and isinstance(info.value, ResourceLimitError)


@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg"])
def test_byte_limit_parameter_and_env(tmp_path, monkeypatch, ext):
    path = tmp_path / f"rgb{ext}"
    io.imwrite(path, np.zeros((20, 10, 3), np.uint8))  # 600 bytes decoded
    with pytest.raises(ImageLimitError, match="= 600 bytes .* exceeds `max_bytes` \\(599\\)"):
        io.imread(path, max_bytes=599)
    assert io.imread(path, max_bytes=600).shape == (20, 10, 3)
    monkeypatch.setenv("SEGEN_MAX_IMAGE_BYTES", "100")
    with pytest.raises(ImageLimitError, match=f"rgb{ext}.*max_bytes"):
        io.imread(path)
    assert io.imread(path, max_bytes=600).shape == (20, 10, 3)  # the argument wins over the variable


def test_palette_counts_as_the_rgb_it_becomes(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).quantize(4).save(tmp_path / "pal.png")
    with pytest.raises(ImageLimitError, match="10 x 10 x 3 channel"):
        io.imread(tmp_path / "pal.png", max_bytes=299)


def _pages(path, n, shape=(2, 2)):
    import tifffile

    with tifffile.TiffWriter(path) as tif:
        for i in range(n):
            tif.write(np.full(shape, i % 256, np.uint8), contiguous=False, metadata=None)


def test_many_page_tiff_is_refused_from_its_ifd_chain(tmp_path):
    path = tmp_path / "pages.tif"
    _pages(path, io.DEFAULT_MAX_PAGES + 1)
    start = time.perf_counter()
    with pytest.raises(ImageLimitError, match="pages.tif: TIFF file of more than 1000 pages") as info:
        io.imread(path)
    assert time.perf_counter() - start < 1.0
    assert "max_pages" in str(info.value) and "SEGEN_MAX_IMAGE_PAGES" in str(info.value)


def test_page_limit_parameter_and_env_and_first_page_only(tmp_path, monkeypatch):
    path = tmp_path / "three.tif"
    _pages(path, 3, shape=(4, 5))
    first = io.imread(path)
    assert first.shape == (4, 5) and (first == 0).all()  # the first page
    with pytest.raises(ImageLimitError, match="more than 2 pages"):
        io.imread(path, max_pages=2)
    monkeypatch.setenv("SEGEN_MAX_IMAGE_PAGES", "1")
    with pytest.raises(ImageLimitError, match="three.tif.*max_pages"):
        io.imread(path)
    assert io.imread(path, max_pages=3).shape == (4, 5)


def test_tiff_ifd_loop_ends(tmp_path):
    import tifffile

    path = tmp_path / "loop.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8), metadata=None)
    data = bytearray(path.read_bytes())
    first = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[first : first + 2])[0]
    data[first + 2 + 12 * count : first + 6 + 12 * count] = struct.pack("<I", first)  # next IFD: itself
    path.write_bytes(bytes(data))
    finished, result = _in_thread(lambda: io.imread(path))
    assert finished
    assert isinstance(result, (np.ndarray, ImageReadError))


def test_file_size_limit_parameter_and_env(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    io.imwrite(path, np.zeros((8, 8), np.uint8))
    size = path.stat().st_size
    with pytest.raises(ImageLimitError, match=f"big.png: file of {size} bytes exceeds `max_file_bytes`"):
        io.imread(path, max_file_bytes=size - 1)
    monkeypatch.setenv("SEGEN_MAX_IMAGE_FILE_BYTES", str(size - 1))
    with pytest.raises(ImageLimitError, match="SEGEN_MAX_IMAGE_FILE_BYTES"):
        io.imread(path)
    assert io.imread(path, max_file_bytes=size).shape == (8, 8)


@pytest.mark.parametrize("name", ["max_bytes", "max_pages", "max_file_bytes"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_bad_limits_name_the_parameter(tmp_path, name, value):
    with pytest.raises(InvalidArgumentError, match=f"`{name}` must be a positive int"):
        io.imread(tmp_path / "unused.png", **{name: value})


@pytest.mark.parametrize(
    "env", ["SEGEN_MAX_IMAGE_BYTES", "SEGEN_MAX_IMAGE_PAGES", "SEGEN_MAX_IMAGE_FILE_BYTES"]
)
def test_bad_limit_variables_name_the_variable(tmp_path, monkeypatch, env):
    for text in ("lots", "0"):
        monkeypatch.setenv(env, text)
        with pytest.raises(InvalidArgumentError, match=env):
            io.imread(tmp_path / "unused.png")


def test_pillow_bomb_setting_is_neither_used_nor_changed(tmp_path, monkeypatch):
    # 20 000 x 20 000 grey is over Pillow's own bomb limit but inside segen's: segen's limit decides,
    # and Pillow's process-wide setting is left alone (it was swapped and restored, racing across threads)
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    path = tmp_path / "a.png"
    io.imwrite(path, np.zeros((40, 40), np.uint8))
    assert io.imread(path).shape == (40, 40)
    assert Image.MAX_IMAGE_PIXELS == 1000


# --------------------------------------------------------------------------- silent wrong results (F1, F6)


def _jpeg(tmp_path, name="a.jpg", **kwargs):
    from PIL import Image
    from skimage import data

    path = tmp_path / name
    Image.fromarray(data.astronaut()[:128, :128]).save(path, "JPEG", quality=90, **kwargs)
    return path, bytearray(path.read_bytes())


def _scan_start(data: bytes) -> int:
    sos = data.index(b"\xff\xda")
    return sos + 2 + struct.unpack(">H", data[sos + 2 : sos + 4])[0]


def test_jpeg_with_restart_markers_out_of_order_warns(tmp_path):
    path, data = _jpeg(tmp_path, restart_marker_blocks=4)
    rst = data.index(b"\xff\xd2", _scan_start(data))  # the third restart marker
    data[rst + 1] = 0xD5
    bad = tmp_path / "bad_rst.jpg"
    bad.write_bytes(bytes(data))
    with pytest.warns(
        ImageReadWarning, match="bad_rst.jpg: corrupt JPEG data \\(restart marker out of order"
    ):
        img = io.imread(bad)
    assert img.shape == (128, 128, 3)


def test_jpeg_with_an_end_marker_inside_the_image_data_warns(tmp_path):
    path, data = _jpeg(tmp_path)
    middle = (_scan_start(data) + len(data)) // 2
    data[middle : middle + 2] = b"\xff\xd9"
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(bytes(data))
    with pytest.warns(ImageReadWarning, match="cut.jpg: corrupt JPEG data \\(an end-of-image marker at byte"):
        io.imread(bad)


def test_jpeg_with_a_stray_marker_inside_the_image_data_warns(tmp_path):
    path, data = _jpeg(tmp_path)
    middle = (_scan_start(data) + len(data)) // 2
    data[middle : middle + 2] = b"\xff\xfe"  # a comment marker: libjpeg skips a garbage length, decodes
    bad = tmp_path / "stray.jpg"
    bad.write_bytes(bytes(data))
    with pytest.warns(ImageReadWarning, match="stray.jpg: corrupt JPEG data \\(segment 0xFFFE at byte"):
        io.imread(bad)
    data[middle : middle + 2] = b"\xff\xc0"  # a frame header inside image data: libjpeg gives up
    bad.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="stray.jpg: cannot decode JPEG"):
        io.imread(bad)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"progressive": True}, {"subsampling": 0}, {"restart_marker_blocks": 3}, {"restart_marker_rows": 2}],
)
def test_valid_jpegs_do_not_warn(tmp_path, kwargs):
    # pytest turns warnings into errors (pyproject filterwarnings): a false alarm fails here
    path, _ = _jpeg(tmp_path, **kwargs)
    assert io.imread(path).shape == (128, 128, 3)


def test_truncated_jpeg_is_still_refused(tmp_path):
    path, data = _jpeg(tmp_path)
    short = tmp_path / "short.jpg"
    short.write_bytes(bytes(data[: len(data) * 2 // 3]))
    with pytest.raises(ImageReadError, match="short.jpg: cannot decode JPEG"):
        io.imread(short)


@pytest.mark.parametrize("shape", [(0, 0), (5, 0), (0, 5)])
def test_empty_tiff_is_refused(tmp_path, shape):
    import tifffile

    path = tmp_path / "empty.tif"
    with pytest.warns(UserWarning, match="zero-size"):  # tifffile says it writes a nonconformant file
        tifffile.imwrite(path, np.zeros(shape, np.uint8))
    with pytest.raises(ImageReadError, match="empty.tif: the file declares an image of .* \\(empty\\)"):
        io.imread(path)


def test_empty_png_is_refused(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(_png(0, 7))
    with pytest.raises(ImageReadError, match="empty.png"):
        io.imread(path)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_tiff_is_refused(tmp_path, dtype):
    import tifffile

    path = tmp_path / "complex.tif"
    tifffile.imwrite(path, np.ones((4, 4), dtype))
    with pytest.raises(ImageReadError, match="complex.tif: TIFF samples are complex; segen images are real"):
        io.imread(path)


@pytest.mark.parametrize(
    "dtype, expected",
    [
        (np.bool_, np.bool_),
        (np.float16, np.float32),
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int8, np.int8),
        (np.int32, np.int32),
        (np.int64, np.int64),
        (np.uint64, np.uint64),
    ],
)
def test_tiff_sample_types_are_kept_or_widened_exactly(tmp_path, dtype, expected):
    import tifffile

    values = (np.arange(12).reshape(3, 4) % 2).astype(dtype)
    tifffile.imwrite(tmp_path / "t.tif", values)
    back = io.imread(tmp_path / "t.tif")
    assert back.dtype == expected
    np.testing.assert_array_equal(back, values.astype(expected))


def test_tiff_with_five_samples_and_nan_is_returned_as_stored(tmp_path):
    import tifffile

    five = np.arange(4 * 4 * 5, dtype=np.uint8).reshape(4, 4, 5)
    tifffile.imwrite(tmp_path / "five.tif", five, photometric="minisblack", planarconfig="contig")
    np.testing.assert_array_equal(io.imread(tmp_path / "five.tif"), five)
    nan = np.full((3, 3), np.nan, np.float32)
    tifffile.imwrite(tmp_path / "nan.tif", nan)
    assert np.isnan(io.imread(tmp_path / "nan.tif")).all()  # documented: not checked


# ----------------------------------------------------------------------------------- write_labels (F9)


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([[0, -1], [2, 3]], np.int32), "`labels` must be >= 0 .*got a label of -1"),
        (np.array([[0, 2**31]], np.int64), "`labels` must be <= 2147483647 .*got a label of 2147483648"),
        (np.array([[0, 2**40]], np.int64), "got a label of 1099511627776"),
        (
            np.zeros((2, 2, 3), np.int32),
            "`labels` must be a non-empty \\(H, W\\) array; got shape \\(2, 2, 3\\)",
        ),
        (np.zeros((0, 3), np.int32), "non-empty"),
    ],
)
def test_write_labels_refuses_what_it_cannot_store(tmp_path, labels, match):
    with pytest.raises(InvalidArgumentError, match=match):
        io.write_labels(tmp_path / "l.png", labels)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, object])
def test_write_labels_refuses_non_integer_labels(tmp_path, dtype):
    with pytest.raises(TypeError, match="`labels` must be an integer array") as info:
        io.write_labels(tmp_path / "l.png", np.ones((3, 3), dtype))
    assert isinstance(info.value, DTypeError)
    assert list(tmp_path.iterdir()) == []


def test_write_labels_keeps_every_value(tmp_path):
    big = np.array([[0, 1], [65536, 2**31 - 1]], np.int64)
    out = io.write_labels(tmp_path / "big.png", big)
    assert out.suffix == ".tif"
    back = io.imread(out)
    assert back.dtype == np.int32
    np.testing.assert_array_equal(back, big)
    mask = io.write_labels(tmp_path / "mask.png", np.eye(3, dtype=bool))
    np.testing.assert_array_equal(io.imread(mask), np.eye(3, dtype=np.uint8))
    u16 = np.array([[0, 300]], np.uint64)
    np.testing.assert_array_equal(io.imread(io.write_labels(tmp_path / "u.png", u16)), u16)


# ------------------------------------------------------------------------ imwrite: links and modes (F9)


@posix_only
def test_imwrite_through_a_symlink_writes_its_target(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "data.png"
    io.imwrite(target, np.zeros((4, 4), np.uint8))
    link = tmp_path / "link.png"
    link.symlink_to(target)
    io.imwrite(link, np.full((4, 4), 7, np.uint8))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert (io.imread(target) == 7).all()
    assert sorted(p.name for p in real_dir.iterdir()) == ["data.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png", "real"]


@posix_only
def test_imwrite_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "new.png")
    io.imwrite(link, np.zeros((4, 4), np.uint8))
    assert link.is_symlink() and (tmp_path / "new.png").is_file()


@posix_only
def test_imwrite_through_a_symlink_loop_is_refused(tmp_path):
    link = tmp_path / "loop.png"
    link.symlink_to(link)
    with pytest.raises(OSError, match="loop.png"):
        io.imwrite(link, np.zeros((4, 4), np.uint8))
    assert link.is_symlink()


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_imwrite_keeps_an_existing_files_mode(tmp_path, mode):
    path = tmp_path / "keep.png"
    io.imwrite(path, np.zeros((4, 4), np.uint8))
    path.chmod(mode)
    io.imwrite(path, np.ones((4, 4), np.uint8))
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert (io.imread(path) == 1).all()


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_imwrite_gives_a_new_file_the_umask_default(tmp_path, umask):
    old = os.umask(umask)
    try:
        io.imwrite(tmp_path / "new.tif", np.zeros((4, 4), np.float32))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.tif").stat().st_mode) == 0o666 & ~umask


@posix_only
def test_imwrite_refuses_to_replace_a_fifo_or_a_directory(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(InvalidArgumentError, match="pipe.png is a FIFO"):
        io.imwrite(tmp_path / "pipe.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(IsADirectoryError, match="dir.png"):
        io.imwrite(tmp_path / "dir.png", np.zeros((4, 4), np.uint8))


# --------------------------------------------------------------- imwrite: interrupted and killed (F9, X4)


def _broken_save(monkeypatch, exc):
    from PIL import Image

    def save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG partial" * 1000)
        raise exc

    monkeypatch.setattr(Image.Image, "save", save)


@pytest.mark.parametrize("tmpfile", [True, False], ids=["O_TMPFILE", "named-temp"])
@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()], ids=["OSError", "Ctrl-C"])
def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, tmpfile, exc):
    if tmpfile and not io._TMPFILE:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(io, "_TMPFILE", tmpfile)
    path = tmp_path / "a.png"
    io.imwrite(path, np.full((3, 4), 5, np.uint8))
    _broken_save(monkeypatch, exc)
    with pytest.raises(type(exc)):
        io.imwrite(path, np.zeros((3, 4), np.uint8))
    with pytest.raises(type(exc)):
        io.imwrite(tmp_path / "b.png", np.zeros((3, 4), np.uint8))
    monkeypatch.undo()
    assert (io.imread(path) == 5).all()
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


_KILLED_WRITER = """
import sys, time
import numpy as np
from PIL import Image
from segen import io

def save(self, fp, *args, **kwargs):
    fp.write(b"x" * (8 << 20))  # 8 MB written, then the process is killed mid-write
    fp.flush()
    print("writing", flush=True)
    time.sleep(120)

Image.Image.save = save
io.imwrite(sys.argv[1], np.zeros((64, 64), np.uint8))
"""


@posix_only
@pytest.mark.skipif(not io._TMPFILE, reason="a killed process leaves nothing only with O_TMPFILE (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("exists", [True, False], ids=["replacing", "new"])
def test_killed_write_leaves_nothing_behind(tmp_path, sig, exists):
    target = tmp_path / "out.png"
    if exists:
        io.imwrite(target, np.full((4, 4), 9, np.uint8))
    command = [sys.executable, "-c", textwrap.dedent(_KILLED_WRITER), str(target)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "writing"
            proc.send_signal(sig)
            assert proc.wait(timeout=60) == -sig
        finally:
            if proc.poll() is None:
                proc.kill()
    assert [p.name for p in tmp_path.iterdir()] == (["out.png"] if exists else [])
    if exists:
        assert (io.imread(target) == 9).all()


# ------------------------------------------------------------------------------------------ fuzz (F1-F4)


def _fuzz_module():
    path = pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_imread.py"
    spec = importlib.util.spec_from_file_location("fuzz_imread", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_imread_on_mutated_files_only_decodes_or_raises_image_read_error(tmp_path):
    fuzz = _fuzz_module()
    counts, findings = fuzz.run(iterations=200, seed=14, timeout=10.0, work_dir=tmp_path)
    assert sum(counts.values()) == 200
    assert counts["decoded"] + counts["warned"] + counts["clean error"] == 200, findings[:5]
    assert counts["clean error"] > 0 and counts["decoded"] > 0


def test_files_the_fuzzer_found_decode_or_raise_under_a_memory_cap(tmp_path):
    # tests/fuzz/regressions: a BigTIFF whose IFD chain kept tifffile walking > 120 s; PNG chunk and TIFF
    # strip lengths of 4 GiB .. 2**60 that decoders passed to read(), allocating that much (MemoryError
    # under the 2 GiB cap here, gigabytes of address space without one)
    fuzz = _fuzz_module()
    files = sorted((pathlib.Path(fuzz.__file__).parent / "regressions").iterdir())
    assert len(files) >= 6
    worker = fuzz.Worker(memory_mb=2048, log=tmp_path / "worker.log")
    try:
        answers = {f.name: worker.call(str(f), timeout=20.0) for f in files}
    finally:
        worker.stop()
    assert {a["outcome"] for a in answers.values()} <= {"decoded", "warned", "clean error"}, answers
