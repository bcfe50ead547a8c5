"""``segen train vae|cvae --data DIR --size N``: VAEs trained on a folder of images written by the test."""

from __future__ import annotations

import json

import numpy as np
import pytest
from segen.cli import main
from segen.data import ImageFolder
from segen.errors import DataError, DataWarning, UnknownModelError
from segen.io import imwrite

TINY = {
    "latent_size": 4,
    "width": 4,
    "batch_size": 8,
    "importance_samples": 0,
    "elbo_samples": 1,
    "sample_every": 1,
    "progress": False,
}


def _pictures(root, *, rgb: bool, n: int = 12, seed: int = 0):
    """Two classes of 36 x 44 pictures: bright discs on a dark ground and dark rings on a bright one (RGB:
    the discs red, the rings blue)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:36, 0:44]
    for k, name in enumerate(("discs", "rings")):
        (root / name).mkdir(parents=True)
        for i in range(n):
            r = np.hypot(yy - rng.uniform(12, 24), xx - rng.uniform(14, 30))
            grey = np.where(r < 9, 220, 30) if k == 0 else np.where(np.abs(r - 9) < 2, 20, 230)
            img = np.clip(grey + rng.normal(0, 6, grey.shape), 0, 255).astype(np.uint8)
            if rgb:
                img = np.stack([img, img // 3, img // 3] if k == 0 else [img // 3, img // 3, img], axis=-1)
            imwrite(root / name / f"{i:02d}.png", img)
    return root


@pytest.fixture(scope="module")
def vae_train():
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("sklearn")  # the fitted prior
    from segen_vae import train

    return train


@pytest.fixture(scope="module")
def grey(tmp_path_factory):
    return _pictures(tmp_path_factory.mktemp("grey") / "shapes", rgb=False)


@pytest.fixture(scope="module")
def cvae_run(vae_train, grey, tmp_path_factory):
    out = tmp_path_factory.mktemp("cvae-folder")
    meta = vae_train.train(out, conditional=True, data=str(grey), size=32, epochs=3, seed=1, **TINY)
    return out, meta


@pytest.fixture(scope="module")
def rgb_run(vae_train, tmp_path_factory):
    """An unconditional RGB VAE at 64 x 64 on a folder holding one truncated file (skipped)."""
    root = _pictures(tmp_path_factory.mktemp("rgb") / "colour", rgb=True, n=8, seed=3)
    (root / "discs" / "99_truncated.png").write_bytes((root / "discs" / "00.png").read_bytes()[:60])
    out = tmp_path_factory.mktemp("vae-rgb")
    with pytest.warns(DataWarning) as caught:  # the 36 x 44 pictures are enlarged: a warning too
        meta = vae_train.train(out, data=str(root), size=64, skip_bad=True, epochs=2, seed=0, **TINY)
    assert any("99_truncated.png: unreadable, skipped" in str(w.message) for w in caught)
    return root, out, meta


def test_cvae_folder_run_learns_and_records_the_data(cvae_run, grey):
    out, meta = cvae_run
    hist = meta["training"]["history"]
    assert hist["rec"][-1] < hist["rec"][0], hist["rec"]  # the reconstruction term falls
    assert hist["held_out_neg_elbo"][-1] < hist["held_out_neg_elbo"][0], hist["held_out_neg_elbo"]
    assert max(meta["metrics"]["onnx_parity_max_abs_diff"].values()) <= 1e-4
    data = meta["training"]["data"]
    assert data["fingerprint"] == ImageFolder(grey, size=32).fingerprint()
    assert data["fingerprint"]["file_count"] == 24 and data["classes"] == ["discs", "rings"]
    # a seeded per-class split: 10% of 12 rounds to 1 held-out image per class, never trained on
    assert (
        data["held_out_images"] == 2
        and data["train_images"] == 22
        and meta["metrics"]["held_out"]["images"] == 2
    )
    assert meta["classes"] == ["discs", "rings"] and meta["num_classes"] == 2
    assert meta["outputs"]["images"]["shape"] == ["N", 1, 32, 32] and meta["channels"] == 1
    assert f"--data {grey} --size 32 --channels 1 --crop center" in meta["training"]["command"]
    assert meta["training"]["device"] == "cpu" and meta["training"]["shift"] == 0
    assert "judge" not in meta["metrics"]  # the digit judge does not apply to a folder
    enc = json.loads((out / "cvae-shapes-encoder.json").read_text())
    assert enc["inputs"]["images"]["shape"] == ["N", 1, 32, 32] and enc["classes"] == ["discs", "rings"]
    for f in (".onnx", "-encoder.onnx", "_samples.png", "_reconstructions.png", ".ckpt.pt"):
        assert (out / f"cvae-shapes{f}").is_file(), f
    assert (out / "cvae-shapes_progress" / "epoch0003_samples.png").is_file()


def test_cvae_folder_model_matches_torch_and_generates(cvae_run):
    torch = pytest.importorskip("torch")
    from segen_vae.model import VaeGenerator
    from segen_vae.net import DecoderImages, load_onnx

    out, meta = cvae_run
    path = out / "cvae-shapes.onnx"
    vae = VaeGenerator(path)
    z = np.random.default_rng(4).standard_normal((7, 4)).astype(np.float32)
    labels = np.array([0, 1, 0, 1, 1, 0, 1])
    onnx_out = vae.model.run({"z": z, "labels": labels})[0]
    with torch.no_grad():
        torch_out = DecoderImages(load_onnx(path).decoder)(
            torch.from_numpy(z), torch.from_numpy(labels)
        ).numpy()
    assert onnx_out.shape == (7, 1, 32, 32)
    np.testing.assert_allclose(onnx_out, torch_out, atol=1e-4, rtol=0)
    images = vae.generate(5, seed=0, labels=1)
    assert images.shape == (5, 32, 32) and images.dtype == np.uint8
    mean, logvar = vae.encode(images, labels=1)
    assert mean.shape == logvar.shape == (5, 4)


def test_rgb_folder_run_skips_the_bad_file(rgb_run):
    root, out, meta = rgb_run
    data = meta["training"]["data"]
    assert data["channels"] == 3 and data["size"] == 64 and data["fingerprint"]["file_count"] == 17
    assert data["skipped"] == ["discs/99_truncated.png"]
    assert meta.get("num_classes") is None and meta["outputs"]["images"]["shape"] == ["N", 3, 64, 64]
    assert "--skip-bad true" in meta["training"]["command"]
    from segen_vae.model import VaeGenerator

    vae = VaeGenerator(out / "vae-colour.onnx")
    images = vae.generate(3, seed=0)
    assert images.shape == (3, 64, 64, 3)
    recon = vae.reconstruct(images)
    assert recon.shape == images.shape and recon.dtype == np.uint8
    with pytest.raises(ValueError, match=r"\(N, 64, 64, 3\)"):
        vae.encode(images[..., 0])  # grey images for an RGB model


def test_bad_folders_stop_with_the_file_named(vae_train, grey, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no image"):
        vae_train.train(tmp_path / "o1", data=str(empty), **TINY)
    one = tmp_path / "one"
    (one / "only").mkdir(parents=True)
    for i in range(3):
        imwrite(one / "only" / f"{i}.png", np.full((80, 80), 9 * i, np.uint8))
    with pytest.raises(DataError, match="at least two classes"):
        vae_train.train(tmp_path / "o2", conditional=True, data=str(one), **TINY)
    lonely = tmp_path / "lonely"
    (lonely / "a").mkdir(parents=True)
    (lonely / "b").mkdir()
    imwrite(lonely / "a" / "0.png", np.zeros((80, 80), np.uint8))
    imwrite(lonely / "a" / "1.png", np.zeros((80, 80), np.uint8))
    imwrite(lonely / "b" / "0.png", np.zeros((80, 80), np.uint8))
    with pytest.raises(DataError, match=r"b: 1 image\(s\); a class needs at least two"):
        vae_train.train(tmp_path / "o3", conditional=True, data=str(lonely), **TINY)
    broken = tmp_path / "broken"
    (broken / "x").mkdir(parents=True)
    imwrite(broken / "x" / "0.png", np.zeros((80, 80), np.uint8))
    (broken / "x" / "1.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="1.png: unreadable"):
        vae_train.train(tmp_path / "o4", data=str(broken), **TINY)
    with pytest.raises(ValueError, match="val_fraction"):
        vae_train.train(tmp_path / "o5", data=str(grey), val_fraction=1.5, **TINY)
    with pytest.raises(ValueError, match="folder of images"):
        vae_train.train(tmp_path / "o6", size=64, **TINY)
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 7))  # nothing written before the checks


def test_cli_lists_and_checks_the_folder_options(vae_train, grey, tmp_path, capsys):
    assert main(["train", "cvae", "--help"]) in (0, None)
    text = capsys.readouterr().out
    for flag in ("--data", "--size 32|64|128", "--channels 1|3", "--crop", "--skip-bad", "--device"):
        assert flag in text, flag
    rc = main(["train", "cvae", "--data", str(grey), "--size", "48", "-o", str(tmp_path / "bad")])
    assert rc not in (0, None) and "`--size` must be one of 32, 64, 128" in capsys.readouterr().err
    args = ["--data", str(grey), "--size", "32", "--epochs", "1", "--width", "4", "--latent-size", "4"]
    args += ["--batch-size", "8", "--importance-samples", "0", "--elbo-samples", "1", "--progress", "false"]
    capsys.readouterr()
    assert main(["train", "vae", *args, "-o", str(tmp_path / "cli")]) in (0, None)
    meta = json.loads((tmp_path / "cli" / "vae-shapes.json").read_text())
    held = meta["metrics"]["held_out"]
    out = capsys.readouterr().out  # the run ends with the held-out scores of a generator too
    assert f"held-out: neg_elbo_nats {held['neg_elbo_nats']}" in out and f"({held['images']} images)" in out
    assert meta["training"]["data"]["fingerprint"]["file_count"] == 24 and meta.get("num_classes") is None


def test_trained_vae_in_the_user_model_folder(cvae_run, user_model_dir):
    import segen

    out, meta = cvae_run
    for f in ("cvae-shapes.onnx", "cvae-shapes.json", "cvae-shapes-encoder.onnx", "cvae-shapes-encoder.json"):
        (user_model_dir / f).write_bytes((out / f).read_bytes())
    names = segen.list_generators()
    gen = segen.get_generator("cvae-shapes")  # by name from the folder, sidecar and sha256 checked
    assert gen.generate(4, seed=0, labels=[0, 1, 0, 1]).shape == (4, 32, 32)
    by_path = segen.get_generator(str(out / "cvae-shapes.onnx"))
    np.testing.assert_array_equal(by_path.generate(3, seed=2, labels=1), gen.generate(3, seed=2, labels=1))
    # the sidecar's loader ("segen-vae") makes both a VaeGenerator: the fitted prior, not N(0, I), and the
    # encoder found beside the decoder
    from segen_vae.model import VaeGenerator

    assert meta["loader"] == "segen-vae" and meta.get("prior")
    for g in (gen, by_path):
        assert isinstance(g, VaeGenerator) and g.prior is not None
    imgs = by_path.generate(2, seed=0, labels=[0, 1])
    assert by_path.reconstruct(imgs, labels=[0, 1]).shape == imgs.shape
    with pytest.raises(segen.ModelError, match="encoder of the VAE 'cvae-shapes.onnx'"):
        segen.get_generator(str(out / "cvae-shapes-encoder.onnx"))
    with pytest.raises(UnknownModelError, match="did you mean 'cvae-shapes'"):
        segen.get_generator("cvae-shapes-encoder")  # not listed as a generator
    assert "cvae-shapes" in names and "cvae-shapes-encoder" not in names


def test_same_seed_same_model(cvae_run, vae_train, grey, tmp_path):
    from segen.onnx import sha256_of

    out, meta = cvae_run
    again = vae_train.train(tmp_path, conditional=True, data=str(grey), size=32, epochs=3, seed=1, **TINY)
    assert sha256_of(tmp_path / "cvae-shapes.onnx") == sha256_of(out / "cvae-shapes.onnx")
    assert again["training"]["history"] == meta["training"]["history"]


def test_an_interrupted_run_resumed_ends_with_the_uninterrupted_weights(
    cvae_run, vae_train, grey, tmp_path, monkeypatch
):
    """Stopped in its second epoch (after the first epoch's checkpoint), then resumed: the same ONNX bytes
    and history as the run that was never stopped; other settings refuse to resume."""
    from segen.onnx import sha256_of
    from segen.training.loop import Checkpoint

    out, meta = cvae_run
    saved, calls = [], []
    real_save, real_shift = Checkpoint.save, vae_train.random_shift

    def save(self, loop):
        real_save(self, loop)
        saved.append(loop.epoch)

    def shift(*args):
        if saved:
            calls.append(1)
            if len(calls) == 2:  # the second batch of epoch 2
                raise KeyboardInterrupt
        return real_shift(*args)

    monkeypatch.setattr(Checkpoint, "save", save)
    monkeypatch.setattr(vae_train, "random_shift", shift)
    kw = dict(conditional=True, data=str(grey), size=32, epochs=3, seed=1, **TINY)
    with pytest.raises(KeyboardInterrupt):
        vae_train.train(tmp_path, **kw)
    assert saved == [1] and not (tmp_path / "cvae-shapes.onnx").exists()
    monkeypatch.setattr(vae_train, "random_shift", real_shift)
    with pytest.raises(ValueError, match="settings differ"):
        vae_train.train(tmp_path, **{**kw, "lr": 1e-3}, resume=True)
    resumed = vae_train.train(tmp_path, **kw, resume=True)
    assert resumed["training"]["resumed_from_epoch"] == 1
    assert resumed["training"]["history"] == meta["training"]["history"]
    assert sha256_of(tmp_path / "cvae-shapes.onnx") == sha256_of(out / "cvae-shapes.onnx")
