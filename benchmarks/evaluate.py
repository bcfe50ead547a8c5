"""What ``segen evaluate`` costs on a data set folder: seconds, images/s and peak memory.

Usage: python benchmarks/evaluate.py [--images 500] [--side 256] [--threads 2] [--out benchmarks/results]

Two folders of `--images` grey PNGs with 4-class masks and a ``classes.json`` (``unet-textures``'
classes: brick, grass, gravel, immunohistochemistry) are written to a temporary folder:

* ``textures 64²``: held-out ``segen.data.textures`` mosaics (``split="test"``), the shipped U-Net's own
  domain, so its scores here are comparable with those in docs/neural.md;
* ``mosaics <side>²``: ``segen.data.texture_mosaics`` (Voronoi cells of three of those photographs at
  full resolution, each histogram-equalised), written 25 at a time: larger images, at a scale the U-Net
  was not trained for (docs/neural.md), so time and memory, not its scores, are the point there.

On each, ``segen evaluate`` runs in a child process per case: ``unet-textures-int8`` and
``unet-textures`` (labels are the classes) on every image, and ``kmeans-texture`` (classical,
unsupervised: each image's clusters matched to classes by the Hungarian algorithm) on the 10 % test
split only (``--split test``), as it is much slower. Each child reports its wall time (start-up and model
loading included) and peak RSS (``ru_maxrss``). ``unet-textures-int8`` also runs on the large images'
10 % split alone: the peak memory of 50 images against 500 shows what the number of images costs.
Writes <out>/evaluate.md.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
CLASSES = ("brick", "grass", "gravel", "immunohistochemistry")  # unet-textures' classes, in its order
CHUNK = 25


def write_folder(root: pathlib.Path, kind: str, count: int, side: int, seed: int = 0) -> int:
    """`count` images and masks (`kind` "textures" at 64², or "mosaics" at `side`²) in root/images and
    root/masks, and classes.json; returns the bytes on disk."""
    import numpy as np
    import segen

    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "classes.json").write_text(json.dumps(list(CLASSES)))
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        if kind == "textures":
            data = segen.data.textures(n, size=64, split="test", seed=seed + start)
        else:
            data = segen.data.texture_mosaics(n, size=side, k=3, textures=CLASSES, seed=seed + start)
        assert tuple(data.classes) == CLASSES, data.classes  # label k is CLASSES[k]
        for i in range(n):
            segen.io.imwrite(root / "images" / f"m{start + i:05d}.png", data.images[i])  # uint8 grey
            segen.io.imwrite(root / "masks" / f"m{start + i:05d}.png", data.labels[i].astype(np.uint8))
    return sum(p.stat().st_size for p in root.rglob("*.png"))


_CHILD = """
import json, resource, sys, time
from segen.cli import main
t = time.perf_counter()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - t,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(args: list[str]) -> dict:
    """`segen *args` in a child process: its exit code, wall seconds and peak RSS in MiB."""
    out = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=False)
    if out.returncode or not out.stdout.strip():
        raise SystemExit(f"segen {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=500, help="images in the folder")
    ap.add_argument("--side", type=int, default=256, help="their side in pixels")
    ap.add_argument("--threads", type=int, default=2, help="segen --threads (kernels and ONNX Runtime)")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    args = ap.parse_args(argv)

    split_test = ["--split", "test", "--test-fraction", "0.1"]
    folders = [
        ("textures", 64, [("unet-textures-int8", []), ("unet-textures", []), ("kmeans-texture", split_test)]),
        (
            "mosaics",
            args.side,
            [
                ("unet-textures-int8", []),
                ("unet-textures-int8", split_test),
                ("unet-textures", []),
                ("kmeans-texture", ["-p", "k=3", *split_test]),
            ],
        ),
    ]
    rows, sizes = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, side, cases in folders:
            root = pathlib.Path(tmp) / kind
            t = time.perf_counter()
            sizes[kind] = write_folder(root, kind, args.images, side)
            mib = sizes[kind] / 2**20
            print(f"wrote {args.images} {kind} of {side}² ({mib:.1f} MiB) in {time.perf_counter() - t:.1f} s")
            for model, extra in cases:
                scores = pathlib.Path(tmp) / "scores.json"
                cmd = ["--threads", str(args.threads), "evaluate", "-m", model, "--data", str(root), *extra]
                got = run([*cmd, "--json", str(scores), "--no-progress"])
                s = json.loads(scores.read_text())
                rows.append((f"{kind} {side}²", model, s, got))
                print(
                    f"{kind:8s} {model:20s} {s['split']:4s} {s['images']:4d} images  {got['seconds']:6.1f} s  "
                    f"{s['images'] / got['seconds']:6.1f} images/s  peak RSS {got['rss_mib']:5.0f} MiB  "
                    f"pixel accuracy {s['pixel_accuracy']:.3f}  mean IoU {s['mean_iou']:.3f}"
                )

    lines = [
        "# `segen evaluate` on a folder of images",
        "",
        f"Folders of {args.images} grey PNGs with 4-class masks: held-out `segen.data.textures` mosaics of 64²",
        f"({sizes['textures'] / 2**20:.1f} MiB), the shipped U-Net's own domain, and `segen.data.texture_mosaics`",
        f"of {args.side}² ({sizes['mosaics'] / 2**20:.1f} MiB), full-resolution photographs the U-Net was not",
        f"trained at. `segen --threads {args.threads} evaluate`, each run in its own process (its time includes",
        "start-up and loading the model); `kmeans-texture` on the 10 % test split only.",
        "`python benchmarks/evaluate.py` writes this file.",
        "",
        f"Machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()} (shared, loaded).",
        "",
        "| data | model | split | images | seconds | images/s | peak RSS (MiB) | pixel accuracy | mean IoU | matching |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for data, model, s, got in rows:
        lines.append(
            f"| {data} | {model} | {s['split']} | {s['images']} | {got['seconds']:.1f} | "
            f"{s['images'] / got['seconds']:.1f} | {got['rss_mib']:.0f} | {s['pixel_accuracy']:.3f} | "
            f"{s['mean_iou']:.3f} | {s['matching'].split()[0]} |"
        )
    lines += [
        "",
        "Peak RSS on 500 large images against their 50-image split (the two `mosaics` rows of",
        "`unet-textures-int8`) is what the number of images costs: scores are summed in one confusion matrix",
        "and one image is held at a time; the difference is the allocator's and ONNX Runtime's arenas",
        "settling, not memory per image (the JSON's per-image rows are about 150 bytes each).",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "evaluate.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out / 'evaluate.md'}")


if __name__ == "__main__":
    main()
