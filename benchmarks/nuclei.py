"""The nuclei instance segmenter (issue 12) against the classical recipe, on a synthetic held-out set.

    python benchmarks/nuclei.py [MODELS_FOLDER]

Held-out images: ``segen.data.nuclei(20, size=256, seed=5000)`` (training used seeds 0 and 1000). Scores:
AP@0.5 and the DSB mean AP (0.50:0.95) of ``segen.metrics.average_precision``, averaged over images, for the
fp32 and int8 ONNX models, ``segment_touching_objects`` with Otsu (the textbook recipe: Gaussian sigma 1,
peaks 7 px apart, objects <= 20 px dropped) and with ``threshold="local"``. Time: one 1024 x 1024 image
(``segen.data.nuclei(1, size=1024, seed=6000)``), median of 3 runs, ONNX Runtime and segen at 1 and 2
threads. Writes ``benchmarks/results/nuclei.md`` and the pictures ``docs/nuclei_samples.png`` (generator
samples), ``docs/nuclei_overlay.png`` (model vs recipe on a held-out image) and ``docs/nuclei_cell.png``
(scikit-image's ``cell`` photograph, only looked at: never trained or tuned on).
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

import numpy as np
import segen

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from segen_nuclei.segmenter import NucleiSegmenter  # noqa: E402


def classical(image, threshold):
    smooth = segen.filters.gaussian(image, 1.0)
    return segen.segmentation.segment_touching_objects(
        smooth, min_distance=7, max_size=20, threshold=threshold
    )


def scores(fn, data):
    ap, dsb = [], []
    for img, truth in zip(data.images, data.labels):
        s = segen.metrics.average_precision(fn(img), truth)
        ap.append(s["ap"][0])
        dsb.append(s["mean_ap"])
    return float(np.mean(ap)), float(np.mean(dsb))


def timed(fn, image, runs=3):
    fn(image)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(image)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main(models=ROOT / "plugins" / "segen_nuclei" / "models"):
    models = pathlib.Path(models)
    data = segen.data.nuclei(20, size=256, seed=5000)
    fp32 = NucleiSegmenter(models / "unet-nuclei.onnx")
    int8 = NucleiSegmenter(models / "unet-nuclei-int8.onnx")
    rows = [
        ("unet-nuclei (fp32)", *scores(fp32.segment, data)),
        ("unet-nuclei-int8", *scores(int8.segment, data)),
        ("segment_touching_objects, Otsu", *scores(lambda im: classical(im, None), data)),
        ("segment_touching_objects, threshold='local'", *scores(lambda im: classical(im, "local"), data)),
    ]
    big = segen.data.nuclei(1, size=1024, seed=6000).images[0]
    times = {}
    for threads in (1, 2):
        segen.set_num_threads(threads)
        for name in ("unet-nuclei", "unet-nuclei-int8"):
            seg = NucleiSegmenter(models / f"{name}.onnx", threads=threads)
            times[name, threads] = timed(seg.segment, big)
        times["local recipe", threads] = timed(lambda im: classical(im, "local"), big)
    segen.set_num_threads(None)
    lines = [
        "# Nuclei instance segmentation on synthetic held-out images (issue 12)",
        "",
        "`python benchmarks/nuclei.py`: 20 images `segen.data.nuclei(20, size=256, seed=5000)` (seeds disjoint",
        "from training's 0 and 1000); means over images.",
        "",
        "| method | AP@0.5 | DSB mean AP (0.50:0.95) |",
        "|---|---|---|",
        *[f"| {n} | {a:.3f} | {d:.3f} |" for n, a, d in rows],
        "",
        "Time for one 1024 x 1024 image (segment, pre- and post-processing included; median of 3):",
        "",
        "| method | 1 thread | 2 threads |",
        "|---|---|---|",
        *[
            f"| {n} | {times[n, 1]:.3f} s | {times[n, 2]:.3f} s |"
            for n in ("unet-nuclei", "unet-nuclei-int8", "local recipe")
        ],
        "",
        "Model size: "
        + ", ".join(
            f"{p.name} {p.stat().st_size / 1e6:.2f} MB" for p in sorted(models.glob("unet-nuclei*.onnx"))
        ),
        "",
    ]
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "nuclei.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    pictures(fp32, data)


def _caption_free_row(panels):
    gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([x for p in panels for x in (p, gap)][:-1], axis=1)


def pictures(model, data):
    viz = segen.viz
    samples = segen.data.nuclei(8, size=192, seed=7)
    tiles = [np.stack([viz.to_uint8(im)] * 3, -1) for im in samples.images]
    tiles += [viz.label2rgb(lab, instances=True) for lab in samples.labels]
    segen.io.imwrite(ROOT / "docs" / "nuclei_samples.png", viz.image_grid(np.stack(tiles), columns=8))
    img, truth = data.images[0], data.labels[0]
    panels = [
        viz.overlay(img, truth, instances=True),
        viz.overlay(img, classical(img, None), instances=True),
        viz.overlay(img, classical(img, "local"), instances=True),
        viz.overlay(img, model.segment(img), instances=True),
    ]
    segen.io.imwrite(ROOT / "docs" / "nuclei_overlay.png", _caption_free_row(panels))
    from skimage import data as skdata  # a real photograph, only looked at

    cell = skdata.cell()
    segen.io.imwrite(
        ROOT / "docs" / "nuclei_cell.png",
        _caption_free_row(
            [
                viz.overlay(cell, classical(cell, "local"), instances=True),
                viz.overlay(cell, model.segment(cell), instances=True),
            ]
        ),
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
