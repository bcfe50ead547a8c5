"""A small side-by-side benchmark harness (no pytest-benchmark: peers must run in the same process,
alternating with segen, so that machine noise hits both sides alike).

A case times ``segen(*args)`` and each ``peers[name](*args)`` in alternation for `repeat` rounds and
reports the median time of each and the median of the per-round ratios segen/peer. ``targets[peer]`` is
the largest acceptable ratio (1.0 = "no slower than the peer").
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Case:
    name: str
    args: Callable[[], tuple]
    segen: Callable
    peers: dict[str, Callable] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    repeat: int | None = None  # rounds; None lets the harness pick from the first timing


@dataclass
class Result:
    case: str
    threads: int
    segen_ms: float
    peer_ms: dict[str, float]
    ratio: dict[str, float]  # median of per-round segen/peer time ratios
    targets: dict[str, float]
    segen_peak_mib: float | None = None  # peak resident memory one call adds (output included)

    def verdict(self, peer: str) -> str:
        t = self.targets.get(peer)
        if t is None:
            return ""
        return "ok" if self.ratio[peer] <= t else f"MISSED (target ≤ {t:g})"


def per_thread_count(make: Callable, call: Callable) -> Callable:
    """``run(*args)`` calling ``call(obj, *args)`` on one ``obj = make(threads)`` per thread count
    (an ONNX Runtime session is made for one thread count: the harness changes it between runs)."""
    import segen

    made = {}

    def run(*args):
        t = segen.get_num_threads()
        if t not in made:
            made[t] = make(t)
        return call(made[t], *args)

    return run


def _rss_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_extra_mib(fn: Callable, args: tuple) -> float | None:
    """Peak resident memory that one call of ``fn(*args)`` adds above what the process held before it,
    output and scratch included (segen's scratch cache is emptied first, so buffers it kept from the timed
    calls are allocated again): Linux's high-water mark (VmHWM) is reset through /proc/self/clear_refs, the
    call made, and the mark read. None where the kernel offers no reset (not Linux, or no permission)."""
    import gc

    gc.collect()
    try:  # empty segen's scratch cache, so that the scratch buffers the call needs count in its peak
        from segen import _core

        limit = _core.scratch_cache_limit()
        _core.set_scratch_cache_limit(0)
        _core.set_scratch_cache_limit(limit)
    except (ImportError, AttributeError):
        pass
    try:  # give back the pages that earlier calls freed but the allocator kept, or the call reuses them unseen
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    before = _rss_kib("VmRSS")
    result = fn(*args)
    peak = _rss_kib("VmHWM")
    del result
    if before is None or peak is None:
        return None
    return max(peak - before, 0) / 1024


def _time(fn: Callable, args: tuple) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def run_case(
    case: Case, threads: int, *, budget_s: float = 2.0, min_repeat: int = 5, max_repeat: int = 50
) -> Result:
    args = case.args()
    fns = {"segen": case.segen, **case.peers}
    first = {}
    for name, fn in fns.items():  # warm-up (also builds caches, faults pages in)
        fn(*args)
        first[name] = _time(fn, args)
    per_round = sum(first.values())
    repeat = case.repeat or int(min(max_repeat, max(min_repeat, budget_s / max(per_round, 1e-6))))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(repeat):
        order = list(fns) if r % 2 == 0 else list(reversed(list(fns)))  # alternate who goes first
        for name in order:
            times[name].append(_time(fns[name], args))
    seg = times["segen"]
    peak = peak_extra_mib(case.segen, args)
    ratios = {p: statistics.median(s / q for s, q in zip(seg, times[p])) for p in case.peers}
    return Result(
        case=case.name,
        threads=threads,
        segen_ms=statistics.median(seg) * 1e3,
        peer_ms={p: statistics.median(times[p]) * 1e3 for p in case.peers},
        ratio=ratios,
        targets=case.targets,
        segen_peak_mib=peak,
    )


def markdown_table(results: list[Result]) -> str:
    lines = [
        "| case | threads | segen ms | segen peak MiB | peer | peer ms | ratio segen/peer | speed-up | target |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        peak = "" if r.segen_peak_mib is None else f"{r.segen_peak_mib:.1f}"
        for p in r.peer_ms:
            lines.append(
                f"| {r.case} | {r.threads} | {r.segen_ms:.2f} | {peak} | {p} | {r.peer_ms[p]:.2f} | "
                f"{r.ratio[p]:.2f} | {1 / r.ratio[p]:.1f}× | {r.verdict(p)} |"
            )
    return "\n".join(lines)


def summary_table(results: list[Result]) -> str:
    """One row per (case, peer), thread counts side by side: the compact form the README shows."""
    threads = sorted({r.threads for r in results})
    by_case: dict[str, dict[int, Result]] = {}
    for r in results:
        by_case.setdefault(r.case, {})[r.threads] = r
    t = "/".join(str(n) for n in threads)
    lines = [
        f"| case | peer | segen ms ({t} threads) | peer ms | ratio segen/peer | target | segen peak MiB |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for case, runs in by_case.items():
        first = next(iter(runs.values()))
        for p in first.peer_ms:
            seg = " / ".join(f"{runs[n].segen_ms:.1f}" for n in threads if n in runs)
            peer = " / ".join(f"{runs[n].peer_ms[p]:.1f}" for n in threads if n in runs)
            ratio = " / ".join(f"{runs[n].ratio[p]:.2f}" for n in threads if n in runs)
            target = first.targets.get(p)
            peak = "" if first.segen_peak_mib is None else f"{first.segen_peak_mib:.0f}"
            lines.append(
                f"| {case} | {p} | {seg} | {peer} | {ratio} | {f'≤ {target:.3g}' if target else ''} | {peak} |"
            )
    return "\n".join(lines)
