"""Load test of ``segen serve`` on localhost, against the same work done in-process.

    python benchmarks/serve_load.py                      # 300 requests per case, 4 clients
    python benchmarks/serve_load.py --requests 100 --clients 8
    python benchmarks/serve_load.py --out benchmarks/results/serve.md
    python benchmarks/serve_load.py --cases fcn --threads 2 --requests 3000   # memory over a longer run

For each server thread count (``segen --threads 1 serve --workers W``, W = 1 and 2) a fresh ``segen serve``
process is started on a free port; `clients` threads, each with its own keep-alive connection, send
`requests` requests in all for each case:

* ``otsu``: POST /api/segment, a 256x256 RGB PNG, output labels (a classical segmenter);
* ``fcn-shapes``: POST /api/segment, a 128x128 RGB PNG of shapes, output labels (an ONNX segmenter);
* ``cgan-digits``: POST /api/generate, 16 samples with labels, one PNG grid (a generator).

Reported per case: throughput, latency p50 / p99, errors (anything but 200: must be 0) and the server's
resident memory after a warm-up of 100 requests and after the run. The in-process rows do the same work —
decode the PNG, segment, encode the label PNG; generate and encode the grid — with W Python threads calling
the same shared model, so the difference is what HTTP, the multipart parsing and the queue cost.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import http.client
import io
import json
import os
import pathlib
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import segen
from PIL import Image
from segen.serve import render

BOUNDARY = "segenloadtest"
MODELS = "otsu,fcn-shapes,cgan-digits"


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _multipart(fields: dict, image: bytes) -> bytes:
    parts = []
    for k, v in fields.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="in.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + image
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def cases() -> list[dict]:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 60, (256, 256, 3), dtype=np.uint8)
    photo[40:150, 30:200] = (220, 90, 80)
    shapes = segen.data.shapes(1, size=128, seed=3).images[0]
    return [
        {
            "name": "otsu (classical)",
            "path": "/api/segment",
            "body": _multipart({"model": "otsu", "output": "labels"}, _png(photo)),
            "type": f"multipart/form-data; boundary={BOUNDARY}",
            "local": ("segmenter", "otsu", _png(photo)),
        },
        {
            "name": "fcn-shapes (ONNX)",
            "path": "/api/segment",
            "body": _multipart({"model": "fcn-shapes", "output": "labels"}, _png(shapes)),
            "type": f"multipart/form-data; boundary={BOUNDARY}",
            "local": ("segmenter", "fcn-shapes", _png(shapes)),
        },
        {
            "name": "cgan-digits x16 (generator)",
            "path": "/api/generate",
            "body": json.dumps({"model": "cgan-digits", "n": 16, "seed": 1, "labels": 3}).encode(),
            "type": "application/json",
            "local": ("generator", "cgan-digits", None),
        },
    ]


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, queue: int):
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="segen-serve-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "segen", "--threads", "1", "serve", "--port", str(port), "--models", MODELS]
    cmd += ["--workers", str(workers), "--queue", str(queue), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(
                    f"segen serve did not start: {pathlib.Path(log.name).read_text()}"
                ) from None
            time.sleep(0.1)


def load(port: int, case: dict, requests: int, clients: int) -> dict:
    """`requests` requests from `clients` threads with keep-alive connections; latencies and errors."""
    per_client = [requests // clients + (i < requests % clients) for i in range(clients)]

    def client(n: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        times, errors = [], 0
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("POST", case["path"], body=case["body"], headers={"Content-Type": case["type"]})
            r = conn.getresponse()
            r.read()
            times.append(time.perf_counter() - t0)
            errors += r.status != 200
        conn.close()
        return times, errors

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, per_client))
    wall = time.perf_counter() - t0
    times = sorted(t for ts, _ in results for t in ts)
    return {
        "throughput": len(times) / wall,
        "p50_ms": 1e3 * statistics.median(times),
        "p99_ms": 1e3 * times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))],
        "errors": sum(e for _, e in results),
    }


def in_process(case: dict, requests: int, threads: int) -> dict:
    """The same work without HTTP: `threads` threads sharing one model."""
    kind, name, data = case["local"]
    segen.set_num_threads(1)
    if kind == "segmenter":
        model = segen.get_segmenter(name)

        def work():
            img = render.decode(data, max_pixels=1 << 25, max_bytes=32 << 20)
            return render.render("labels", img, render.segment(model, img))
    else:
        model = segen.get_generator(name)

        def work():
            return render.generate(model, 16, seed=1, labels=3, grid=True, scale=1, max_pixels=1 << 24)

    for _ in range(5):
        work()

    def timed(_):
        t0 = time.perf_counter()
        work()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        times = sorted(pool.map(timed, range(requests)))
    wall = time.perf_counter() - t0
    return {
        "throughput": requests / wall,
        "p50_ms": 1e3 * statistics.median(times),
        "p99_ms": 1e3 * times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300, help="requests per case and thread count")
    ap.add_argument("--clients", type=int, default=4, help="concurrent client connections")
    ap.add_argument("--threads", default="1,2", help="server worker threads to test, comma-separated")
    ap.add_argument(
        "--cases", default="", help="only the cases whose name contains one of these (comma-separated)"
    )
    ap.add_argument("--out", type=pathlib.Path, help="write the markdown table here")
    args = ap.parse_args(argv)
    rows = []
    wanted = [w for w in args.cases.split(",") if w]
    all_cases = [c for c in cases() if not wanted or any(w in c["name"] for w in wanted)]
    for workers in (int(w) for w in args.threads.split(",")):
        proc, port = start_server(workers, queue=max(16, 2 * args.clients))
        try:
            for case in all_cases:
                load(port, case, 100, args.clients)  # warm-up: models loaded, every worker's arenas grown
                rss0 = _rss(proc.pid)
                r = load(port, case, args.requests, args.clients)
                r.update(rss_start=rss0, rss_end=_rss(proc.pid))
                local = in_process(case, args.requests, workers)
                rows.append((case["name"], workers, r, local))
                print(
                    f"{case['name']:<28} workers={workers}  server {r['throughput']:7.1f} req/s  "
                    f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}  "
                    f"RSS {r['rss_start'] / 2**20:.0f} -> {r['rss_end'] / 2**20:.0f} MiB  |  in-process "
                    f"{local['throughput']:7.1f} /s  p50 {local['p50_ms']:6.1f} ms",
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(30)
    load_avg = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, shared with other work (load average at the end: "
        f"{load_avg}); segen {segen.__version__}; {datetime.date.today()}. {args.requests} requests per row from "
        f"{args.clients} concurrent keep-alive clients on localhost; server started as `segen --threads 1 serve "
        f"--workers W`; in-process: W threads sharing one model, same decode + work + PNG encode.",
        "",
        "| case | server threads | req/s | p50 ms | p99 ms | errors | server RSS start → end | in-process /s | "
        "in-process p50 ms | server / in-process throughput |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for name, workers, r, local in rows:
        lines.append(
            f"| {name} | {workers} | {r['throughput']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | "
            f"{r['rss_start'] / 2**20:.0f} → {r['rss_end'] / 2**20:.0f} MiB | {local['throughput']:.1f} | "
            f"{local['p50_ms']:.1f} | {r['throughput'] / local['throughput']:.2f} |"
        )
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    if args.out:
        args.out.write_text("# segen serve under load\n\n" + table)
    return 1 if any(r["errors"] for _, _, r, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
