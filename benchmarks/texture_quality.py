"""Texture segmentation quality: segen against the plain scikit-image recipe on mosaics of real textures.

Usage: python benchmarks/texture_quality.py [--seeds 100 ... 109] [--size 512] [--threads 1]
                                            [--out benchmarks/results] [--no-picture]

Mosaics come from :func:`segen.data.texture_mosaics`: photographs bundled with scikit-image (brick, grass,
gravel, immunohistochemistry, hubble_deep_field), each made grey and histogram-equalised on its own, so
that only texture tells the regions apart. Two layouts, one mosaic per seed each:

* ``voronoi``: 4 textures over the Voronoi cells of 4..8 random points (``k = 4``);
* ``blobs``: 5 curved blobs that tile the image, one texture each (``k = 5``);
* ``islands``: a background texture (about half the image) and 4 curved islands, 5 textures (``k = 5``):
  harder for any k-means, which prefers clusters of equal size; no target is set on it;
* ``voronoi turned``: as ``voronoi``, but each crop is turned by a random multiple of 90 degrees and
  flipped, so that one texture may show in two orientations; no target is set on it.

The photographs are upright (as taken) in the first three layouts.

Methods, each told the true number of textures ``k``:

* ``segen texture_segment``: :func:`segen.segmentation.texture_segment` (seed 0);
* ``segen kmeans-texture``: the built-in segmenter, ``segen.get_segmenter("kmeans-texture", k=k)``;
* ``segen before issue 12``: what texture_segment was before issue 12, spelled with
  :func:`segen.segmentation.kmeans_segment` (log Gabor magnitudes at 0.05..0.3 cycles/pixel smoothed
  over half a wavelength, position weight 0.3, one k-means run);
* ``skimage recipe``: the plain recipe people write with scikit-image: ``skimage.filters.gabor`` at
  frequencies 0.05, 0.1, 0.2, 0.3 and 4 orientations (0, π/4, π/2, 3π/4) → magnitude ``hypot(real,
  imag)`` → ``skimage.filters.gaussian`` with sigma ``3 / frequency`` (three wavelengths, as Jain &
  Farrokhnia advise) → features standardised (``StandardScaler``) → ``sklearn.cluster.KMeans(k,
  n_init=10, random_state=0)``. This is a strong version of the recipe: with half a wavelength of
  smoothing (``segen.features.gabor_bank``'s default) it scored 0.64 (Voronoi) and 0.70 (blobs) on the
  tuning seeds instead of 0.78 and 0.92.

Scores per mosaic: pixel accuracy after the Hungarian matching of clusters to true regions
(``scipy.optimize.linear_sum_assignment`` on the confusion matrix), and the adjusted Rand index
(``sklearn.metrics.adjusted_rand_score``); the table gives their mean (and minimum) over the seeds.
Time: the median over the mosaics of one call at `size`² (segen at `--threads`, scikit-image as it runs:
its Gabor filtering is single-threaded, scikit-learn's k-means uses every core). The parameters of segen
were tuned on seeds 0..4 (the local binary patterns' weight and thresholds on 0..9); the report uses
seeds 100..109, which were never looked at while tuning.

Writes <out>/texture_quality.md and <out>/texture_quality.png (mosaic | truth | segen | recipe for the
first seed of each layout).
"""

from __future__ import annotations

import argparse
import pathlib
import platform
import statistics
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
#: row name -> (layout of texture_mosaics, k, turn)
LAYOUTS = {
    "voronoi": ("voronoi", 4, False),
    "blobs": ("blobs", 5, False),
    "islands": ("islands", 5, False),
    "voronoi turned": ("voronoi", 4, True),
}
RECIPE_FREQUENCIES = (0.05, 0.1, 0.2, 0.3)
RECIPE_THETAS = tuple(np.arange(4) * np.pi / 4)
RECIPE_SMOOTHING = 3.0  # wavelengths


def mosaic(layout: str, seed: int, size: int = 512):
    """(image uint8, truth int32) of one mosaic."""
    from segen.data import texture_mosaics

    name, k, turn = LAYOUTS[layout]
    d = texture_mosaics(1, layout=name, k=k, size=size, seed=seed, turn=turn)
    return d.images[0], d.labels[0]


def skimage_recipe(image: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """The plain scikit-image recipe: Gabor magnitudes, Gaussian smoothing, standardised, k-means."""
    from skimage.filters import gabor, gaussian
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    img = image.astype(np.float64) / 255.0
    feats = []
    for f in RECIPE_FREQUENCIES:
        for t in RECIPE_THETAS:
            real, imag = gabor(img, frequency=f, theta=t)
            feats.append(gaussian(np.hypot(real, imag), sigma=RECIPE_SMOOTHING / f))
    X = StandardScaler().fit_transform(np.stack(feats, axis=-1).reshape(-1, len(feats)))
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X)
    return km.labels_.reshape(image.shape).astype(np.int32)


def segen_texture_segment(image: np.ndarray, k: int) -> np.ndarray:
    import segen

    return segen.segmentation.texture_segment(image, k, seed=0)


def segen_kmeans_texture(image: np.ndarray, k: int) -> np.ndarray:
    import segen

    return segen.get_segmenter("kmeans-texture", k=k).segment(image)


