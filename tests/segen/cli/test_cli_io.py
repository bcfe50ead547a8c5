"""`segen segment` inputs and outputs people expect: folders, standard input/output, WebP, EXIF-rotated
photos, each output kind with its options; `segen generate --scale`."""

import subprocess
import sys

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from PIL import Image
from segen import io, viz
from segen.cli import cli, segment


def _run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture
def photos(tmp_path, astronaut, coffee):
    """photos/coffee.webp, photos/astro.png, photos/sub/deep/astro2.bmp, photos/notes.txt, photos/.hidden.png"""
    root = tmp_path / "photos"
    (root / "sub" / "deep").mkdir(parents=True)
    Image.fromarray(coffee[::4, ::4]).save(root / "coffee.webp", lossless=True)
    io.imwrite(root / "astro.png", np.ascontiguousarray(astronaut[::4, ::4]))
    Image.fromarray(astronaut[::8, ::8]).save(root / "sub" / "deep" / "astro2.bmp")
    (root / "notes.txt").write_text("not an image")
    io.imwrite(root / ".hidden.png", np.zeros((4, 4), np.uint8))
    return root


def test_kinds_match_viz():
    assert segment.OUTPUT_KINDS == viz.RENDER_KINDS


def test_folder_suffixes_match_io():
    # the CLI keeps its own copy (no numpy at `segen --help`); segen.data's folders use segen.io's
    assert segment.IMAGE_SUFFIXES == io.READ_SUFFIXES


