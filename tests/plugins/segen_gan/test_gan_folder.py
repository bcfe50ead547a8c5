"""``segen train dcgan|cgan --data DIR --size N``: GANs trained on a folder of images written by the test."""

from __future__ import annotations

import json

import numpy as np
import pytest
import segen
from segen.cli import main
from segen.data import ImageFolder
from segen.errors import DataError
from segen.io import imwrite
from segen.onnx import OnnxGenerator

TINY = {
    "latent_size": 8,
    "width": 4,
    "embed_size": 4,
    "batch_size": 8,
    "grid_every": 1,
    "progress": False,
    "size": 32,
}


def _stripes(root, n=12, seed=0):
    """Two classes of 40 x 48 RGB pictures: red horizontal stripes and blue vertical ones."""
    rng = np.random.default_rng(seed)
    for name, axis, ch in (("horizontal", 0, 0), ("vertical", 1, 2)):
        (root / name).mkdir(parents=True)
        for i in range(n):
            img = np.zeros((40, 48, 3), np.uint8)
            period = int(rng.integers(6, 10))
            line = (np.arange(48 if axis else 40) // (period // 2)) % 2
            img[..., ch] = 220 * (line[:, None] if axis == 0 else line[None, :]) + rng.integers(0, 30)
            imwrite(root / name / f"{i:02d}.png", img)
    return root


@pytest.fixture(scope="module")
def gan_train():
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from segen_gan import train

    return train


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _stripes(tmp_path_factory.mktemp("stripes") / "stripes")


@pytest.fixture(scope="module", params=["dcgan", "cgan"])
def run(request, gan_train, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"{request.param}-folder")
    meta = gan_train.train(out, recipe=request.param, data=str(folder), epochs=3, seed=1, **TINY)
    return request.param, out, meta


def test_folder_run_trains_and_records_the_data(run, folder):
    recipe, out, meta = run
    losses = meta["training"]["losses"]
    d = np.array(losses["d_loss"])
    assert d.shape == (3,) and np.isfinite(d).all() and np.isfinite(losses["g_loss"]).all()
    assert d[-1] < d[0], f"D's loss did not fall: {d}"  # D learns to tell the fakes from the stripes
    assert meta["parity"] <= 1e-4  # ONNX Runtime vs torch, batches 1, 7, 64 and 256
    data = meta["training"]["data"]
    assert data["fingerprint"] == ImageFolder(folder, size=32).fingerprint()
    assert data["fingerprint"]["file_count"] == 24 and data["channels"] == 3 and data["size"] == 32
    assert data["classes"] == ["horizontal", "vertical"] and data["skipped"] == []
    assert meta["training"]["command"].startswith(f"segen train {recipe} --epochs 3 --seed 1")
    assert f"--data {folder} --size 32 --channels 3 --crop center" in meta["training"]["command"]
    assert meta["training"]["device"] == "cpu"
    assert meta["outputs"]["images"]["shape"] == ["N", 3, 32, 32] and meta["channels"] == 3
    name = f"{recipe}-stripes"
    for f in (".onnx", ".json", "_samples.png", "_epoch003.png", ".ckpt.pt"):
        assert (out / f"{name}{f}").is_file(), f
    assert "metrics" in meta and "judge" not in meta["metrics"]  # the digits judge does not apply


def test_folder_model_loads_by_path_and_generates_rgb(run):
    recipe, out, meta = run
    path = out / f"{recipe}-stripes.onnx"
    gen = segen.get_generator(str(path))
    labels = [0, 1, 1] if recipe == "cgan" else None
    imgs = gen.generate(3, seed=2, labels=labels)
    assert imgs.shape == (3, 32, 32, 3) and imgs.dtype == np.uint8
    np.testing.assert_array_equal(imgs, OnnxGenerator(path).generate(3, seed=2, labels=labels))
    if recipe == "cgan":
        assert gen.info.num_classes == 2 and meta["classes"] == ["horizontal", "vertical"]
    grid = segen.io.imread(out / f"{recipe}-stripes_samples.png")
    rows = 2 if recipe == "cgan" else 10  # one row per class
    assert grid.shape == (rows * 34 + 2, 10 * 34 + 2, 3)


def test_folder_run_resumes_to_the_same_model(gan_train, folder, run, tmp_path):
    recipe, out, meta = run
    gan_train.train(tmp_path, recipe=recipe, data=str(folder), epochs=2, seed=1, **TINY)
    again = gan_train.train(tmp_path, recipe=recipe, data=str(folder), epochs=3, seed=1, resume=True, **TINY)
    assert again["training"]["resumed_from_epoch"] == 2
    assert again["training"]["losses"] == meta["training"]["losses"]


def test_folder_run_random_crop_and_grey(gan_train, folder, tmp_path):
    meta = gan_train.train(
        tmp_path, recipe="dcgan", data=str(folder), epochs=1, channels=1, crop="random", **TINY
    )
    assert meta["channels"] == 1 and "random" in meta["training"]["data"]["crop"]
    assert OnnxGenerator(tmp_path / "dcgan-stripes.onnx").generate(2, seed=0).shape == (2, 32, 32)


def test_folder_bad_data_and_arguments(gan_train, folder, tmp_path):
    one = tmp_path / "one"
    (one / "only").mkdir(parents=True)
    imwrite(one / "only" / "a.png", np.zeros((32, 32), np.uint8))
    with pytest.raises(DataError, match="at least two classes"):
        gan_train.train(tmp_path, recipe="cgan", data=str(one), **TINY)
    with pytest.raises(DataError, match="no such folder"):
        gan_train.train(tmp_path, recipe="dcgan", data=str(tmp_path / "missing"), **TINY)
    with pytest.raises(ValueError, match="size"):
        gan_train.train(tmp_path, recipe="dcgan", data=str(folder), **{**TINY, "size": 48})
    with pytest.raises(ValueError, match="batch_size"):
        gan_train.train(tmp_path, recipe="dcgan", data=str(folder), epochs=1, **{**TINY, "batch_size": 64})
    with pytest.raises(ValueError, match="`size` and `channels` are for a folder"):
        gan_train.train(tmp_path, recipe="dcgan", size=64)
    with pytest.raises(ValueError, match="device"):
        gan_train.train(tmp_path, recipe="dcgan", data=str(folder), device="tpu", **TINY)
    with pytest.raises(ValueError, match="aux"):
        gan_train.train(tmp_path, recipe="dcgan", data=str(one), aux=1.0, **TINY)


def test_folder_skip_bad_is_counted_in_the_sidecar(gan_train, tmp_path):
    root = _stripes(tmp_path / "data", n=8)
    (root / "vertical" / "07.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DataError, match="07.png: unreadable"):
        gan_train.train(tmp_path / "o1", recipe="cgan", data=str(root), epochs=1, **TINY)
    with pytest.warns(UserWarning, match="07.png: unreadable, skipped"):
        meta = gan_train.train(
            tmp_path / "o2", recipe="cgan", data=str(root), epochs=1, skip_bad=True, **TINY
        )
    assert meta["training"]["data"]["skipped"] == ["vertical/07.png"]


def test_cli_trains_on_a_folder(folder, tmp_path, capsys):
    pytest.importorskip("torch")
    args = ["train", "cgan", "--data", str(folder), "--size", "32", "--epochs", "1", "--width", "4"]
    args += ["--latent-size", "8", "--batch-size", "8", "--progress", "false", "-o", str(tmp_path)]
    assert main(args) == 0
    meta = json.loads((tmp_path / "cgan-stripes.json").read_text())
    assert meta["output_size"] == [32, 32] and meta["num_classes"] == 2
    assert "cgan-stripes.onnx" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["train", "dcgan", "--data", str(tmp_path / "empty"), "--size", "32"]) != 0
    assert "no image found" in capsys.readouterr().err
