"""The shipped ``cgan-textures``: a conditional GAN trained with ``--data`` on 64 x 64 patches of the texture
photographs bundled with scikit-image (benchmarks/texture_generator.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import segen
from helpers import ROOT, run_without_torch

MODEL = ROOT / "plugins" / "segen_gan" / "models" / "cgan-textures.onnx"
TEXTURES = ("brick", "grass", "gravel", "immunohistochemistry")


@pytest.fixture(scope="module")
def meta() -> dict:
    if not MODEL.is_file():
        pytest.skip("cgan-textures is not shipped in this checkout")
    return json.loads(MODEL.with_suffix(".json").read_text())


def test_registered_with_its_provenance(meta):
    assert "cgan-textures" in segen.list_generators()
    gen = segen.get_generator("cgan-textures")
    assert gen.info.output_size == (64, 64) and gen.info.num_classes == 4
    assert meta["classes"] == list(TEXTURES) and meta["channels"] == 1
    training = meta["training"]
    assert training["command"].startswith("segen train cgan ")
    assert "--data texture-patches/train --size 64 --channels 1" in training["command"]
    data = training["data"]
    assert data["fingerprint"]["file_count"] == 4 * 609 and len(data["fingerprint"]["sha256"]) == 64
    assert data["classes"] == list(TEXTURES) and data["skipped"] == []
    assert meta["parity"] <= 1e-4
    assert MODEL.stat().st_size < 4 * 1024 * 1024
    assert (MODEL.parent / "cgan-textures_samples.png").is_file()


def test_recorded_scores_beat_the_naive_baselines(meta):
    held = meta["metrics"]["held_out"]
    assert held["classifier"]["held_out_accuracy"] >= 0.9  # the features separate the textures
    scores = {k: v["frechet_distance"] for k, v in held["scores"].items()}
    naive = ("class_mean_noise", "shuffled_pixels", "blurred_train")
    assert scores["floor_train"] < scores["generated"] < min(scores[k] for k in naive)
    assert held["scores"]["generated"]["classifier_agreement"] >= 0.8  # the label picks the texture


def _held_out_patches(per_class: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Held-out 64 x 64 patches of each photograph (its right 25%, never trained on), grey uint8."""
    data = pytest.importorskip("skimage.data")
    from segen.color import rgb2gray

    patches, labels = [], []
    for k, name in enumerate(TEXTURES):
        img = np.asarray(getattr(data, name)())
        if img.ndim == 3:
            img = np.round(rgb2gray(img.astype(np.float32) / 255) * 255).astype(np.uint8)
        region = img[:, 384:]
        rows = np.linspace(0, region.shape[0] - 64, per_class).astype(int)
        patches += [region[r : r + 64, (r % 2) * 64 : (r % 2) * 64 + 64] for r in rows]
        labels += [k] * per_class
    return np.stack(patches), np.array(labels)


def _stats(images: np.ndarray) -> np.ndarray:
    """Per image: mean grey, standard deviation, mean |horizontal| and |vertical| differences (0..255)."""
    x = images.astype(np.float64)
    return np.stack(
        [
            x.mean((1, 2)),
            x.std((1, 2)),
            np.abs(np.diff(x, axis=2)).mean((1, 2)),
            np.abs(np.diff(x, axis=1)).mean((1, 2)),
        ],
        axis=1,
    )


def test_samples_have_their_texture_statistics(meta):
    """A nearest-centroid classifier on four simple statistics, fitted to real held-out patches, names the
    texture of the generated samples (a check independent of the recorded Fréchet distances)."""
    real, labels = _held_out_patches()
    s_real = _stats(real)
    scale = s_real.std(0)
    centroids = np.stack([s_real[labels == k].mean(0) for k in range(4)]) / scale
    assert (np.argmin((((s_real / scale)[:, None] - centroids) ** 2).sum(-1), 1) == labels).mean() > 0.9
    want = np.repeat(np.arange(4), 32)
    fake = segen.get_generator("cgan-textures").generate(len(want), seed=3, labels=want)
    assert fake.shape == (128, 64, 64) and fake.dtype == np.uint8
    got = np.argmin((((_stats(fake) / scale)[:, None] - centroids) ** 2).sum(-1), 1)
    assert (got == want).mean() >= 0.75, np.bincount(got * 4 + want, minlength=16).reshape(4, 4)


def test_generates_without_torch(meta):
    run_without_torch(
        "import numpy as np, segen\n"
        "g = segen.get_generator('cgan-textures')\n"
        "a = g.generate(4, seed=0, labels=[0, 1, 2, 3])\n"
        "assert a.shape == (4, 64, 64) and a.dtype == np.uint8 and a.std() > 10, a.std()\n"
        "assert np.array_equal(a, g.generate(4, seed=0, labels=[0, 1, 2, 3]))\n"
    )
