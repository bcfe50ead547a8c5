"""Compare two builds of segen's C++ core in one process, call by call.

Usage: python benchmarks/ab_builds.py A.so B.so [--only SUBSTRING] [--areas AREA ...] [--rounds N] [--threads N]
       [--peer NAME]

A change of a few per cent in a hot loop is hidden by the drift of a shared machine: timed in two processes
one after the other, the same build differs by 10-20 % between runs on a busy host. Here both builds'
``segen._core`` extension modules are loaded side by side (A.so and B.so: e.g. the ``_core*.so`` of two
build trees) and each round calls the case with A then B (B then A in odd rounds), so both see the same
state of the machine. Every ``segen`` module's ``_core`` is pointed at the build under test before each call,
so a case runs segen's Python layer unchanged on either core.

The cases are bench_core's (``cases_<area>.py``): only their segen side is run. Each case first checks that
both builds give the same result (printed as "same" or "DIFFERENT"; a change meant to keep results must
print "same"), then prints the 10th percentile and the median of each build's times and their ratios B / A.

With ``--peer NAME`` (e.g. ``skimage``) each segen call is followed by that peer's call on the same input, as
in bench_core, and the medians of each build's per-call ratios to the peer are printed too. What runs between
two calls matters to calls that allocate large arrays: whether their memory comes back as pages already
mapped or as fresh ones the kernel must zero depends on what the allocator did in between.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_core import AREAS, load_cases  # noqa: E402


def load_core(path: pathlib.Path, tag: str):
    """The extension module at `path`, loaded as ``<tag>._core`` (its init function is ``PyInit__core``)."""
    name = f"{tag}._core"
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def use_core(core) -> None:
    """Point every loaded segen module that holds ``_core`` at `core`."""
    for name, module in list(sys.modules.items()):
        if (name == "segen" or name.startswith("segen.")) and getattr(module, "_core", None) is not None:
            module._core = core


def same(a, b) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except TypeError:  # non-numeric results (e.g. objects): compare as values
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=pathlib.Path, help="the reference build's _core extension (.so / .pyd)")
    ap.add_argument("b", type=pathlib.Path, help="the changed build's _core extension")
    ap.add_argument("--only", help="run only cases whose name contains this")
    ap.add_argument("--areas", nargs="+", choices=AREAS, default=list(AREAS), help="case files to run")
    ap.add_argument("--rounds", type=int, default=30, help="calls of each build per case (default 30)")
    ap.add_argument("--threads", type=int, default=1, help="segen threads (default 1)")
    ap.add_argument("--peer", help="call this peer of each case after every segen call (e.g. skimage)")
    args = ap.parse_args(argv)
    for p in (args.a, args.b):
        if not p.is_file():
            ap.error(f"no such file: {p}")
    if args.rounds < 2:
        ap.error("--rounds must be >= 2")

    import segen  # noqa: F401  (the Python layer both cores run under)

    cores = {"A": load_core(args.a, "segen_ab_a"), "B": load_core(args.b, "segen_ab_b")}
    for core in cores.values():
        core.set_num_threads(args.threads)
    import cv2  # a peer's thread count as segen's, as bench_core sets it

    cv2.setNumThreads(args.threads)
    cases = load_cases(args.only, args.areas)
    if not cases:
        print("no case matches")
        return 1
    if args.peer:
        cases = [c for c in cases if args.peer in c.peers]
        if not cases:
            print(f"no matching case has the peer {args.peer!r}")
            return 1
    print(f"A = {args.a}\nB = {args.b}\n{args.threads} thread(s), {args.rounds} rounds per build\n")
    extra = f" A / {args.peer} | B / {args.peer} |" if args.peer else ""
    print(
        "| case | result | A p10 (ms) | B p10 (ms) | B / A p10 | A median | B median | B / A median |" + extra
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.peer else ""))
    for case in cases:
        call_args = case.args()
        out = {}
        for tag, core in cores.items():
            use_core(core)
            out[tag] = case.segen(*call_args)  # also the warm-up call
        times = {"A": [], "B": []}
        peer_times = {"A": [], "B": []}
        for r in range(args.rounds):
            for tag in "AB" if r % 2 == 0 else "BA":
                use_core(cores[tag])
                t0 = time.perf_counter()
                case.segen(*call_args)
                times[tag].append((time.perf_counter() - t0) * 1e3)
                if args.peer:
                    t0 = time.perf_counter()
                    case.peers[args.peer](*call_args)
                    peer_times[tag].append((time.perf_counter() - t0) * 1e3)
        a, b = np.array(times["A"]), np.array(times["B"])
        a10, b10, am, bm = np.percentile(a, 10), np.percentile(b, 10), np.median(a), np.median(b)
        verdict = "same" if same(out["A"], out["B"]) else "DIFFERENT"
        row = f"| {case.name} | {verdict} | {a10:.2f} | {b10:.2f} | {b10 / a10:.3f} | {am:.2f} | {bm:.2f} | {bm / am:.3f} |"
        if args.peer:
            ra = np.median(a / np.array(peer_times["A"]))
            rb = np.median(b / np.array(peer_times["B"]))
            row += f" {ra:.3f} | {rb:.3f} |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
