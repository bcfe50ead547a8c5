"""Catalogue rows of ../shared/RELIABILITY.md section 3 that had no test of their own (issue 14).

Each test names its row ("RELIABILITY P4", ...). docs/reliability-catalogue.md maps every row to its tests,
here and elsewhere, and says where segen's behaviour differs from the catalogue's wording.
"""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import segen
from segen import io
from segen.errors import DTypeError, ImageReadError, InvalidArgumentError

# ---- 3.1 Python API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        # RGB-only operations: a channel axis of another length is refused, naming its length
        (lambda: segen.color.rgb2hsv(np.zeros((4, 4, 5))), "`image` must have 3 channels.*got 5 channels"),
        (lambda: segen.color.rgb2gray(np.zeros((4, 4, 3)), channel_axis=0), "got 4 channels"),
        (lambda: segen.color.rgb2lab(np.zeros((4, 4, 3)), channel_axis=3), r"`channel_axis` .*\[-3, 2\]"),
        (lambda: segen.filters.gaussian(np.zeros((4, 4, 3)), channel_axis=-4), "`channel_axis`"),
    ],
)
def test_p3_channel_axis_out_of_range_or_of_the_wrong_length(call, match):
    """RELIABILITY P3: the error names the axis or its length; nothing is transposed silently."""
    with pytest.raises(InvalidArgumentError, match=match):
        call()


def test_p3_channels_first_image_is_read_along_the_given_axis():
    """RELIABILITY P3: with channel_axis=0 a (3, H, W) image gives the same grey image as (H, W, 3)."""
    rgb = np.random.default_rng(0).random((5, 6, 3))
    chw = np.ascontiguousarray(np.moveaxis(rgb, -1, 0))
    np.testing.assert_array_equal(segen.color.rgb2gray(chw, channel_axis=0), segen.color.rgb2gray(rgb))


@pytest.mark.parametrize(
    "dtype", [np.complex64, np.complex128, object, "U3", "S3", "datetime64[s]", "timedelta64[ms]", "V8"]
)
def test_p4_unsupported_dtypes_are_refused_naming_the_parameter(dtype):
    """RELIABILITY P4: DTypeError (segen's name for UnsupportedDTypeError) naming `image` and the dtype."""
    image = np.zeros((4, 4), dtype)
    with pytest.raises(DTypeError, match=r"`image` must be a real numeric array; got dtype") as info:
        segen.filters.gaussian(image, 1.0)
    assert np.dtype(dtype).str.lstrip("<>|=") in str(info.value) or np.dtype(dtype).name in str(info.value)
    with pytest.raises(DTypeError, match="`image`"):
        segen.segmentation.threshold_otsu(image)


def test_p4_longdouble_is_computed_in_float64():
    """RELIABILITY P4 (differs): float128/longdouble is not refused; segen's dtype policy computes it in
    float64 (tests/segen/_shared/test_validation.py::test_dtype_policy)."""
    x = np.random.default_rng(1).random((6, 7))
    out = segen.filters.gaussian(x.astype(np.longdouble), 1.0)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, segen.filters.gaussian(x, 1.0))


def test_p6_nan_is_refused_where_it_would_make_a_wrong_result():
    """RELIABILITY P6 (differs): no `nan_policy`; operations whose result NaN would corrupt (clustering,
    thresholds, watershed) refuse it naming the parameter; k-means returns instead of looping."""
    img = np.random.default_rng(2).random((8, 8))
    img[2, 3] = np.nan
    with pytest.raises(InvalidArgumentError, match="`X` must contain only finite values"):
        segen.cluster.kmeans(np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]), 2)
    with pytest.raises(InvalidArgumentError, match="`image` must contain only finite values"):
        segen.segmentation.threshold_otsu(img)
    with pytest.raises(InvalidArgumentError, match="`image` must not contain NaN"):
        segen.segmentation.watershed(img, 2)
    with pytest.raises(InvalidArgumentError, match="`X`"):
        segen.cluster.kmeans(np.array([[0.0], [np.inf], [1.0]]), 2)


