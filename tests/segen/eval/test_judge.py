"""segen.judge: the digit classifier that scores generators, Fréchet distance, memorisation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the digits

from segen import data as datasets
from segen.errors import InvalidArgumentError, ModelError  # noqa: E402
from segen.eval import judge  # noqa: E402
from segen.models import Generator, ModelInfo  # noqa: E402


class _FromTrain(Generator):
    """Returns training digits of the requested class: a generator that memorises."""

    info = ModelInfo(name="copy", task="generation", num_classes=10)

    def _generate(self, n, *, rng, labels, z):
        t = datasets.digits("train")
        return np.stack([t.images[rng.choice(np.flatnonzero(t.labels == k))] for k in labels])


class _Shifted(Generator):
    """Training digits moved two pixels right and down: new images, a little off the data."""

    info = ModelInfo(name="shifted", task="generation")

    def _generate(self, n, *, rng, labels, z):
        t = datasets.digits("train").images[rng.choice(1438, n)]
        return np.pad(t, ((0, 0), (2, 0), (2, 0)))[:, :16, :16]


class _Sized(Generator):
    info = ModelInfo(name="big", task="generation")

    def _generate(self, n, *, rng, labels, z):
        return np.zeros((n, 32, 32), np.uint8)


def test_frechet_distance_matches_the_scipy_sqrtm_formula(rng):
    from scipy import linalg

    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(0.5, 2.0, size=(300, 6))
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    mu = a.mean(0) - b.mean(0)
    ref = mu @ mu + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert judge.frechet_distance(a, b) == pytest.approx(ref, rel=1e-8)
    assert judge.frechet_distance(a, a) == pytest.approx(0, abs=1e-8)
    # a shift of the mean by d adds |d|²
    assert judge.frechet_distance(a + 3.0, a) == pytest.approx(9 * 6, rel=1e-9)


def test_nearest_distances_brute_force(rng):
    a = rng.integers(0, 256, (7, 16, 16), dtype=np.uint8)
    r = rng.integers(0, 256, (11, 16, 16), dtype=np.uint8)
    want = [min(np.sqrt(np.mean((x / 255.0 - y / 255.0) ** 2)) for y in r) for x in a]
    np.testing.assert_allclose(judge.nearest_distances(a, r), want, rtol=1e-9, atol=1e-7)
    assert np.all(judge.nearest_distances(r[:3], r) < 1e-6)


def test_shipped_judge_accuracy_and_metadata():
    j = judge.Judge()
    test = datasets.digits("test")
    acc = float((j.predict(test.images) == test.labels).mean())
    assert acc >= 0.98
    assert acc == pytest.approx(j.metadata["metrics"]["held_out_accuracy"], abs=1e-4)
    f = j.features(test.images[:5])
    assert f.shape == (5, 64) and f.dtype == np.float64
    assert j.predict(test.images[0]).shape == (1,)


def test_evaluate_generator_separates_copies_shifts_and_baselines():
    copy = judge.evaluate_generator(_FromTrain(), n=500, seed=1)
    assert copy["class_consistency"] == 1.0
    assert copy["memorised_fraction"] == 1.0 and copy["memorised_fraction_real"] < 0.03
    assert copy["frechet_ratio"] < 1.5  # real training digits: at the floor
    shifted = judge.evaluate_generator(_Shifted(), n=500, seed=1)
    assert "class_consistency" not in shifted
    assert shifted["memorised_fraction"] < 0.05
    assert shifted["frechet_distance"] > 2 * shifted["frechet_floor"]
    # the naive baselines are far from the data, noise farthest
    assert shifted["frechet_floor"] * 5 < shifted["frechet_class_means"] < shifted["frechet_noise"]
    assert judge.evaluate_generator(_FromTrain(), n=500, seed=1) == copy  # deterministic


def test_bad_inputs():
    j = judge.Judge()
    with pytest.raises(InvalidArgumentError, match="uint8"):
        j.predict(np.zeros((2, 16, 16), np.float32))
    with pytest.raises(InvalidArgumentError, match="images"):
        j.features(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(InvalidArgumentError, match="images"):
        j.features(np.zeros((0, 16, 16), np.uint8))
    with pytest.raises(InvalidArgumentError, match="judge scores"):
        judge.evaluate_generator(_Sized(), n=4)
    with pytest.raises(InvalidArgumentError, match="`n`"):
        judge.evaluate_generator(_Shifted(), n=1)
    with pytest.raises(InvalidArgumentError, match="feats"):
        judge.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_corrupt_judge_file_is_refused(tmp_path):
    import shutil

    src = judge._MODEL
    dst = tmp_path / "digits-judge.onnx"
    shutil.copy(src.with_suffix(".json"), tmp_path)
    dst.write_bytes(src.read_bytes()[:-10])
    with pytest.raises(ModelError, match="sha256"):
        judge.Judge(dst)


def test_judge_runs_without_torch():
    code = (
        "import sys, numpy as np; from segen import data as datasets; from segen.eval import judge; "
        "t = datasets.digits('test'); print((judge.Judge().predict(t.images) == t.labels).mean(), "
        "'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    acc, torch_loaded = out.split()
    assert float(acc) >= 0.98 and torch_loaded == "False"


def test_judge_training_recipe_learns(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from segen.training import judge as judge_training

    meta = judge_training.train(tmp_path, epochs=2, width=8, progress=False)
    assert meta["training"]["loss_last"] < meta["training"]["loss_first"]
    assert meta["metrics"]["held_out_accuracy"] > 0.5  # 2 epochs of a width-8 net: far above chance (0.1)
    assert meta["metrics"]["onnx_parity_max_abs_diff"] <= 1e-4
    j = judge.Judge(tmp_path / "digits-judge.onnx")
    assert j.predict(datasets.digits("test").images[:3]).shape == (3,)
