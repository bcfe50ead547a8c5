"""An independent judge of digit generators: a classifier trained only on real training digits, and the
measures built on it (numpy + ONNX Runtime; no torch).

The judge (``segen train judge``, shipped as ``segen/eval/models/digits-judge.onnx``) is a small CNN trained
on the training split of :func:`segen.data.digits` alone — never on generated images nor on the
held-out split. :func:`evaluate_generator` uses it to score a generator of 16x16 digits:

- **Fréchet distance** between the judge's features of generated images and of the held-out real
  images (the FID recipe, in this judge's 64-d feature space instead of Inception's). Its floor is the
  same distance between real training and held-out images, drawn in the same numbers; the two naive
  baselines are the ten per-class mean images repeated, and noise with the training set's per-pixel mean
  and standard deviation.
- **Class consistency** (conditional generators): the fraction of samples the judge classifies as the
  label they were asked for. The judge's own held-out accuracy is its ceiling.
- **Memorisation**: the fraction of samples closer (RMS pixel distance) to their nearest training image
  than all but 1% of held-out real digits are to theirs.
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np

from .._shared.validation import check_int
from ..data import digits
from ..errors import InvalidArgumentError
from ..onnx.session import OnnxModel

__all__ = ["Judge", "evaluate_generator", "frechet_distance", "nearest_distances"]

_MODEL = pathlib.Path(__file__).parent / "models" / "digits-judge.onnx"
#: Image side the judge takes.
SIZE = 16


def _check_images(images) -> np.ndarray:
    a = np.asarray(images)
    if a.dtype != np.uint8:
        raise InvalidArgumentError(f"`images` must be uint8 (as generators return); got {a.dtype}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1:] != (SIZE, SIZE) or a.shape[0] == 0:
        raise InvalidArgumentError(
            f"`images` must be a non-empty (N, {SIZE}, {SIZE}) stack of grey digits; got shape {a.shape}"
        )
    return a


class Judge:
    """The digit classifier: class predictions and the features Fréchet distances are measured in.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The judge's ``.onnx`` (default: the shipped ``digits-judge.onnx``).
    threads : int, optional
        ONNX Runtime intra-op threads (default :func:`segen.get_num_threads`).
    """

    def __init__(self, path=None, *, threads: int | None = None):
        self.model = OnnxModel(_MODEL if path is None else path, threads=threads)
        self.metadata = self.model.metadata

    def _run(self, images, batch: int = 512):
        a = _check_images(images)
        logits, feats = [], []
        for s in range(0, len(a), batch):
            x = a[s : s + batch, None].astype(np.float32) / 255.0
            lo, fe = self.model.run({"images": x})
            logits.append(lo)
            feats.append(fe)
        return np.concatenate(logits), np.concatenate(feats)

    def predict(self, images) -> np.ndarray:
        """Classes (N,) int64 of uint8 (N, 16, 16) digits (or one (16, 16) image)."""
        return self._run(images)[0].argmax(1).astype(np.int64)

    def features(self, images) -> np.ndarray:
        """Penultimate-layer features (N, 64) float64 of uint8 (N, 16, 16) digits."""
        return self._run(images)[1].astype(np.float64)


@functools.lru_cache(maxsize=2)
def _judge(threads=None) -> Judge:
    return Judge(threads=threads)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples).

    ``|mu_a - mu_b|² + tr(C_a + C_b - 2 (C_a C_b)^½)``, with the trace of the matrix square root taken
    as the sum of the square roots of the eigenvalues of ``C_a^½ C_b C_a^½`` (symmetric, so exact with
    ``eigh``; tiny negative eigenvalues from rounding count as 0).
    """
    a = np.asarray(feats_a, dtype=np.float64)
    b = np.asarray(feats_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InvalidArgumentError(
            f"`feats_a` and `feats_b` must be (N, D) arrays with the same D and N >= 2; "
            f"got {a.shape} and {b.shape}"
        )
    mu = a.mean(0) - b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(ca)
    sa = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(sa @ cb @ sa), 0, None)).sum()
    return float(mu @ mu + np.trace(ca) + np.trace(cb) - 2 * cross)