def test_p6_filters_propagate_nan_as_documented():
    """RELIABILITY P6 (differs): linear filters follow scipy.ndimage: NaN spreads only as far as the
    kernel reaches, and pixels beyond it are exact."""
    img = np.zeros((9, 9))
    img[4, 4] = np.nan
    out = segen.filters.uniform(img, 3)
    assert np.isnan(out[3:6, 3:6]).all()
    nan_free = np.ones_like(out, bool)
    nan_free[3:6, 3:6] = False
    assert (out[nan_free] == 0).all()


def test_p8_float_images_outside_0_1_are_neither_clipped_nor_rescaled():
    """RELIABILITY P8: segen works on the raw values of a float image (0..65535 stored as float)."""
    rng = np.random.default_rng(3)
    img = np.zeros((16, 16))
    img[:, 8:] = 60000.0
    img += rng.random(img.shape)
    assert segen.filters.gaussian(img, 0.5).max() > 59000
    assert 1.0 < segen.segmentation.threshold_otsu(img) < 60000.0
    rgb = np.stack([img] * 3, -1)
    np.testing.assert_allclose(segen.color.rgb2gray(rgb), img, rtol=1e-6)
    before = img.copy()
    segen.filters.sobel(img)
    assert np.array_equal(img, before)


@pytest.mark.parametrize("dtype, limit", [(np.uint8, 255), (np.uint16, 65535)], ids=["uint8", "uint16"])
def test_p9_sums_of_integer_images_do_not_wrap(dtype, limit):
    """RELIABILITY P9: a uniform filter and a Gaussian of a saturated integer image stay at its value (float
    accumulation, float32 output), never wrapped around."""
    img = np.full((7, 7), limit, dtype)
    for out in (segen.filters.uniform(img, 5), segen.filters.gaussian(img, 2.0)):
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, limit, rtol=1e-6)


def test_p13_negative_markers_are_a_documented_choice():
    """RELIABILITY P13 (differs): as in scikit-image, every nonzero marker (negative too) seeds a basin."""
    markers = np.zeros((6, 6), np.int32)
    markers[0, 0], markers[5, 5] = -1, 2
    ramp = np.add.outer(np.arange(6.0), np.arange(6.0))
    labels = segen.segmentation.watershed(np.minimum(ramp, ramp[::-1, ::-1]), markers)
    assert set(np.unique(labels)) == {-1, 2}
    assert labels[0, 0] == -1 and labels[5, 5] == 2


_BAD_ALLOC = """
import resource, numpy as np, segen
segen.set_memory_limit("64G")  # let the call through segen's own budget, so the allocation itself fails
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
x = np.zeros((2, 2), np.float32)
try:
    segen.transform.resize(x, (20000, 20000))
    print("no error")
except MemoryError as e:
    print("MemoryError", type(e).__name__)
print(segen.transform.resize(x + 1, (3, 3)).sum())
"""


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS")
def test_p15_an_allocation_that_fails_is_a_memory_error_and_the_next_call_works():
    """RELIABILITY P15 (differs): under a 1 GiB address-space limit a 1.6 GB result cannot be allocated:
    a MemoryError (not a crash), and the process goes on. segen's own budget (ResourceLimitError, a
    MemoryError, naming the bytes) normally refuses such a call first: tests/segen/_shared/test_limits.py."""
    from helpers import run_python

    out = run_python(_BAD_ALLOC).split()
    assert out[0] == "MemoryError", out
    assert float(out[-1]) == 9.0


def test_p19_one_segmenter_from_many_threads_gives_the_serial_result():
    """RELIABILITY P19: one segmenter object shared by 4 threads gives the serial labels."""
    from concurrent.futures import ThreadPoolExecutor

    seg = segen.get_segmenter("kmeans", k=3, seed=0)
    imgs = [np.random.default_rng(i).random((40, 40, 3)) for i in range(8)]
    want = [seg.segment(im) for im in imgs]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(seg.segment, imgs))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# ---- 3.3 image files ---------------------------------------------------------------------------------------


