"""How segen's cost grows with the image: time of five operations at 512², 1024², 2048², 4096² and 8192².

Usage: python benchmarks/scaling.py [--threads 1 2] [--sizes 512 1024 ...] [--out benchmarks/results]

Inputs are a smooth random field (Gaussian-filtered noise, float32) of each size, so that every size has
the same structure per pixel: gaussian (sigma 2), sobel magnitude, watershed on the float32 Sobel relief
from markers where the field is in its lowest and highest 5 %, label (8-connectivity) of the field above
its median, and k-means (k = 8, 10 Lloyd iterations, one init, seed 0) of the (N, 3) samples (field,
row/H, col/W). Each cell is the median of 3 calls; the table also gives nanoseconds per pixel, which stays
flat where the cost is linear, and its growth from the smallest to the largest size (1.00: linear). Written as markdown to <out>/scaling.md.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import statistics
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def _field(n: int) -> np.ndarray:
    import segen

    rng = np.random.default_rng(0)
    return segen.filters.gaussian(rng.random((n, n), dtype=np.float32), 4.0)


def _ops(n: int):
    import segen

    f = _field(n)
    sob = segen.filters.sobel(f)
    lo, hi, med = np.quantile(f[:: max(1, n // 512), :: max(1, n // 512)], [0.05, 0.95, 0.5])
    markers = np.zeros(f.shape, np.int32)
    markers[f < lo] = 1
    markers[f > hi] = 2
    mask = f > med
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    samples = np.stack([f.ravel(), yy.ravel(), xx.ravel()], axis=1)
    del yy, xx
    return {
        "gaussian σ=2": lambda: segen.filters.gaussian(f, 2.0),
        "sobel": lambda: segen.filters.sobel(f),
        "watershed (float32)": lambda: segen.segmentation.watershed(sob, markers),
        "label (8-conn)": lambda: segen.segmentation.label(mask, connectivity=2),
        "kmeans k=8, 10 it": lambda: segen.cluster.kmeans(samples, 8, max_iter=10, tol=0, seed=0),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    args = ap.parse_args(argv)
    import segen

    times: dict[tuple[str, int, int], float] = {}
    for n in args.sizes:
        ops = _ops(n)
        for threads in args.threads:
            segen.set_num_threads(threads)
            for name, fn in ops.items():
                fn()  # warm-up
                ts = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    fn()
                    ts.append(time.perf_counter() - t0)
                times[name, n, threads] = statistics.median(ts)
                print(f"{n}² {threads}t {name}: {times[name, n, threads] * 1e3:.1f} ms", flush=True)
        del ops
    names = list(_ops(8).keys())
    head = " | ".join(f"{n}²" for n in args.sizes)
    lo, hi = args.sizes[0], args.sizes[-1]
    lines = [
        f"| operation | threads | {head} | ns/px {hi}² ÷ {lo}² |",
        "|---|---:|" + "---:|" * (len(args.sizes) + 1),
    ]
    for name in names:
        for threads in args.threads:
            cells = []
            for n in args.sizes:
                t = times[name, n, threads]
                cells.append(f"{t * 1e3:.1f} ms ({t * 1e9 / (n * n):.1f} ns/px)")
            growth = (times[name, hi, threads] / hi**2) / (times[name, lo, threads] / lo**2)
            lines.append(f"| {name} | {threads} | " + " | ".join(cells) + f" | {growth:.2f} |")
    table = "\n".join(lines)
    print("\n" + table)
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        f"Machine: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores; "
        f"segen {segen.__version__}; {time.strftime('%Y-%m-%d')}.\n\n"
    )
    (args.out / "scaling.md").write_text(header + table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
