import json
import subprocess
import sys
import types

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from helpers import BUILTINS, modules_loaded, run_python
from segen import plugins
from segen.cli import cli, main
from tiny_models import make_generator_model, make_segmenter_model


def test_help_and_version():
    runner = CliRunner()
    res = runner.invoke(cli, ["--help"])
    assert res.exit_code == 0 and "demo" in res.output
    res = runner.invoke(cli, ["--version"])
    assert res.exit_code == 0 and segen.__version__ in res.output


def test_info():
    res = CliRunner().invoke(cli, ["info"])
    assert res.exit_code == 0
    assert f"segen {segen.__version__}" in res.output


def test_demo_writes_pictures(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "-o", str(out)])
    assert res.exit_code == 0, res.output
    sheet = segen.io.imread(out / "demo.png")
    assert sheet.ndim == 3 and sheet.shape[2] == 3 and sheet.shape[0] > 200
    # every picture is a real image, not a blank
    pngs = sorted(p for p in out.glob("*.png") if p.name != "demo.png")
    assert len(pngs) >= 10
    for p in pngs:
        assert segen.io.imread(p).std() > 1, p.name
    assert "demo.png" in (out / "index.html").read_text()


def test_demo_on_a_given_image(tmp_path, astronaut):
    src = tmp_path / "a.png"
    segen.io.imwrite(src, astronaut[::4, ::4])
    res = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path / "d"), "--image", str(src)])
    assert res.exit_code == 0, res.output
    assert segen.io.imread(tmp_path / "d" / "input.png").shape == (128, 128, 3)


