"""The GAN plugin: tiny DCGAN/cGAN recipes (finite, changing losses; resume), torch-vs-ONNX Runtime parity,
the shipped dcgan-digits / cgan-digits (no torch, same seed same images at 1 and 2 threads, quality
re-measured by the judge), Generator.interpolate and ``segen generate --interpolate``."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
import segen
from helpers import ROOT, run_without_torch
from segen.cli import main
from segen.errors import InvalidArgumentError
from segen.onnx import OnnxGenerator

MODELS = ROOT / "plugins" / "segen_gan" / "models"
SHIPPED = ("dcgan-digits", "cgan-digits")


def _shipped(name) -> pathlib.Path:
    path = MODELS / f"{name}.onnx"
    if not path.is_file():
        pytest.skip(f"{name} is not shipped in this checkout")
    return path


def _meta(name) -> dict:
    return json.loads(_shipped(name).with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def gan_train(torch):
    pytest.importorskip("onnx")
    pytest.importorskip("sklearn")  # the digits
    from segen_gan import train

    return train


TINY = {
    "latent_size": 8,
    "width": 4,
    "embed_size": 4,
    "batch_size": 256,
    "grid_every": 1,
    "evaluate": False,
    "progress": False,
}


@pytest.fixture(scope="module", params=["dcgan", "cgan"])
def tiny_run(request, gan_train, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    meta = gan_train.train(out, recipe=request.param, epochs=3, seed=1, **TINY)
    return request.param, out, meta


# ---- training ----------------------------------------------------------------------------------------------


def test_tiny_training_losses_are_finite_and_change(tiny_run):
    recipe, out, meta = tiny_run
    losses = meta["training"]["losses"]
    for key in ("d_loss", "g_loss"):
        v = np.array(losses[key])
        assert v.shape == (3,) and np.isfinite(v).all(), key
        assert np.ptp(v) > 1e-4, f"{key} did not change: {v}"
    assert meta["training"]["generator_steps"] == 3 * (1438 // 256)
    if recipe == "dcgan":  # the auxiliary classifier's terms
        assert np.isfinite(losses["d_aux"]).all() and np.isfinite(losses["g_aux"]).all()
        assert losses["g_aux"][-1] < 0  # marginal entropy > per-sample entropy
    assert meta["parity"] <= 1e-4
    assert meta["training"]["command"].startswith(f"segen train {recipe} --epochs 3 --seed 1")
    for f in (
        f"{recipe}-digits.onnx",
        f"{recipe}-digits.json",
        f"{recipe}-digits_samples.png",
        f"{recipe}-digits_epoch003.png",
        f"{recipe}-digits.ckpt.pt",
    ):
        assert (out / f).is_file(), f


def test_tiny_export_loads_and_generates(tiny_run):
    recipe, out, _ = tiny_run
    gen = OnnxGenerator(out / f"{recipe}-digits.onnx")
    assert gen.info.latent_size == 8
    assert gen.info.num_classes == (10 if recipe == "cgan" else None)
    imgs = gen.generate(5, seed=2)
    assert imgs.shape == (5, 16, 16) and imgs.dtype == np.uint8
    np.testing.assert_array_equal(imgs, gen.generate(5, seed=2))
    assert not np.array_equal(imgs, gen.generate(5, seed=3))
    grid = segen.io.imread(out / f"{recipe}-digits_samples.png")
    assert grid.shape[0] == grid.shape[1] > 10 * 32  # 10 x 10 samples drawn at 2x


def test_resume_continues_the_same_run(gan_train, tiny_run, tmp_path):
    """Two epochs, then a resumed third, give the same model as three epochs in one go."""
    recipe, out, meta = tiny_run
    gan_train.train(tmp_path, recipe=recipe, epochs=2, seed=1, **TINY)
    resumed = gan_train.train(tmp_path, recipe=recipe, epochs=3, seed=1, resume=True, **TINY)
    assert resumed["training"]["resumed_from_epoch"] == 2
    assert resumed["training"]["losses"] == meta["training"]["losses"]
    z = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    a = OnnxGenerator(out / f"{recipe}-digits.onnx").generate(4, z=z)
    b = OnnxGenerator(tmp_path / f"{recipe}-digits.onnx").generate(4, z=z)
    np.testing.assert_array_equal(a, b)


def test_train_rejects_bad_arguments(gan_train, tmp_path):
    with pytest.raises(ValueError, match="recipe"):
        gan_train.train(tmp_path, recipe="vae")
    with pytest.raises(ValueError, match="epochs"):
        gan_train.train(tmp_path, recipe="dcgan", epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        gan_train.train(tmp_path, recipe="dcgan", batch_size=5000, epochs=1, evaluate=False, progress=False)
    with pytest.raises(ValueError, match="d_norm"):
        gan_train.train(tmp_path, recipe="dcgan", d_norm="layer")
    with pytest.raises(ValueError, match="aux"):
        gan_train.train(tmp_path, recipe="cgan", aux=1.0)
    with pytest.raises(ValueError, match="threads"):
        gan_train.train(tmp_path, recipe="dcgan", threads=0)


@pytest.mark.parametrize("classes", [None, 10])
def test_parity_for_several_batch_sizes(torch, tmp_path, classes):
    pytest.importorskip("onnx")
    from segen.training import generator as gen_training
    from segen_gan.net import DCGenerator
    from segen_gan.train import recalibrate_batchnorm

    torch.manual_seed(0)
    net = DCGenerator(latent_size=16, width=8, num_classes=classes, embed_size=4)
    recalibrate_batchnorm(net, batches=4, batch_size=64)  # non-trivial running statistics
    path = tmp_path / "g.onnx"
    gen_training.export_generator(net, path, latent_size=16, num_classes=classes)
    diff = gen_training.generator_parity(
        net, path, latent_size=16, num_classes=classes, batches=(1, 2, 7, 64, 300)
    )
    assert diff <= 1e-4
    with torch.no_grad():  # and the network is not trivially constant
        out = net(torch.randn(8, 16), None if classes is None else torch.arange(8))
    assert out.shape == (8, 1, 16, 16) and float(out.std()) > 1e-3


def test_discriminators_score_one_logit_per_image(torch):
    from segen_gan.net import DCDiscriminator

    x = torch.randn(5, 1, 16, 16)
    labels = torch.tensor([0, 1, 2, 3, 9])
    for kw in ({}, {"norm": "batch"}, {"norm": "none", "minibatch_std": 5}):
        assert DCDiscriminator(8, **kw)(x).shape == (5,)
    score, logits = DCDiscriminator(8, aux_classes=10).forward_aux(x)
    assert score.shape == (5,) and logits.shape == (5, 10)
    for cond in ("projection", "channel"):
        d = DCDiscriminator(8, 10, conditioning=cond).eval()
        s = d(x, labels)
        assert s.shape == (5,)
        assert not torch.allclose(s, d(x, torch.tensor([1, 2, 3, 4, 0])))  # the label matters
    with pytest.raises(ValueError, match="conditioning"):
        DCDiscriminator(8, 10, conditioning="concat")


# ---- the shipped models ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_register_and_describe_themselves(name):
    _shipped(name)
    assert name in segen.list_generators()
    gen = segen.get_generator(name)
    meta = _meta(name)
    assert gen.info.latent_size == meta["latent_size"] and gen.info.output_size == (16, 16)
    assert gen.info.num_classes == (10 if name.startswith("cgan") else None)
    for key in ("command", "seed", "torch_version", "seconds", "losses"):
        assert key in meta["training"], key
    assert meta["training"]["command"].startswith(f"segen train {name.split('-')[0]} ")
    assert meta["parity"] <= 1e-4
    assert 10_000 < meta["parameters"] < 1_000_000
    assert (MODELS / f"{name}_samples.png").is_file()
    assert _shipped(name).stat().st_size < 4 * 1024 * 1024


def test_shipped_models_generate_without_torch():
    for name in SHIPPED:
        _shipped(name)
    run_without_torch(
        "import numpy as np, segen\n"
        "for name, labels in (('dcgan-digits', None), ('cgan-digits', [3, 7])):\n"
        "    g = segen.get_generator(name)\n"
        "    a = g.generate(2, seed=4, labels=labels)\n"
        "    assert a.shape == (2, 16, 16) and a.dtype == np.uint8 and a.std() > 10, (name, a.std())\n"
        "    assert g.interpolate(1, 2, steps=3).shape == (3, 16, 16)\n"
    )


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_same_seed_same_images_at_1_and_2_threads(name):
    path = _shipped(name)
    labels = [5] * 64 if name.startswith("cgan") else None
    a = OnnxGenerator(path, threads=1).generate(64, seed=11, labels=labels)
    b = OnnxGenerator(path, threads=2).generate(64, seed=11, labels=labels)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, OnnxGenerator(path, threads=1).generate(64, seed=11, labels=labels))
    assert not np.array_equal(a, OnnxGenerator(path).generate(64, seed=12, labels=labels))
    assert a.std(axis=0).mean() > 10  # samples differ from one another


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_quality_meets_the_targets_in_the_json(name):
    pytest.importorskip("sklearn")  # the digits the judge compares with
    from segen.eval.judge import evaluate_generator

    meta = _meta(name)
    targets, recorded = meta["targets"], meta["metrics"]
    got = evaluate_generator(segen.get_generator(name), n=recorded["samples"], seed=recorded["seed"])
    for key in ("frechet_distance", "frechet_floor", "memorised_fraction"):
        assert got[key] == pytest.approx(recorded[key], rel=1e-3, abs=1e-3), key
    assert got["frechet_ratio"] <= targets["frechet_ratio_max"]
    baseline = min(got["frechet_class_means"], got["frechet_noise"])
    assert got["frechet_distance"] <= targets["baseline_fraction_max"] * baseline
    assert got["memorised_fraction"] <= targets["memorised_fraction_max"]
    if name.startswith("cgan"):
        assert got["class_consistency"] >= targets["class_consistency_min"] >= 0.9
        assert got["class_consistency"] == pytest.approx(recorded["class_consistency"], abs=1e-3)


# ---- interpolation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED + ("vae-digits", "cvae-digits"))
def test_interpolate_ends_are_the_seeds_samples(name):
    """Also for the VAEs, whose latents come from their own fitted prior (Generator._draw)."""
    if name not in segen.list_generators():
        pytest.skip(f"{name} is not installed")
    gen = segen.get_generator(name)
    label = 4 if gen.info.num_classes else None
    for spherical in (True, False):
        path = gen.interpolate(3, 9, steps=6, label=label, spherical=spherical)
        assert path.shape == (6, 16, 16) and path.dtype == np.uint8
        np.testing.assert_array_equal(path[0], gen.generate(1, seed=3, labels=label)[0])
        np.testing.assert_array_equal(path[-1], gen.generate(1, seed=9, labels=label)[0])
        assert len({p.tobytes() for p in path}) > 2  # it moves
    if gen.info.num_classes:  # default label: 0, as generate(1) uses
        np.testing.assert_array_equal(gen.interpolate(3, 9, 2)[0], gen.generate(1, seed=3)[0])
        np.testing.assert_array_equal(gen.latent(5, label=2), gen.latent(5, label=2))


def test_interpolate_slerp_keeps_the_norm_between_the_ends():
    gen = OnnxGenerator(_shipped("dcgan-digits"))
    a, b = gen.latent(1), gen.latent(2)
    np.testing.assert_array_equal(a, np.random.default_rng(1).standard_normal((1, gen.info.latent_size))[0])
    captured = {}
    real = gen.generate

    def spy(n, **kw):
        captured["z"] = kw["z"]
        return real(n, **kw)

    gen.generate = spy
    gen.interpolate(1, 2, steps=9)
    norms = np.linalg.norm(captured["z"].astype(np.float64), axis=1)
    lo, hi = sorted([np.linalg.norm(a), np.linalg.norm(b)])
    assert (norms >= lo - 1e-4).all() and (norms <= hi + 1e-4).all()
    gen.interpolate(1, 2, steps=9, spherical=False)
    mid = captured["z"][4].astype(np.float64)
    np.testing.assert_allclose(mid, (a + b) / 2, atol=1e-6)
    assert np.linalg.norm(mid) < lo  # a straight line cuts inside the sphere


def test_interpolate_rejects_bad_arguments():
    dc, cg = OnnxGenerator(_shipped("dcgan-digits")), OnnxGenerator(_shipped("cgan-digits"))
    with pytest.raises(InvalidArgumentError, match="steps"):
        dc.interpolate(1, 2, steps=1)
    with pytest.raises(InvalidArgumentError, match="label"):
        dc.interpolate(1, 2, label=3)
    with pytest.raises(InvalidArgumentError, match="unconditional"):
        dc.latent(1, label=3)
    with pytest.raises(InvalidArgumentError, match="label"):
        cg.interpolate(1, 2, label=True)
    with pytest.raises(InvalidArgumentError, match="label"):
        cg.interpolate(1, 2, label=10)
    with pytest.raises(InvalidArgumentError, match="label"):
        cg.interpolate(1, 2, label=[1, 2])
    with pytest.raises(InvalidArgumentError, match="seed_a"):
        dc.interpolate(-1, 2)
    with pytest.raises(InvalidArgumentError, match="seed_b"):
        dc.interpolate(1, 2.5)
    with pytest.raises(InvalidArgumentError, match="seed"):
        dc.generate(2, seed=-3)


# ---- the command line --------------------------------------------------------------------------------------


def test_cli_generate_interpolate(tmp_path, capsys):
    _shipped("cgan-digits")
    out = tmp_path / "o"
    assert (
        main(
            [
                "generate",
                "cgan-digits",
                "--interpolate",
                "2,5",
                "--steps",
                "5",
                "--labels",
                "7",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "from seed 2 to seed 5" in capsys.readouterr().out
    strip = segen.io.imread(out / "cgan-digits_interp.png")
    assert strip.shape == (16 + 4, 5 * 18 + 2)
    frames = segen.get_generator("cgan-digits").interpolate(2, 5, 5, label=7)
    np.testing.assert_array_equal(strip[2:18, 2:18], frames[0])
    np.testing.assert_array_equal(strip[2:18, 4 * 18 + 2 : 4 * 18 + 18], frames[4])
    from PIL import Image

    with Image.open(out / "cgan-digits_interp.gif") as gif:
        assert gif.n_frames == 8  # 5 out, 3 back
        assert gif.size == (16 * 8, 16 * 8)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["cgan-digits", "--labels", "10"], 1, "`labels` must be in [0, 9]"),
        (["cgan-digits", "--labels", "a"], 2, "--labels"),
        (["dcgan-digits", "--labels", "1"], 1, "unconditional"),
        (["dcgan-digits", "--interpolate", "1"], 2, "--interpolate"),
        (["dcgan-digits", "--interpolate", "1,x"], 2, "--interpolate"),
        (["dcgan-digits", "--interpolate", "1,2,3"], 2, "--interpolate"),
        (["dcgan-digits", "--interpolate", "1,2", "--steps", "1"], 2, "--steps"),
        (["cgan-digits", "--interpolate", "1,2", "--labels", "1,2"], 2, "one label"),
        (["cgan-digits", "--interpolate", "-1,2"], 1, "`seed_a` must be >= 0"),
        (["dcgan-digits", "--interpolate", "1,2", "--labels", "1"], 1, "unconditional"),
    ],
)
def test_cli_generate_errors_are_clear(tmp_path, capsys, args, code, message):
    for name in SHIPPED:
        _shipped(name)
    assert main(["generate", *args, "-o", str(tmp_path)]) == code
    err = capsys.readouterr().err
    assert err.startswith("segen: error:") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ---- registration helper -----------------------------------------------------------------------------------


def test_register_shipped_models_for_generators():
    from segen.plugins import register_shipped_models

    got = {}
    register_shipped_models(
        lambda name, factory, summary: got.update({name: (factory, summary)}),
        "segen_gan",
        {"dcgan-digits": "a", "nope": "b"},
        kind="generator",
    )
    if not (MODELS / "dcgan-digits.onnx").is_file():
        assert got == {}
        return
    assert list(got) == ["dcgan-digits"] and got["dcgan-digits"][1] == "a"
    gen = got["dcgan-digits"][0](threads=1)
    assert isinstance(gen, OnnxGenerator) and gen.generate(2, seed=0).shape == (2, 16, 16)
    made = {}
    register_shipped_models(
        lambda name, factory, summary: made.update({name: factory}),
        "segen_gan",
        {"dcgan-digits": "a"},
        kind="generator",
        make=lambda path, **kw: (path.name, kw),
    )
    assert made["dcgan-digits"](threads=2) == ("dcgan-digits.onnx", {"threads": 2})
    with pytest.raises(InvalidArgumentError, match="kind"):
        register_shipped_models(lambda *a, **k: None, "segen_gan", {}, kind="trainer")