def test_f1_truncated_tiff_is_an_image_read_error_naming_the_file(tmp_path):
    """RELIABILITY F1: a TIFF cut short raises ImageReadError naming it; no partial array comes back."""
    import tifffile

    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), metadata=None)
    data = good.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.tif"):
        io.imread(cut)


def test_f4_empty_file_is_not_an_image(tmp_path):
    """RELIABILITY F4: a zero-byte file is an ImageReadError naming the file and the formats read."""
    path = tmp_path / "zero.png"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match="zero.png: not an image file"):
        io.imread(path)


def test_f5_the_format_comes_from_the_content_not_the_extension(tmp_path):
    """RELIABILITY F5: a PNG named .jpg and a TIFF named .png read exactly, by their signatures."""
    import tifffile

    img = (np.arange(4 * 5 * 3) * 5).astype(np.uint8).reshape(4, 5, 3)
    io.imwrite(tmp_path / "a.png", img)
    (tmp_path / "lies.jpg").write_bytes((tmp_path / "a.png").read_bytes())
    np.testing.assert_array_equal(io.imread(tmp_path / "lies.jpg"), img)  # lossless: not decoded as JPEG
    f32 = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    tifffile.imwrite(tmp_path / "t.png", f32)
    back = io.imread(tmp_path / "t.png")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, f32)


def test_f6_multi_page_tiff_gives_its_first_page_with_native_dtype(tmp_path):
    """RELIABILITY F6 (differs): dtype kept (uint16 here); of a multi-page TIFF only the first page is read
    (documented in segen.io), so the reading cost is bounded."""
    import tifffile

    pages = np.stack([np.full((3, 4), 1000 * (i + 1), np.uint16) for i in range(3)])
    with tifffile.TiffWriter(tmp_path / "pages.tif") as tif:
        for page in pages:
            tif.write(page, contiguous=False, metadata=None)
    first = io.imread(tmp_path / "pages.tif")
    assert first.dtype == np.uint16
    np.testing.assert_array_equal(first, pages[0])


