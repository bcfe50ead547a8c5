"""Soak: shared objects under threads, and memory over many calls (issue 14's soak figures).

    python benchmarks/soak.py                 # 10,000 calls per op (a few minutes on 2 cores)
    python benchmarks/soak.py --calls 1000    # quicker
    python benchmarks/soak.py --json out.json

Two checks, each printed as a table:

* sharing: one classical segmenter (``kmeans``), one ONNX segmenter (``unet-textures-int8``) and one
  generator (``dcgan-digits``), each shared by 8 Python threads that call it on different inputs; every
  result must equal the single-threaded result for the same input.
* memory: the process's resident set size (RSS) after the first 100 calls and after all calls of a filter
  (``gaussian`` 128²), k-means (``kmeans`` on 2,000 samples), the ONNX segmenter (64²) and the generator
  (8 samples per call); growth must stay within 5 %.

The tests run a small version of both (tests/segen/test_soak.py); this script gives the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import numpy as np
import segen


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:  # Linux: resident pages are the second field
        return int(f.read().split()[1]) * 4096


def _inputs(n: int, shape=(48, 48, 3)) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [(rng.random(shape) * 255).astype(np.uint8) for _ in range(n)]


def shared_objects(threads: int = 8, per_thread: int = 6) -> list[dict]:
    """Each object called from `threads` threads at once; results compared with serial calls."""
    cases = {
        "segmenter kmeans": (segen.get_segmenter("kmeans", k=3), lambda m, x: m.segment(x)),
        "segmenter unet-textures-int8": (
            segen.get_segmenter("unet-textures-int8"),
            lambda m, x: m.segment(x),
        ),
        "generator dcgan-digits": (
            segen.get_generator("dcgan-digits"),
            lambda m, seed: m.generate(4, seed=seed),
        ),
    }
    rows = []
    for name, (model, call) in cases.items():
        args = (
            list(range(threads * per_thread))
            if name.startswith("generator")
            else _inputs(threads * per_thread)
        )
        want = [call(model, a) for a in args]
        got: list = [None] * len(args)
        errors: list = []
        barrier = threading.Barrier(threads)

        def work(t: int) -> None:
            try:
                barrier.wait()
                for i in range(t, len(args), threads):
                    got[i] = call(model, args[i])
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(repr(exc))

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        start = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        same = not errors and all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        rows.append(
            {
                "object": name,
                "threads": threads,
                "calls": len(args),
                "identical": bool(same),
                "errors": errors[:3],
                "seconds": round(time.perf_counter() - start, 3),
            }
        )
    return rows


def memory(calls: int, warmup: int = 100) -> list[dict]:
    """RSS after `warmup` calls and after `calls` calls of each operation."""
    rng = np.random.default_rng(0)
    img = rng.random((128, 128)).astype(np.float32)
    X = rng.random((2000, 3))
    seg = segen.get_segmenter("unet-textures-int8")
    gen = segen.get_generator("dcgan-digits")
    tile = _inputs(1, (64, 64, 3))[0]
    ops = {
        "filters.gaussian 128x128 f32": lambda i: segen.filters.gaussian(img, sigma=2),
        "cluster.kmeans 2000x3 k=4": lambda i: segen.cluster.kmeans(X, 4, seed=i, n_init=1),
        "unet-textures-int8 64x64": lambda i: seg.segment(tile),
        "dcgan-digits 8 samples": lambda i: gen.generate(8, seed=i),
    }
    rows = []
    for name, op in ops.items():
        for i in range(warmup):
            op(i)
        after_warmup = rss_bytes()
        start = time.perf_counter()
        for i in range(warmup, calls):
            op(i)
        end = rss_bytes()
        rows.append(
            {
                "op": name,
                "calls": calls,
                "rss_after_warmup_mib": round(after_warmup / 2**20, 1),
                "rss_end_mib": round(end / 2**20, 1),
                "growth_percent": round(100.0 * (end - after_warmup) / after_warmup, 2),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10_000, help="calls per op for the memory check")
    ap.add_argument("--threads", type=int, default=8, help="Python threads sharing one object")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args(argv)
    sharing = shared_objects(a.threads)
    print(f"{'object':32} {'threads':>7} {'calls':>6} {'identical':>9} {'s':>7}")
    for r in sharing:
        print(
            f"{r['object']:32} {r['threads']:7d} {r['calls']:6d} {str(r['identical']):>9} {r['seconds']:7.2f}"
        )
    mem = memory(a.calls)
    print(f"\n{'op':32} {'calls':>6} {'RSS@100 MiB':>11} {'RSS end MiB':>11} {'growth %':>8} {'s':>7}")
    for r in mem:
        print(
            f"{r['op']:32} {r['calls']:6d} {r['rss_after_warmup_mib']:11.1f} {r['rss_end_mib']:11.1f} "
            f"{r['growth_percent']:8.2f} {r['seconds']:7.1f}"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"sharing": sharing, "memory": mem}, f, indent=2)
    ok = all(r["identical"] for r in sharing) and all(r["growth_percent"] <= 5 for r in mem)
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