def test_errors_are_one_line_and_nonzero(tmp_path, capsys):
    assert main(["nope"]) == 2
    assert main(["demo", "--image", str(tmp_path / "missing.png")]) == 2
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    assert main(["demo", "-o", str(tmp_path / "o"), "--image", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "segen: error:" in err and "Traceback" not in err


def test_python_dash_m_and_no_heavy_imports():
    heavy = ("torch", "skimage", "scipy", "cv2", "onnxruntime")
    assert modules_loaded("import segen; segen.filters", heavy) == []
    res = subprocess.run(
        [sys.executable, "-m", "segen", "--version"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0 and segen.__version__ in res.stdout


# ---- the engine's commands ---------------------------------------------------------------------------------


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def photo(tmp_path, astronaut):
    path = tmp_path / "astro.png"
    segen.io.imwrite(path, np.ascontiguousarray(astronaut[::4, ::4]))
    return path


@pytest.mark.parametrize("method", BUILTINS)
def test_segment_with_each_builtin(method, photo, tmp_path):
    out = tmp_path / "out"
    res = _run("segment", photo, "-m", method, "-o", out, "--overlay")
    assert res.exit_code == 0, res.output
    labels = segen.io.imread(out / "astro_labels.png")
    expected = segen.get_segmenter(method).segment(segen.io.imread(photo))
    assert labels.dtype == np.uint8 and labels.shape == (128, 128)
    np.testing.assert_array_equal(labels, expected)
    overlay = segen.io.imread(out / "astro_overlay.png")
    assert overlay.shape == (128, 128, 3) and overlay.dtype == np.uint8
    assert f"{len(np.unique(expected[expected > 0]))} labels per image" in res.output


def test_segment_options_and_many_inputs(photo, tmp_path, coffee):
    other = tmp_path / "coffee.jpg"
    segen.io.imwrite(other, np.ascontiguousarray(coffee[::4, ::4]))
    res = _run(
        "segment", photo, other, "-m", "kmeans", "-p", "k=3", "-p", "color_space=rgb", "-o", tmp_path / "o"
    )
    assert res.exit_code == 0, res.output
    for stem in ("astro", "coffee"):
        assert len(np.unique(segen.io.imread(tmp_path / "o" / f"{stem}_labels.png"))) == 3
    assert not (tmp_path / "o" / "astro_overlay.png").exists()


@pytest.fixture
def many_labels_plugin():
    mod = types.ModuleType("many")

    @segen.hookimpl
    def register_segmenters(register):
        def every_pixel():
            return segen.FunctionSegmenter(
                lambda img: np.arange(1, img.shape[0] * img.shape[1] + 1).reshape(img.shape[:2]),
                name="every-pixel",
            )

        register("every-pixel", every_pixel, summary="one label per pixel")

    mod.register_segmenters = register_segmenters
    plugins.register_plugin(mod, "many")
    yield
    plugins.unregister_plugin("many")


def test_segment_writes_16_bit_labels_when_needed(many_labels_plugin, tmp_path):
    src = tmp_path / "small.png"
    segen.io.imwrite(src, np.zeros((20, 30), np.uint8))
    big = tmp_path / "big.png"
    segen.io.imwrite(big, np.zeros((300, 300), np.uint8))
    res = _run("segment", src, big, "-m", "every-pixel", "-o", tmp_path / "o")
    assert res.exit_code == 0, res.output
    labels = segen.io.imread(tmp_path / "o" / "small_labels.png")
    assert labels.dtype == np.uint16 and labels.max() == 600 and len(np.unique(labels)) == 600
    labels = segen.io.imread(tmp_path / "o" / "big_labels.tif")  # 90000 labels: past 16 bits
    assert labels.dtype == np.int32 and labels.max() == 90000


@pytest.mark.parametrize(
    "args, code, match",
    [
        (["segment", "MISSING", "-m", "kmeans", "-o", "OUT"], 2, "does not exist"),
        (
            ["segment", "PHOTO", "-m", "kmeens", "-o", "OUT"],
            2,
            "Invalid value for '-m' / '--method': unknown segmenter 'kmeens'; did you mean 'kmeans'",
        ),
        (["segment", "PHOTO", "-m", "kmeans", "-p", "k=0", "-o", "OUT"], 2, "'--param': `k` must be >= 1"),
        (["segment", "PHOTO", "-m", "kmeans", "-p", "kk=3", "-o", "OUT"], 2, "has no option `kk`"),
        (["segment", "PHOTO", "-m", "watershed", "-p", "min_distance=-5", "-o", "OUT"], 2, "`min_distance`"),
        (
            ["segment", "PHOTO", "-m", "watershed", "-p", "min_distance=1e30", "-o", "OUT"],
            2,
            "`min_distance`",
        ),
        (["segment", "PHOTO", "-m", "watershed", "-p", "min_distance=x", "-o", "OUT"], 2, "`min_distance`"),
        (["segment", "PHOTO", "-m", "kmeans", "--nope", "-o", "OUT"], 2, "No such option '--nope'"),
        (["segment", "-", "PHOTO", "-m", "kmeans", "-o", "OUT"], 2, "'-' (standard input) must be the only"),
        (["segment", "PHOTO", "-m", "kmeans"], 2, "'-o' / '--output': needed unless the image is '-'"),
        (["segment", "PHOTO", "-m", "kmeans", "-k", "outline", "-o", "OUT"], 2, "'outline' is not one of"),
        (["segment", "PHOTO", "-m", "kmeans", "-p", "k", "-o", "OUT"], 2, "expected KEY=VALUE"),
        (["segment", "BAD", "-m", "kmeans", "-o", "OUT"], 1, "not an image file"),
        (["segment", "PHOTO", "PHOTO", "-m", "kmeans", "-o", "OUT"], 2, "several inputs are named 'astro'"),
        (["generate", "nope", "-o", "OUT"], 2, "unknown generator 'nope'"),
        (["generate", "x", "-n", "0", "-o", "OUT"], 2, "-n"),
        (["info", "kmeens"], 2, "did you mean 'kmeans'"),
        (["train", "no-such-recipe"], 2, "unknown trainer 'no-such-recipe'"),
    ],
)
def test_errors_are_one_clear_line(args, code, match, photo, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    subst = {"MISSING": tmp_path / "missing.png", "OUT": tmp_path / "o", "PHOTO": photo, "BAD": bad}
    assert main([str(subst.get(a, a)) for a in args]) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("segen: error:") and match in lines[0], err


def test_list_and_info(tmp_path):
    res = _run("list")
    assert res.exit_code == 0
    for name in BUILTINS:
        assert name in res.output
    table = json.loads(_run("list", "--json").output)
    assert {r["name"] for r in table["segmenters"]} >= set(BUILTINS)
    assert all(r["summary"] for r in table["segmenters"])
    res = _run("info", "watershed")
    assert res.exit_code == 0 and "segmenter watershed" in res.output and "min_distance: 7" in res.output
    d = json.loads(_run("info", "builtin:kmeans", "--json").output)
    assert d["plugin"] == "builtin" and d["options"]["k"] == 4 and d["aliases"] == ["kmeans-color"]
    assert "segmenters: " in _run("info").output


@pytest.fixture
def onnx_plugin(tmp_path):
    """A plugin with a tiny ONNX segmenter, an unconditional and a conditional generator, and a trainer."""
    seg_path = make_segmenter_model(tmp_path, "tiny-seg")
    gen_path = make_generator_model(tmp_path, "tiny-gen")
    cgen_path = make_generator_model(tmp_path, "tiny-cgen", conditional=True)
    mod = types.ModuleType("tiny_models")

    class TinySeg(segen.OnnxSegmenter):
        """Tiny ONNX segmenter (bright pixels)."""

        model_path = seg_path

    @segen.hookimpl
    def register_segmenters(register):
        register("tiny-seg", TinySeg)

    @segen.hookimpl
    def register_generators(register):
        register(
            "tiny-gen",
            lambda threads=None: segen.OnnxGenerator(gen_path, threads=threads),
            summary="tiny ONNX generator",
        )
        register("tiny-cgen", lambda: segen.OnnxGenerator(cgen_path), summary="tiny conditional generator")

    @segen.hookimpl
    def register_trainers(register):
        def needs_torch(output, **params):
            import torch_is_not_installed_here  # noqa: F401

        def writes(output, epochs=1):
            (output / "tiny.json").write_text(json.dumps({"epochs": epochs}))

        register("tiny-needs-torch", needs_torch, summary="needs torch")
        register("tiny", writes, extra="train", summary="writes a file")

    for f in (register_segmenters, register_generators, register_trainers):
        setattr(mod, f.__name__, f)
    plugins.register_plugin(mod, "tiny")
    yield
    plugins.unregister_plugin("tiny")


def test_generate(onnx_plugin, tmp_path):
    out = tmp_path / "g"
    res = _run("generate", "tiny-gen", "-n", 6, "--seed", 1, "-o", out, "--individual")
    assert res.exit_code == 0, res.output
    grid = segen.io.imread(out / "tiny-gen_grid.png")
    assert grid.dtype == np.uint8 and grid.shape == (
        2 * 10 + 2,
        3 * 10 + 2,
    )  # 2 rows x 3 columns of 8 + 2 padding
    singles = sorted(out.glob("tiny-gen_0*.png"))
    assert len(singles) == 6
    expected = segen.get_generator("tiny-gen").generate(6, seed=1)
    np.testing.assert_array_equal(np.stack([segen.io.imread(p) for p in singles]), expected)
    res = _run("generate", "tiny-cgen", "-n", 4, "--labels", "3", "-o", out, "--no-grid", "--individual")
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(
        segen.io.imread(out / "tiny-cgen_0002.png"),
        segen.get_generator("tiny-cgen").generate(4, seed=0, labels=3)[2],
    )
    assert _run("generate", "tiny-gen", "-p", "threads=1", "-o", out).exit_code == 0


def test_generate_errors(onnx_plugin, tmp_path, capsys):
    assert main(["generate", "tiny-gen", "--labels", "1", "-o", str(tmp_path)]) == 1
    assert "unconditional" in capsys.readouterr().err
    assert main(["generate", "tiny-cgen", "--labels", "1,x", "-o", str(tmp_path)]) == 2
    assert main(["generate", "tiny-cgen", "--labels", "1,2", "-n", "3", "-o", str(tmp_path)]) == 1
    assert main(["generate", "tiny-gen", "--no-grid", "-o", str(tmp_path)]) == 2
    assert "--no-grid needs --individual" in capsys.readouterr().err


def test_info_of_onnx_models(onnx_plugin):
    d = json.loads(_run("info", "tiny-seg", "--json").output)
    assert d["kind"] == "segmenter" and d["classes"] == ["background", "bright"]
    assert d["metrics"] == {"iou": 1.0} and d["provenance"]["training"]["epochs"] == 0
    assert len(d["provenance"]["sha256"]) == 64 and d["file"].endswith("tiny-seg.onnx")
    res = _run("info", "tiny-cgen")
    assert res.exit_code == 0 and "num_classes: 10" in res.output and "latent_size: 4" in res.output


def test_train(onnx_plugin, tmp_path, capsys):
    assert main(["train", "tiny", "-p", "epochs=3", "-o", str(tmp_path / "t")]) == 0
    assert json.loads((tmp_path / "t" / "tiny.json").read_text()) == {"epochs": 3}
    assert main(["train", "tiny-needs-torch", "-o", str(tmp_path / "t")]) == 1
    err = capsys.readouterr().err
    assert "needs the 'train' extra: pip install 'segen[train]'" in err
    assert "tiny-needs-torch" in _run("train").output


def test_demo_shows_every_segmenter_and_generator(onnx_plugin, tmp_path):
    out = tmp_path / "demo"
    res = _run("demo", "-o", out)
    assert res.exit_code == 0, res.output
    for name in BUILTINS + ["tiny-seg"]:
        labels = segen.io.imread(out / f"seg-{name}-labels.png")
        assert labels.ndim == 3 and labels.std() > 1, name
        assert segen.io.imread(out / f"seg-{name}-overlay.png").shape[2] == 3
    for name in ("tiny-gen", "tiny-cgen"):
        grid = segen.io.imread(out / f"gen-{name}.png")
        # 16 samples of 8x8, each pixel drawn 8x8 (small samples are enlarged to 64 px), 2 px gaps
        assert grid.shape == (4 * 66 + 2, 4 * 66 + 2) and grid.std() > 1
    html_text = (out / "index.html").read_text()
    assert "tiny-gen: 16 samples" in html_text and "watershed: overlay" in html_text
    assert "Failed" not in html_text


def test_demo_survives_a_failing_model(many_labels_plugin, tmp_path, monkeypatch):
    monkeypatch.setattr(
        segen.FunctionSegmenter,
        "sample_input",
        lambda self: (_ for _ in ()).throw(RuntimeError("boom")) if self.info.name == "every-pixel" else None,
    )
    res = _run("demo", "-o", tmp_path / "d")
    assert res.exit_code == 0 and "1 step(s) failed" in res.output
    assert "every-pixel: RuntimeError: boom" in (tmp_path / "d" / "index.html").read_text()
    assert (tmp_path / "d" / "seg-kmeans-overlay.png").exists()


_NO_TORCH = """
import sys
attempted = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'skimage', 'scipy', 'cv2', 'sklearn'):
            attempted.append(name)
        return None

sys.meta_path.insert(0, Watch())
from segen.cli import main
code = main(['demo', '-o', sys.argv[1]])
print(code, sorted(set(attempted)), 'onnxruntime' in sys.modules or 'no-ort', 'pluggy' in sys.modules)
"""


def test_demo_in_a_real_process_imports_no_torch(tmp_path):
    out = run_python(_NO_TORCH, str(tmp_path / "d"))
    # exit 0, no attempt to import torch/scikit-image/scipy/OpenCV/scikit-learn; the plugin engine did run
    last = out.strip().splitlines()[-1].split()
    assert last[0] == "0" and last[1] == "[]" and last[-1] == "True", out
    assert (tmp_path / "d" / "demo.png").stat().st_size > 10_000


def test_help_loads_plugins_but_no_heavy_module():
    heavy = ("numpy", "onnxruntime", "segen._core", "PIL", "tqdm")
    assert modules_loaded("from segen.cli import main; main(['--help'])", (*heavy, "pluggy")) == ["pluggy"]


def test_segment_goes_on_past_a_bad_image_and_exits_1(photo, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"<html>not an image</html>")
    out = tmp_path / "o"
    res = _run("segment", photo, bad, "-m", "otsu", "-o", out)
    assert res.exit_code == 1
    assert "bad.png" in res.output and "1 of 2 image(s) failed" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["astro_labels.png"]  # no temporary files left
    res = _run("segment", bad, photo, "-m", "otsu", "-o", tmp_path / "o2", "--fail-fast")
    assert res.exit_code != 0 and not (tmp_path / "o2" / "astro_labels.png").exists()
    assert main(["segment", str(photo), str(bad), "-m", "otsu", "-o", str(out)]) == 1


def test_segment_refuses_to_overwrite_an_input(photo, tmp_path):
    import shutil

    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(photo, d / "astro.png")
    shutil.copy(photo, d / "astro_labels.png")
    res = _run("segment", d / "astro.png", d / "astro_labels.png", "-m", "otsu", "-o", d)
    assert res.exit_code == 2 and "overwrite an input" in res.output


def test_global_threads_option(photo, tmp_path):
    before = segen.get_num_threads()
    try:
        res = _run("--threads", "1", "info")
        assert res.exit_code == 0 and "threads: 1" in res.output
        assert _run("--threads", "0", "info").exit_code == 2
    finally:
        segen.set_num_threads(before)


def test_recipe_options_as_flags_values_and_switches():
    from segen.cli.train import extra_params as _extra_params

    assert _extra_params(
        ["--epochs", "3", "--dataset=shapes", "--conditional", "--lr", "-0.5", "--resume"]
    ) == (
        "epochs=3",
        "dataset=shapes",
        "conditional=true",
        "lr=-0.5",
        "resume=true",
    )
    with pytest.raises(Exception, match="--KEY VALUE"):
        _extra_params(["epochs", "3"])


def test_demo_segments_each_model_on_its_own_kind_of_image(tmp_path):
    # a shipped ONNX segmenter's sample_input() is an image of its training set (a 128 x 128 shapes image
    # for fcn-shapes: tests/segen/onnx/test_segmenter.py); a segmenter without one gets the sample scene
    if "fcn-shapes" not in segen.list_segmenters():
        pytest.skip("the fcn plugin is not installed")
    out = tmp_path / "demo"
    assert _run("demo", "-o", out).exit_code == 0
    scene = segen.io.imread(out / "input.png").shape
    assert segen.io.imread(out / "seg-fcn-shapes-overlay.png").shape == (128, 128, 3) != scene
    assert segen.io.imread(out / "seg-kmeans-overlay.png").shape == scene


def test_plugin_commands_are_added_through_the_hook():
    import click

    mod = types.ModuleType("hello_plugin")

    @segen.hookimpl
    def register_commands(cli):
        @cli.command()
        @click.argument("who")
        def hello(who):
            """Say hello (a plugin's command)."""
            click.echo(f"hello {who}")

    mod.register_commands = register_commands
    plugins.reset()  # a fresh host: it asks the plugins for their commands once per group
    try:
        plugins.register_plugin(mod, "hello")
        assert "Say hello" in _run("--help").output
        res = _run("hello", "world")
        assert res.exit_code == 0 and res.output == "hello world\n"
    finally:
        cli.commands.pop("hello", None)
        plugins.reset()


# ---- RELIABILITY.md 3.6 (CLI) and 3.5 (plugins) --------------------------------------------------------------


def test_a_huge_min_distance_comes_back(tmp_path, coffee):
    # `segen segment -m watershed -p min_distance=<huge>` did not come back (peak_local_max sized its work by
    # the parameter): a real process, with a time limit
    import time

    src = tmp_path / "coffee.png"
    segen.io.imwrite(src, coffee)
    for md in (10**6, 10**9, 10**18):
        start = time.monotonic()
        args = ["segment", str(src), "-m", "watershed", "-p", f"min_distance={md}", "-o", str(tmp_path / "o")]
        res = subprocess.run(
            [sys.executable, "-m", "segen", *args], capture_output=True, text=True, timeout=120
        )
        assert time.monotonic() - start < 30, md
        # one peak spans the image (a clear usage error naming the parameter would do too)
        assert res.returncode == 0 or (res.returncode == 2 and "min_distance" in res.stderr), res.stderr
        assert "Traceback" not in res.stderr


@pytest.fixture
def misbehaving_plugin():
    """Segmenters that raise a RuntimeError or SystemExit on an image whose first pixel is 255."""
    mod = types.ModuleType("misbehaving")

    def make(exc):
        def run(img):
            if img.flat[0] == 255:
                raise exc
            return img[..., 0] > 127 if img.ndim == 3 else img > 127

        return lambda: segen.FunctionSegmenter(run, name="bad")

    @segen.hookimpl
    def register_segmenters(register):
        register("raises", make(RuntimeError("plugin bug")))
        register("exits", make(SystemExit(7)))

    mod.register_segmenters = register_segmenters
    plugins.register_plugin(mod, "misbehaving")
    yield
    plugins.unregister_plugin("misbehaving")


@pytest.mark.parametrize(
    "method, error", [("raises", "RuntimeError: plugin bug"), ("exits", "SystemExit: 7")]
)
def test_a_segmenter_raising_anything_is_that_images_error(
    misbehaving_plugin, method, error, tmp_path, capsys
):
    # RELIABILITY L4/X2: a plugin's segment() raising (a RuntimeError, even SystemExit) is one image's error
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    segen.io.imwrite(good, np.zeros((8, 8), np.uint8))
    segen.io.imwrite(bad, np.full((8, 8), 255, np.uint8))
    out = tmp_path / "o"
    assert main(["segment", str(bad), str(good), "-m", method, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"bad.png: segmenter '{method}' raised {error}" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["good_labels.png"]
    assert main(["segment", str(bad), str(good), "-m", method, "-o", str(out), "--fail-fast"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("segen: error:") and error in lines[0]


def test_not_a_tty_no_progress_bar_data_on_stdout(photo, tmp_path):
    # RELIABILITY X7: through pipes, no progress bar; the summary on stdout, nothing else there
    others = []
    for i in range(3):
        others.append(tmp_path / f"p{i}.png")
        others[-1].write_bytes(photo.read_bytes())
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "segen",
            "segment",
            *map(str, others),
            "-m",
            "otsu",
            "-o",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [res.stdout.strip()] and res.stdout.startswith("segmented 3 image(s)")
    assert "image/s" not in res.stderr and "\r" not in res.stderr and "%|" not in res.stderr
    res = subprocess.run([sys.executable, "-m", "segen", "list", "--json"], capture_output=True, text=True)
    assert res.returncode == 0 and "kmeans" in {r["name"] for r in json.loads(res.stdout)["segmenters"]}


def test_commands_make_no_network_attempt(photo, tmp_path, monkeypatch):
    # RELIABILITY X5: segen downloads nothing (models ship with their plugins): no socket is ever opened
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("segen tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for args in (["list"], ["info", "kmeans"], ["segment", photo, "-m", "kmeans", "-o", tmp_path / "o"]):
        res = _run(*args)
        assert res.exit_code == 0 and res.exception is None, (args, res.output)
    for name in segen.list_segmenters():
        if name.startswith("fcn-") or name.startswith("unet-"):  # an ONNX model, if installed
            assert _run("segment", photo, "-m", name, "-o", tmp_path / "o").exit_code == 0, name
            break


_GLOBALS = """
import json, logging, signal, sys, warnings
import numpy as np
import segen

def snapshot():
    root = logging.getLogger()
    return {
        "threads": segen.get_num_threads(),
        "numpy errors": np.geterr(),
        "numpy print": np.get_printoptions()["precision"],
        "logging": [root.level, len(root.handlers), logging.root.manager.disable],
        "warnings filters": len(warnings.filters),
        "sigint": repr(signal.getsignal(signal.SIGINT)),
        "recursion limit": sys.getrecursionlimit(),
        "path": list(sys.path),
    }

before = snapshot()
segen.plugins.get_host()  # imports every installed plugin and runs its registration hooks
after = snapshot()
print(json.dumps({k: [before[k], after[k]] for k in before if before[k] != after[k]}))
"""


def test_loading_the_installed_plugins_changes_no_global_setting():
    # RELIABILITY L10 (docs/plugins.md: a plugin changes no global setting at import or registration)
    changed = json.loads(run_python(_GLOBALS).strip().splitlines()[-1])
    assert changed == {}, changed


def test_demo_sets_an_instance_model_beside_the_classical_recipe(tmp_path):
    # an instance segmenter with its own kind of image (unet-nuclei: a synthetic fluorescence image) is
    # also drawn next to segment_touching_objects with a local threshold on the same image
    if "unet-nuclei" not in segen.list_segmenters():
        pytest.skip("the nuclei plugin is not installed")
    out = tmp_path / "demo"
    assert _run("demo", "-o", out).exit_code == 0
    overlay = segen.io.imread(out / "seg-unet-nuclei-overlay.png")
    pair = segen.io.imread(out / "seg-unet-nuclei-vs-recipe.png")
    h, w = overlay.shape[:2]
    assert pair.shape == (h, 2 * w + 8, 3)
    np.testing.assert_array_equal(pair[:, :w], overlay)
    assert not np.array_equal(pair[:, w + 8 :], overlay)  # the recipe finds other outlines
    assert not (out / "seg-kmeans-vs-recipe.png").exists()  # classes, not instances
    assert "classical recipe" in (out / "index.html").read_text()


def test_info_describes_a_model_file(tmp_path):
    seg = make_segmenter_model(tmp_path, "mine")
    gen = make_generator_model(tmp_path, "gen")
    r = _run("info", str(seg), "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["kind"] == "segmenter" and d["name"] == str(seg)
    assert d["summary"] == json.loads(seg.with_suffix(".json").read_text())["summary"]
    r = _run("info", str(gen))
    assert r.exit_code == 0 and r.output.startswith(f"generator {gen}")
    r = _run("info", str(tmp_path / "missing.onnx"))
    assert r.exit_code == 2 and "missing.onnx not found" in r.output