def test_f7_cmyk_becomes_rgb_rgba_keeps_alpha_and_exif_orientation_is_applied(tmp_path):
    """RELIABILITY F7 (differs): explicit conversions documented in segen.io.imread: CMYK -> RGB, RGBA kept
    with its alpha (never dropped by imread), EXIF orientation applied (as viewers do) unless
    ``exif_orientation=False`` (pixels as stored)."""
    from PIL import Image

    colour = (200, 50, 10)
    Image.fromarray(np.full((8, 8, 3), colour, np.uint8)).convert("CMYK").save(
        tmp_path / "c.jpg", quality=100
    )
    cmyk = io.imread(tmp_path / "c.jpg")
    assert cmyk.shape == (8, 8, 3) and cmyk.dtype == np.uint8
    assert np.abs(cmyk[4, 4].astype(int) - colour).max() <= 3
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 3] = np.arange(5) * 50
    io.imwrite(tmp_path / "a.png", rgba)
    np.testing.assert_array_equal(io.imread(tmp_path / "a.png"), rgba)
    wide = np.zeros((4, 6, 3), np.uint8)
    wide[0, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees when displayed
    Image.fromarray(wide).save(tmp_path / "rot.jpg", quality=100, exif=exif)
    stored = io.imread(tmp_path / "rot.jpg", exif_orientation=False)
    assert stored.shape == (4, 6, 3) and stored[0, 0].min() > 200
    upright = io.imread(tmp_path / "rot.jpg")  # 6: turned 90 degrees clockwise for display
    assert upright.shape == (6, 4, 3) and upright[0, -1].min() > 200
    np.testing.assert_array_equal(upright, np.rot90(stored, -1))


def test_f10_images_too_small_for_a_segmenter_are_refused_or_segmented(tmp_path):
    """RELIABILITY F10: 1x1 and 1x100000 images read from files: each installed segmenter returns labels
    of the image's shape or raises InvalidArgumentError naming `image` (or `k`) before inference; never a
    ZeroDivisionError, IndexError or crash."""
    io.imwrite(tmp_path / "one.png", np.full((1, 1), 7, np.uint8))
    io.imwrite(tmp_path / "long.png", (np.arange(100000) % 256).astype(np.uint8).reshape(1, 100000))
    refused = 0
    for name in ("otsu", "threshold", "kmeans", "watershed", "foreground-kmeans", "fcn-shapes"):
        if name not in segen.list_segmenters():
            continue
        seg = segen.get_segmenter(name)
        for f in ("one.png", "long.png"):
            img = io.imread(tmp_path / f)
            try:
                labels = seg.segment(img)
            except InvalidArgumentError as exc:
                assert "`image`" in str(exc) or "`k`" in str(exc), (name, f, str(exc))
                refused += 1
                continue
            assert labels.shape == img.shape and labels.dtype == np.int32, (name, f)
    assert refused >= 2  # at least the 1x1 image for k-means and foreground k-means


# ---- 3.4 ONNX model files ----------------------------------------------------------------------------------


def test_m1_html_saved_as_a_model_is_a_model_integrity_error(tmp_path):
    """RELIABILITY M1: an HTML page where the model should be fails the digest check; the message names the
    file and both digests."""
    from segen.errors import ModelIntegrityError
    from segen.onnx import OnnxModel
    from tiny_models import make_segmenter_model

    path = make_segmenter_model(tmp_path)
    want = json.loads(path.with_suffix(".json").read_text())["sha256"]
    path.write_bytes(b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>" * 4)
    with pytest.raises(ModelIntegrityError) as info:
        OnnxModel(path)
    message = str(info.value)
    assert path.name in message and "sha256" in message and want[:12] in message


_EVIL = """
import os, pickle

class Evil:
    def __reduce__(self):
        return (os.mkdir, ({marker!r},))
"""


def test_m11_a_checkpoint_that_runs_code_is_refused(tmp_path):
    """RELIABILITY M11: checkpoints are loaded with torch.load(weights_only=True): a pickle that would run
    code raises torch's UnpicklingError (which explains weights_only) and the code never runs."""
    torch = pytest.importorskip("torch")
    from segen.training import generator as gen_training

    marker = tmp_path / "pwned"
    namespace: dict = {}
    exec(_EVIL.format(marker=str(marker)), namespace)
    path = tmp_path / "evil.pt"
    torch.save({"epoch": 1, "g": namespace["Evil"]()}, str(path))
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        gen_training.load_checkpoint(path, g=torch.nn.Linear(1, 1))
    assert not marker.exists()


# ---- 3.6 CLI -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["0", "-1", "5000", "two"])
def test_x8_bad_thread_counts_are_usage_errors_with_the_range(threads, capsys):
    """RELIABILITY X8: `--threads` out of range is a usage error (exit 2) stating the valid range."""
    from segen.cli import main

    assert main(["--threads", threads, "info"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--threads" in err
    if threads != "two":
        assert "1<=x<=1024" in err


def test_x6_empty_or_garbage_stdin_is_one_clear_error(tmp_path, capsys, monkeypatch):
    """RELIABILITY X6: `segen segment -` reads one image from standard input; empty or garbage input is a
    one-line error naming what is wrong, exit code 1, and nothing is written."""
    import io as _io
    import sys

    from segen.cli import main

    for data in (b"", b"\x00\x01garbage", b"<html>502 Bad Gateway</html>"):
        monkeypatch.setattr(sys, "stdin", _io.TextIOWrapper(_io.BytesIO(data)))
        assert main(["segment", "-", "-m", "otsu", "-o", str(tmp_path / "o")]) == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("segen: error:") and "not an image file" in lines[0]
        assert not list((tmp_path / "o").iterdir())
