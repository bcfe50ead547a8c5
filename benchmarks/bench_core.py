"""Benchmark segen's C++ core against OpenCV, scipy and scikit-image in one process.

Usage: python benchmarks/bench_core.py [--threads 1 2] [--only SUBSTRING] [--areas AREA ...] [--out DIR]

Each area contributes cases from ``cases_<area>.py``. Every case is run at each thread count (segen and
OpenCV get the same count; scipy and scikit-image are single-threaded), alternating segen and the peers,
and the medians of the per-round time ratios are printed and written as markdown and a PNG chart.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import platform
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import markdown_table, run_case, summary_table  # noqa: E402

AREAS = ("filters", "features", "color", "transform", "cluster", "segmentation", "neural", "generation")


def load_cases(only: str | None, areas=AREAS):
    cases = []
    for area in areas:
        try:
            mod = importlib.import_module(f"cases_{area}")
        except ModuleNotFoundError:
            continue
        cases += [c for c in mod.cases() if not only or only.lower() in c.name.lower()]
    return cases


def chart(results, path: pathlib.Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no chart)")
        return
    top = max(r.threads for r in results)  # one bar per case and peer, at the largest thread count
    rows = [(f"{r.case} vs {p}", 1 / r.ratio[p]) for r in results if r.threads == top for p in r.ratio]
    fig, ax = plt.subplots(figsize=(11, 0.24 * len(rows) + 1.2))
    ax.barh([n for n, _ in rows][::-1], [s for _, s in rows][::-1], color="#3b7dd8")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(f"speed-up of segen over the peer at {top} threads (log scale; > 1: segen faster)")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", help="run only cases whose name contains this")
    ap.add_argument("--areas", nargs="+", choices=AREAS, default=list(AREAS), help="case files to run")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    args = ap.parse_args(argv)

    import cv2
    import segen

    cases = load_cases(args.only, args.areas)
    results = []
    for threads in args.threads:
        segen.set_num_threads(threads)
        cv2.setNumThreads(threads)
        for case in cases:
            r = run_case(case, threads)
            results.append(r)
            peers = ", ".join(
                f"{p} {r.peer_ms[p]:.2f} ms (×{r.ratio[p]:.2f} {r.verdict(p)})" for p in r.peer_ms
            )
            print(f"[{threads}t] {case.name}: segen {r.segen_ms:.2f} ms | {peers}", flush=True)
    table = markdown_table(results)
    print()
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        f"Machine: {platform.processor() or platform.machine()}, {len(__import__('os').sched_getaffinity(0))} "
        f"cores; segen {segen.__version__}, OpenCV {cv2.__version__}.\n\n"
    )
    (args.out / "core.md").write_text(header + table + "\n")
    (args.out / "summary.md").write_text(header + summary_table(results) + "\n")
    chart(results, args.out / "core.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
