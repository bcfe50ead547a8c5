"""Fuzz ``segen.io.imread`` with mutated image files, each read in a worker process under a time and memory
limit, and count what happens.

Seeds are small PNG, JPEG and TIFF files written by segen itself (plus variants only Pillow or tifffile
write: palette PNG, progressive and restart-marker JPEG, multi-page, tiled, Deflate and Big TIFF, and the
LZW, JPEG and CCITT fax TIFFs Pillow decodes when tifffile has no imagecodecs), a BMP, WebPs and an
animated GIF. Each case applies 1-3 mutations — bit flips, byte overwrites, "interesting"
integers in header fields, truncation, insertion, deletion, duplication, splicing with another seed; PNG
chunk CRCs are recomputed half the time so that the decoder, not the CRC check, meets the damage — and
reads the result with ``imread`` in a worker process. Outcomes:

``decoded``          an array came back (2-D or 3-D, non-empty, bool/int/uint/float)
``warned``           an array came back with an ``ImageReadWarning`` (corrupt JPEG data)
``clean error``      ``ImageReadError`` (any subclass: limits, missing file, ...)
``other exception``  any other exception, or an array outside the contract: a finding
``crash``            the worker died (a signal, or exit without an answer): a finding
``hang``             no answer within ``--timeout`` seconds: a finding (the worker is killed and restarted)

Findings are saved under ``--save-dir`` when given. Not collected by pytest (no ``test_`` prefix);
tests/segen/test_io_hostile.py runs a 200-case version. Usage::

    python tests/fuzz/fuzz_imread.py --iterations 20000 --seed 1 [--timeout 10] [--memory-mb 4096]
"""

from __future__ import annotations

import argparse
import collections
import io as _io
import json
import os
import pathlib
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

OUTCOMES = ("decoded", "warned", "clean error", "other exception", "crash", "hang")
FINDINGS = ("other exception", "crash", "hang")
INTERESTING = (
    0,
    1,
    2,
    7,
    8,
    15,
    16,
    255,
    256,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x10000,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
)


# ------------------------------------------------------------------------------------------------ seeds


def make_seeds() -> list[tuple[str, bytes]]:
    """(name, bytes) of small valid files in every variant imread handles."""
    import numpy as np
    import tifffile
    from PIL import Image
    from segen import io

    rng = np.random.default_rng(0)
    grey = (np.add.outer(np.arange(24), np.arange(32)) * 4 % 256).astype(np.uint8)
    rgb = np.stack([grey, grey[::-1], 255 - grey], axis=-1)
    rgba = np.concatenate([rgb, grey[..., None]], axis=-1)
    seeds = []

    def via_segen(name, image, **kw):
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / name
            io.imwrite(path, image, **kw)
            seeds.append((name, path.read_bytes()))

    def via_pillow(name, image, fmt, **kw):
        buf = _io.BytesIO()
        image.save(buf, fmt, **kw)
        seeds.append((name, buf.getvalue()))

    def via_tifffile(name, data, **kw):
        buf = _io.BytesIO()
        tifffile.imwrite(buf, data, **kw)
        seeds.append((name, buf.getvalue()))

    via_segen("grey8.png", grey)
    via_segen("rgb8.png", rgb)
    via_segen("rgba8.png", rgba)
    via_segen("grey16.png", grey.astype(np.uint16) * 257)
    via_segen("rgb16.png", rgb.astype(np.uint16) * 257)
    via_segen("ga16.png", np.stack([grey, grey], -1).astype(np.uint16) * 3)
    via_segen("mask.png", grey > 100)
    via_segen("rgb.jpg", rgb, quality=90)
    via_segen("grey.jpg", grey, quality=75)
    via_segen("grey8.tif", grey)
    via_segen("rgb16.tif", rgb.astype(np.uint16))
    via_segen("float.tif", rng.random((24, 32)).astype(np.float32))
    via_segen("labels.tif", grey.astype(np.int32) * 1000)
    via_pillow("palette.png", Image.fromarray(rgb).quantize(8), "PNG")
    via_pillow("palette_trns.png", Image.fromarray(rgb).quantize(8), "PNG", transparency=0)
    via_pillow("progressive.jpg", Image.fromarray(rgb), "JPEG", progressive=True, quality=80)
    via_pillow("restart.jpg", Image.fromarray(rgb), "JPEG", restart_marker_blocks=2, quality=80)
    via_pillow("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"), "JPEG")
    via_pillow("rgb.bmp", Image.fromarray(rgb), "BMP")
    via_tifffile("pages.tif", np.stack([grey] * 4), photometric="minisblack", metadata=None)
    via_tifffile("tiled.tif", np.pad(rgb, ((0, 8), (0, 0), (0, 0))), tile=(16, 16))
    via_tifffile("deflate.tif", grey, compression="zlib")
    via_tifffile("big.tif", grey, bigtiff=True)
    via_tifffile("planar.tif", np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate")
    via_tifffile("bilevel.tif", grey > 100)
    # decoded by Pillow's libtiff when tifffile has no imagecodecs
    via_pillow("lzw.tif", Image.fromarray(rgb), "TIFF", compression="tiff_lzw")
    via_pillow("lzw16.tif", Image.fromarray(grey.astype(np.uint16) * 257), "TIFF", compression="tiff_lzw")
    via_pillow("jpeg.tif", Image.fromarray(rgb), "TIFF", compression="jpeg", quality=80)
    via_pillow("group4.tif", Image.fromarray(grey > 100), "TIFF", compression="group4")
    via_pillow("lossless.webp", Image.fromarray(rgba), "WEBP", lossless=True)
    via_pillow("lossy.webp", Image.fromarray(rgb), "WEBP", quality=70)
    via_pillow(
        "anim.gif",
        Image.fromarray(rgb).quantize(16),
        "GIF",
        save_all=True,
        append_images=[Image.fromarray(rgb[::-1]).quantize(16)],
    )
    return seeds


# -------------------------------------------------------------------------------------------- mutations


def _fix_png_crcs(data: bytearray) -> bytearray:
    pos = 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        data[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(data[pos + 4 : end])))
        pos = end + 4
    return data