def segen_before(image: np.ndarray, k: int) -> np.ndarray:
    import segen

    return segen.segmentation.kmeans_segment(
        image,
        k,
        features=("texture", "position"),
        frequencies=(0.05, 0.1, 0.2, 0.3),
        position_weight=0.3,
        seed=0,
    )


METHODS = {
    "segen texture_segment": segen_texture_segment,
    "segen kmeans-texture": segen_kmeans_texture,
    "segen before issue 12": segen_before,
    "skimage recipe": skimage_recipe,
}


def matched_accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    """Pixel accuracy after the one-to-one (Hungarian) matching of predicted to true labels."""
    from scipy.optimize import linear_sum_assignment

    _, t = np.unique(truth, return_inverse=True)
    _, p = np.unique(pred, return_inverse=True)
    conf = np.zeros((t.max() + 1, p.max() + 1), np.int64)
    np.add.at(conf, (t.ravel(), p.ravel()), 1)
    rows, cols = linear_sum_assignment(-conf)
    return float(conf[rows, cols].sum() / truth.size)


def scores(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score

    return matched_accuracy(truth, pred), float(adjusted_rand_score(truth.ravel(), pred.ravel()))


def evaluate(methods: dict, seeds, size: int = 512, *, verbose: bool = False) -> dict:
    """{(layout, method): {"acc": [...], "ari": [...], "time": [...], "pred": [...]}} over `seeds`."""
    out = {}
    for layout, (_, k, _) in LAYOUTS.items():
        for seed in seeds:
            img, truth = mosaic(layout, seed, size)
            for name, fn in methods.items():
                t0 = time.perf_counter()
                pred = fn(img, k)
                dt = time.perf_counter() - t0
                acc, ari = scores(truth, pred)
                r = out.setdefault((layout, name), {"acc": [], "ari": [], "time": [], "pred": []})
                r["acc"].append(acc)
                r["ari"].append(ari)
                r["time"].append(dt)
                r["pred"].append(pred if seed == seeds[0] else None)
                if verbose:
                    print(
                        f"{layout:8s} seed {seed:4d} {name:24s} acc {acc:.3f} ari {ari:.3f} {dt * 1e3:8.0f} ms"
                    )
    return out


def table(results: dict, recipe: str = "skimage recipe") -> str:
    lines = [
        "| layout | method | pixel accuracy mean (min) | ARI mean (min) | time per 512² (median) | speed-up vs recipe |",
        "|---|---|---|---|---|---|",
    ]
    for (layout, name), r in results.items():
        t = statistics.median(r["time"])
        base = results.get((layout, recipe))
        speed = f"{statistics.median(base['time']) / t:.1f}×" if base and name != recipe else ""
        lines.append(
            f"| {layout} | {name} | {np.mean(r['acc']):.3f} ({np.min(r['acc']):.3f}) | "
            f"{np.mean(r['ari']):.3f} ({np.min(r['ari']):.3f}) | {t * 1e3:.0f} ms | {speed} |"
        )
    return "\n".join(lines)


def picture(results: dict, seed: int, size: int, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ("mosaic", "truth", "segen texture_segment", "skimage recipe")
    fig, axes = plt.subplots(len(LAYOUTS), len(cols), figsize=(3 * len(cols), 3 * len(LAYOUTS)))
    for i, layout in enumerate(LAYOUTS):
        img, truth = mosaic(layout, seed, size)
        panels = {"mosaic": img, "truth": truth}
        for name in cols[2:]:
            panels[name] = results[(layout, name)]["pred"][0]
        for j, name in enumerate(cols):
            ax = axes[i, j]
            if name == "mosaic":
                ax.imshow(img, cmap="gray")
            else:
                ax.imshow(panels[name], cmap="tab10", interpolation="nearest")
            if name in cols[2:]:
                acc = results[(layout, name)]["acc"][0]
                ax.set_title(f"{name}\naccuracy {acc:.3f}", fontsize=9)
            else:
                ax.set_title(f"{layout}: {name}", fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(100, 110)))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=None, help="segen's thread count (default: its own)")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    ap.add_argument("--no-picture", action="store_true")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = ap.parse_args(argv)
    import segen

    if args.threads is not None:
        segen.set_num_threads(args.threads)
    results = evaluate({m: METHODS[m] for m in args.methods}, args.seeds, args.size, verbose=True)
    text = table(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    md = [
        "# Texture segmentation on mosaics of real textures",
        "",
        f"`python benchmarks/texture_quality.py` — seeds {args.seeds[0]}..{args.seeds[-1]} "
        f"({len(args.seeds)} mosaics per layout), {args.size}², segen threads {segen.get_num_threads()}, "
        f"{platform.processor() or platform.machine()}, segen {segen.__version__}.",
        "See the script's docstring for the mosaics, the recipe and the scores.",
        "",
        text,
        "",
    ]
    (args.out / "texture_quality.md").write_text("\n".join(md), encoding="utf-8")
    shown = [("voronoi", "segen texture_segment"), ("voronoi", "skimage recipe")]
    if not args.no_picture and all(key in results for key in shown):
        picture(results, args.seeds[0], args.size, args.out / "texture_quality.png")


if __name__ == "__main__":
    main()