def nearest_distances(images, reference) -> np.ndarray:
    """RMS pixel distance (intensities in [0, 1]) from each image to its nearest image in `reference`."""
    a = _check_images(images).reshape(len(images), -1).astype(np.float64) / 255.0
    r = _check_images(reference).reshape(len(reference), -1).astype(np.float64) / 255.0
    d2 = (a * a).sum(1)[:, None] + (r * r).sum(1)[None] - 2 * a @ r.T
    return np.sqrt(np.clip(d2.min(1), 0, None) / a.shape[1])


def evaluate_generator(generator, *, n: int = 1000, seed: int = 0, judge: Judge | None = None) -> dict:
    """Score a generator of 16x16 digits against the held-out digits with the judge.

    Parameters
    ----------
    generator : segen.models.Generator
        Makes uint8 (n, 16, 16) images; a conditional one (``info.num_classes`` = 10) is asked for the
        classes in turn (``labels = arange(n) % 10``).
    n : int, optional
        Number of samples (default 1000; the floor and the baselines use the same number of images).
    seed : int, optional
        Seed of the samples and of the floor's draw of training images.
    judge : Judge, optional
        Default: the shipped judge.

    Returns
    -------
    scores : dict
        ``frechet_distance`` (samples vs held-out), ``frechet_floor`` (real training vs held-out),
        ``frechet_ratio`` (distance / floor), ``frechet_class_means`` and ``frechet_noise`` (baselines),
        ``class_consistency`` (conditional generators only), ``judge_accuracy`` (held-out, the ceiling of
        class consistency), ``memorised_fraction`` with its ``memorisation_threshold`` and the held-out
        real digits' own fraction under it (``memorised_fraction_real``, about 0.01 by construction),
        ``samples`` and ``seed``.

    Raises
    ------
    InvalidArgumentError
        If `n` < 2 or the generator does not make 16x16 grey images.
    """

    n = check_int(n, "n", minimum=2)
    judge = judge or _judge()
    train, test = digits("train"), digits("test")
    k = generator.info.num_classes
    labels = np.arange(n) % k if k else None
    samples = generator.generate(n, seed=seed, labels=labels)
    if samples.shape[1:] != (SIZE, SIZE):
        raise InvalidArgumentError(
            f"the generator makes {samples.shape[1:]} images; the judge scores ({SIZE}, {SIZE}) grey digits"
        )
    rng = np.random.default_rng(seed)
    real = train.images[rng.choice(len(train), size=min(n, len(train)), replace=False)]
    means = np.stack([train.images[train.labels == c].mean(0) for c in range(10)])
    means = np.round(means[np.arange(n) % 10]).astype(np.uint8)
    mu, sd = train.images.mean(0), train.images.std(0)
    noise = np.clip(np.round(rng.normal(mu, sd, (n, SIZE, SIZE))), 0, 255).astype(np.uint8)
    logits_test, f_test = judge._run(test.images)
    fd = lambda imgs: round(frechet_distance(judge.features(imgs), f_test), 5)  # noqa: E731
    dist, floor = fd(samples), fd(real)
    nn_real = nearest_distances(test.images, train.images)
    threshold = float(np.quantile(nn_real, 0.01))
    nn_gen = nearest_distances(samples, train.images)
    scores = {
        "frechet_distance": dist,
        "frechet_floor": floor,
        "frechet_ratio": round(dist / floor, 4),
        "frechet_class_means": fd(means),
        "frechet_noise": fd(noise),
    }
    if k:
        scores["class_consistency"] = round(float((judge.predict(samples) == labels).mean()), 5)
    scores.update(
        judge_accuracy=round(float((logits_test.argmax(1) == test.labels).mean()), 5),
        memorised_fraction=round(float((nn_gen < threshold).mean()), 5),
        memorisation_threshold=round(threshold, 5),
        memorised_fraction_real=round(float((nn_real < threshold).mean()), 5),
        nearest_train_distance_median=round(float(np.median(nn_gen)), 5),
        nearest_train_distance_median_real=round(float(np.median(nn_real)), 5),
        samples=n,
        seed=seed,
    )
    return scores