def mutate(rng: random.Random, data: bytes, seeds) -> tuple[bytes, str]:
    """`data` with 1-3 random mutations, and a description of them."""
    out = bytearray(data)
    done = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("flip", "byte", "int", "truncate", "insert", "delete", "duplicate", "splice"))
        n = len(out)
        if n < 2:
            break
        at = rng.randrange(n)
        if kind == "flip":
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(n)
                out[i] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            for _ in range(rng.randint(1, 4)):
                out[rng.randrange(n)] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        elif kind == "int":  # a header field: usually in the first 256 bytes
            at = rng.randrange(min(n, 256)) if rng.random() < 0.8 else at
            size, order = rng.choice((2, 4, 8)), rng.choice("<>")
            value = rng.choice(INTERESTING + (n, rng.randrange(1 << 32))) % (1 << (8 * size))
            out[at : at + size] = struct.pack(order + {2: "H", 4: "I", 8: "Q"}[size], value)
        elif kind == "truncate":
            del out[at:]
        elif kind == "insert":
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == "delete":
            del out[at : at + rng.randint(1, 64)]
        elif kind == "duplicate":
            out[at:at] = out[at : at + rng.randint(1, 256)]
        else:
            other = rng.choice(seeds)[1]
            out = out[:at] + other[rng.randrange(len(other)) :]
        done.append(f"{kind}@{at}")
    if data.startswith(b"\x89PNG") and rng.random() < 0.5:
        out = _fix_png_crcs(out)
        done.append("crc")
    return bytes(out), " ".join(done)


# ----------------------------------------------------------------------------------------------- worker