def test_a_folder_and_its_subfolders(photos, tmp_path, coffee):
    out = tmp_path / "out"
    res = _run("segment", photos, "-m", "kmeans", "-p", "k=3", "-o", out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["astro_labels.png", "coffee_labels.png"]
    assert "2 file(s) written, 1 file(s) skipped" in res.output
    assert "1 subfolder(s) not searched (--recursive)" in res.output
    # the WebP was read as Pillow reads it, and segmented as in Python
    expected = segen.get_segmenter("kmeans", k=3).segment(io.imread(photos / "coffee.webp"))
    np.testing.assert_array_equal(io.imread(out / "coffee_labels.png"), expected)

    res = _run("segment", photos, "-r", "-m", "otsu", "-o", out)
    assert res.exit_code == 0, res.output
    deep = out / "sub" / "deep" / "astro2_labels.png"  # the folder layout is kept
    assert io.imread(deep).shape == (64, 64)
    assert res.output.startswith("segmented 3 image(s) with otsu into")
    assert "subfolder" not in res.output and "Traceback" not in res.output


def test_a_folder_holding_its_own_output(photos):
    """-o inside the input folder (or the folder itself): results are not read back as inputs."""
    for _ in range(2):
        res = _run("segment", photos, "-r", "-m", "otsu", "-k", "labels,mask", "-o", photos)
        assert res.exit_code == 0, res.output
        assert res.output.startswith("segmented 3 image(s)"), res.output
    assert not list(photos.rglob("*_labels_labels.png"))


def test_a_batch_whose_images_all_fail_still_ends_with_the_summary(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("a.png", "b.jpg"):
        (bad / name).write_text("<html>not an image</html>")
    res = _run("segment", bad, "-m", "otsu", "-o", tmp_path / "o")
    assert res.exit_code == 1
    errors, (summary,) = res.stderr.splitlines(), res.stdout.splitlines()
    assert sum("looks like HTML" in line for line in errors) == 2
    assert errors[-1].startswith("segen: 2 of 2 image(s) failed: ")
    assert summary.startswith("segmented 0 image(s) with otsu into ")
    assert ": 0 file(s) written, 2 image(s) failed in " in summary and summary.endswith(" s")
    assert not list((tmp_path / "o").iterdir())


def test_empty_folder_and_name_clashes(tmp_path, photos):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    res = _run("segment", tmp_path / "empty", "-m", "otsu", "-o", tmp_path / "o")
    assert res.exit_code == 2 and "no image files in" in res.output and "--recursive" in res.output
    io.imwrite(photos / "coffee.png", np.zeros((8, 8), np.uint8))  # coffee.webp and coffee.png
    res = _run("segment", photos, "-m", "otsu", "-o", tmp_path / "o")
    assert res.exit_code == 2 and "several inputs are named 'coffee'" in res.output


@pytest.mark.parametrize("kind", ["labels", "overlay", "mask", "cutout"])
def test_each_output_kind(photos, tmp_path, kind):
    src = photos / "astro.png"
    img = io.imread(src)
    labels = segen.get_segmenter("kmeans", k=3).segment(img)
    res = _run("segment", src, "-m", "kmeans", "-p", "k=3", "-k", kind, "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert files == [f"astro_{kind}.png"]
    got = io.imread(tmp_path / "o" / files[0])
    np.testing.assert_array_equal(got, viz.render(img, labels, kind))
    if kind == "mask":
        np.testing.assert_array_equal(got, np.where(labels > 0, 255, 0))
    if kind == "cutout":
        np.testing.assert_array_equal(got[..., 3], np.where(labels > 0, 255, 0))
        np.testing.assert_array_equal(got[..., :3], img)


def test_overlay_options_and_foreground(photos, tmp_path):
    src = photos / "astro.png"
    img = io.imread(src)
    labels = segen.get_segmenter("kmeans", k=3).segment(img)
    res = _run(
        "segment", src, "-m", "kmeans", "-p", "k=3", "-k", "overlay", "-k", "cutout",
        "--no-boundaries", "--alpha", "0.7", "--legend", "--foreground", "2", "-o", tmp_path / "o",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    over = io.imread(tmp_path / "o" / "astro_overlay.png")
    plain = viz.overlay(img, labels, alpha=0.7, boundary_color=None)
    assert over.shape[0] == 128 and over.shape[1] > 128  # the legend to the right
    np.testing.assert_array_equal(over[:, :128], plain)
    cut = io.imread(tmp_path / "o" / "astro_cutout.png")
    np.testing.assert_array_equal(cut[..., 3], np.where(labels == 2, 255, 0))
    for bad in (["--alpha", "1.5"], ["--foreground", "x"], ["--foreground", "-1"]):
        res = _run("segment", src, "-m", "otsu", "-o", tmp_path / "o", *bad)
        assert res.exit_code == 2, (bad, res.output)


def test_overlay_flag_still_adds_the_overlay(photos, tmp_path):
    res = _run("segment", photos / "astro.png", "-m", "otsu", "--overlay", "-o", tmp_path / "o")
    assert res.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["astro_labels.png", "astro_overlay.png"]


def test_exif_rotated_photo_is_segmented_upright(tmp_path, astronaut):
    sideways = np.ascontiguousarray(np.rot90(astronaut[::4, ::4][:, :96], 1))  # stored 96 x 128
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(sideways).save(tmp_path / "phone.jpg", quality=95, exif=exif)
    res = _run("segment", tmp_path / "phone.jpg", "-m", "otsu", "-k", "labels,overlay", "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output
    labels = io.imread(tmp_path / "o" / "phone_labels.png")
    assert labels.shape == (128, 96)  # upright, as a viewer shows it
    expected = segen.get_segmenter("otsu").segment(io.imread(tmp_path / "phone.jpg"))
    np.testing.assert_array_equal(labels, expected)


def test_stdin_to_stdout_in_a_real_process(photos, tmp_path):
    """`segen segment - ... < in.webp > out.png`: the PNG on stdout, the summary on stderr."""
    data = (photos / "coffee.webp").read_bytes()
    img = io.imdecode(data)
    labels = segen.get_segmenter("otsu").segment(img)
    for kind in ("labels", "cutout"):
        res = subprocess.run(
            [sys.executable, "-m", "segen", "segment", "-", "-m", "otsu", "-k", kind],
            input=data,
            capture_output=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        np.testing.assert_array_equal(io.imdecode(res.stdout), viz.render(img, labels, kind))
        assert b"segmented 1 image(s) with otsu into standard output" in res.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "segen", "segment", "-", "-m", "otsu"],
        input=b"<html>404</html>",
        capture_output=True,
        timeout=120,
    )
    assert bad.returncode == 1 and bad.stdout == b""
    assert bad.stderr.decode().strip() == (
        "segen: error: <stdin>: not an image file of a format segen reads (PNG, JPEG, TIFF, WebP, BMP, "
        "GIF, ...: segen.io.READ_FORMATS) (looks like HTML or text) (extension 'none', first bytes b'<htm')"
    )


def test_a_terminal_on_stdin_or_stdout_is_refused_at_once(photos, tmp_path):
    """`segen segment -` typed without a redirection: a usage error, not a wait for typed bytes (stdin a
    terminal) nor a PNG sprayed over the terminal (stdout one). Real processes on a pseudo-terminal."""
    import os

    main, secondary = os.openpty()
    try:
        cmd = [sys.executable, "-m", "segen", "segment", "-", "-m", "otsu"]
        res = subprocess.run([*cmd, "-o", tmp_path / "o"], stdin=secondary, capture_output=True, timeout=60)
        assert res.returncode == 2, res.stderr
        assert b"standard input is a terminal: redirect an image into it" in res.stderr
        with open(photos / "astro.png", "rb") as image:
            res = subprocess.run(cmd, stdin=image, stdout=secondary, stderr=subprocess.PIPE, timeout=60)
        assert res.returncode == 2
        assert b"standard output is a terminal: redirect it to a file" in res.stderr
    finally:
        os.close(main)
        os.close(secondary)
    assert not (tmp_path / "o").exists()


def test_stdin_errors_and_stdin_to_a_folder(photos, tmp_path):
    data = (photos / "astro.png").read_bytes()
    res = _run("segment", "-", "-m", "otsu", "-k", "labels,mask", input=data)
    assert res.exit_code == 2 and "standard output takes one result" in res.output
    res = _run("segment", "-", "-m", "otsu", "-k", "labels,mask", "-o", tmp_path / "o", input=data)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["stdin_labels.png", "stdin_mask.png"]


def test_generate_scale_enlarges_each_pixel(tmp_path):
    res = _run("generate", "dcgan-digits", "-n", 4, "--seed", 3, "--scale", 4, "--individual", "-o", tmp_path)
    assert res.exit_code == 0, res.output
    samples = segen.get_generator("dcgan-digits").generate(4, seed=3)  # (4, 16, 16)
    big = io.imread(tmp_path / "dcgan-digits_0001.png")
    assert big.shape == (64, 64)
    np.testing.assert_array_equal(big, np.kron(samples[1], np.ones((4, 4), np.uint8)))
    grid = io.imread(tmp_path / "dcgan-digits_grid.png")
    assert grid.shape == (2 * (64 + 2) + 2, 2 * (64 + 2) + 2)
    res = _run("generate", "dcgan-digits", "--scale", 0, "-o", tmp_path)
    assert res.exit_code == 2 and "--scale" in res.output