def worker_main(memory_mb: int) -> None:
    """Read paths from stdin, one per line; answer each with a JSON line on stdout."""
    import logging
    import resource
    import warnings

    if memory_mb:
        limit = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)  # its notes on odd tags go to stderr
    import numpy as np
    from segen import io
    from segen.errors import ImageReadError, ImageReadWarning

    for line in sys.stdin:
        start = time.perf_counter()
        answer: dict = {}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                arr = io.imread(line.rstrip("\n"))
            ours = [w for w in caught if issubclass(w.category, ImageReadWarning)]
            others = sorted({w.category.__name__ for w in caught if w not in ours})
            ok = (
                isinstance(arr, np.ndarray)
                and arr.ndim in (2, 3)
                and arr.size > 0
                and arr.dtype.kind in "buif"
                and arr.flags.c_contiguous
            )
            if not ok:
                answer = {
                    "outcome": "other exception",
                    "type": "BadArray",
                    "message": f"{arr.shape} {arr.dtype}",
                }
            else:
                answer = {
                    "outcome": "warned" if ours else "decoded",
                    "shape": list(arr.shape),
                    "dtype": str(arr.dtype),
                }
            if others:
                answer["warnings"] = others
        except ImageReadError as exc:
            answer = {"outcome": "clean error", "type": type(exc).__name__, "message": str(exc)[:300]}
        except BaseException as exc:  # counted, whatever it is
            answer = {"outcome": "other exception", "type": type(exc).__name__, "message": str(exc)[:300]}
        answer["seconds"] = time.perf_counter() - start
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class Worker:
    """A worker process; restarted after a crash or a hang."""

    def __init__(self, memory_mb: int, log: pathlib.Path):
        self.memory_mb, self.log, self.proc = memory_mb, log, None

    def start(self) -> None:
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--worker", "--memory-mb", str(self.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                bufsize=1,
            )

    def stop(self) -> int | None:
        """Kill the worker (if it still runs), close its pipes; its exit status."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            try:
                pipe.close()
            except OSError:  # a broken pipe's unflushed write
                pass
        return code

    def call(self, path: str, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write(path + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return {"outcome": "hang", "type": "timeout", "message": f"no answer in {timeout} s"}
        line = self.proc.stdout.readline()
        if not line:  # the worker died
            code = self.stop()
            name = signal.Signals(-code).name if code < 0 else f"exit {code}"
            return {"outcome": "crash", "type": name, "message": f"worker ended ({name})"}
        return json.loads(line)


# ---------------------------------------------------------------------------------------------- campaign


def run(
    iterations: int,
    seed: int,
    *,
    timeout: float = 10.0,
    memory_mb: int = 4096,
    work_dir=None,
    save_dir=None,
    progress: bool = False,
):
    """Run `iterations` cases; return (counts by outcome, findings)."""
    rng = random.Random(seed)
    seeds = make_seeds()
    work = pathlib.Path(work_dir) if work_dir else pathlib.Path(tempfile.mkdtemp(prefix="fuzz_imread_"))
    work.mkdir(parents=True, exist_ok=True)
    case = work / "case.img"
    counts = collections.Counter({k: 0 for k in OUTCOMES})
    findings, details = [], collections.Counter()
    slowest = (0.0, "")
    worker = Worker(memory_mb, work / "worker.log")
    started = time.perf_counter()
    try:
        for i in range(iterations):
            name, data = rng.choice(seeds)
            mutated, how = mutate(rng, data, seeds)
            case.write_bytes(mutated)
            answer = worker.call(str(case), timeout)
            outcome = answer["outcome"]
            counts[outcome] += 1
            if outcome in ("clean error", "other exception", "crash", "hang"):
                details[(outcome, answer.get("type", ""))] += 1
            for w in answer.get("warnings", ()):
                details[("warning leaked", w)] += 1
            if answer.get("seconds", timeout) > slowest[0]:
                slowest = (answer.get("seconds", timeout), f"{name} {how}")
            if outcome in FINDINGS:
                findings.append({"case": i, "seed_file": name, "mutation": how, **answer})
                if save_dir:
                    out = pathlib.Path(save_dir)
                    out.mkdir(parents=True, exist_ok=True)
                    (out / f"{outcome.replace(' ', '_')}-{i}-{name}").write_bytes(mutated)
            if progress and (i + 1) % 1000 == 0:
                rate = (i + 1) / (time.perf_counter() - started)
                print(f"  {i + 1} cases, {rate:.0f}/s, findings {len(findings)}", file=sys.stderr)
    finally:
        worker.stop()
        case.unlink(missing_ok=True)
    run.elapsed, run.details, run.slowest = time.perf_counter() - started, details, slowest
    return counts, findings


def summary(counts, findings, elapsed, details, slowest) -> str:
    total = sum(counts.values())
    lines = [f"{'outcome':<18}{'count':>8}{'%':>8}", "-" * 34]
    for k in OUTCOMES:
        lines.append(f"{k:<18}{counts[k]:>8}{100 * counts[k] / max(total, 1):>8.2f}")
    lines.append("-" * 34)
    lines.append(f"{'total':<18}{total:>8}   in {elapsed:.1f} s = {total / max(elapsed, 1e-9):.0f} exec/s")
    lines.append(f"slowest case: {slowest[0] * 1000:.1f} ms ({slowest[1]})")
    lines.append("by exception type:")
    for (outcome, kind), n in details.most_common(20):
        lines.append(f"  {outcome:<16} {kind:<28} {n:>7}")
    for f in findings[:10]:
        lines.append(f"finding: {json.dumps(f)[:300]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per case before it is a hang")
    parser.add_argument("--memory-mb", type=int, default=4096, help="address-space limit of the worker")
    parser.add_argument("--save-dir", help="folder for the inputs of findings")
    parser.add_argument("--work-dir", help="folder for the case file (default: a new temporary folder)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.memory_mb)
        return 0
    counts, findings = run(
        args.iterations,
        args.seed,
        timeout=args.timeout,
        memory_mb=args.memory_mb,
        work_dir=args.work_dir,
        save_dir=args.save_dir,
        progress=True,
    )
    print(summary(counts, findings, run.elapsed, run.details, run.slowest))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
