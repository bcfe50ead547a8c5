"""Fuzz segen's ONNX loader: mutate tiny valid models and their sidecars, load and run each through segen in
a forked child with memory, CPU and wall-clock limits, and count what happened.

Seeds: the tiny segmenter, dense (free H, W) segmenter, conditional generator and external-data segmenter of
tests/tiny_models.py, plus the smallest shipped models (``--no-shipped`` to leave those out). Mutations:

- ``bytes``: 1-16 bytes of the .onnx XORed with random values;
- ``truncate``: the .onnx cut at a random length;
- ``splice``: a random chunk of the .onnx deleted, duplicated or replaced with random bytes;
- ``proto``: 1-3 changes through the onnx protobuf API: tensor dims (0, -1, 2**31, 2**62, ...), data types,
  raw data cut or grown, int64 initialisers (Reshape shapes ...) set to extremes, attributes set to extremes
  or other types, operators and domains swapped, inputs rewired, nodes dropped or duplicated, graph input
  and output shapes and types, opset and IR versions, external data locations (``..``, absolute, missing),
  an Expand to a huge shape appended, ``segen.*`` metadata properties;
- ``sidecar``: JSON fields set to hostile values (NaN, inf, 10**18, wrong types, deep nesting), removed, or
  the JSON text's bytes flipped;
- ``external``: the external data file truncated, grown or flipped, or its location/offset/length edited.

Every mutation of the model gets a sidecar digest that matches the mutated bytes (else nearly every case
would stop at the digest check), except ``stale`` cases, which keep the old digest and must end in
``ModelIntegrityError``.

Outcomes: ``ok`` (loaded and ran), ``error:<Type>`` (a segen exception: a clean refusal), and the findings:
``unexpected:<Type>`` (any other exception, MemoryError included), ``crash:<signal or exit code>`` (the
child died) and ``hang`` (over ``--timeout`` seconds). Findings are saved under ``--save`` with the command
replaying them (``--replay DIR``).

Usage::

    python tests/fuzz/fuzz_onnx.py --iterations 5000 --seed 1
    python tests/fuzz/fuzz_onnx.py --replay /tmp/fuzz-onnx/case-00042

Needs the test extra (onnx) and a POSIX ``fork``.
"""

from __future__ import annotations

import argparse
import collections
import copy
import faulthandler
import json
import math
import os
import pathlib
import random
import re
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# the test helpers (tiny_models) from the checkout; segen and its plugins as installed (a clean checkout has no
# built extension under python/, so putting it first would hide the installed package)
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, numpy_helper  # noqa: E402

EXTREME_INTS = [0, -1, 1, 2, 3, 7, 255, 2**15, 2**31 - 1, 2**31, 2**32, 2**40, 2**62, 2**63 - 1, -(2**63)]
HOSTILE_VALUES = [
    None,
    True,
    False,
    -1,
    0,
    1,
    2,
    3,
    5,
    10**9,
    10**18,
    -(10**18),
    1.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    "",
    "x",
    "float32",
    [],
    [0],
    [1, 1],
    [1, -1],
    [0, 1e308],
    [float("nan")],
    [0.0],
    [10**9, 10**9],
    ["N", 1, 16, 16],
    {},
    {"a": 1},
    [[1]],
]
SIDECAR_KEYS = [
    "task",
    "inputs",
    "outputs",
    "sha256",
    "input_size",
    "output_size",
    "channels",
    "mean",
    "std",
    "classes",
    "latent_size",
    "num_classes",
    "output_range",
    "stride",
    "min_size",
    "receptive_margin",
    "threshold",
    "name",
]
OPS = [
    "Expand",
    "Tile",
    "ConstantOfShape",
    "Resize",
    "Reshape",
    "Concat",
    "Gather",
    "MatMul",
    "Conv",
    "Add",
    "Log",
    "Div",
    "RandomNormalLike",
    "Loop",
    "If",
    "Scan",
    "Identity",
    "NoSuchOp",
    "Slice",
    "TopK",
    "Range",
]
LOCATIONS = [
    "../escape.bin",
    "/etc/hostname",
    "missing.bin",
    "sub/../w.bin",
    "./w.bin",
    "w.bin",
    "",
    ".",
    "a\\b",
]
_DEEP = "__fuzz_deep__"
SHIPPED = [
    ("gan", "segen_gan/models/dcgan-digits.onnx"),
    ("dense", "segen_unet/models/unet-textures-int8.onnx"),
]


# ---- seeds -----------------------------------------------------------------------------------------------------


def make_seeds(folder: pathlib.Path, shipped: bool) -> list[dict]:
    """The seed cases: {kind, onnx (bytes), sidecar (dict), external ({name: bytes})}."""
    import tiny_models as tm

    seeds = []

    def add(kind, path, external=()):
        seeds.append(
            {
                "kind": kind,
                "name": path.stem,
                "onnx": path.read_bytes(),
                "sidecar": json.loads(path.with_suffix(".json").read_text()),
                "external": {n: (path.parent / n).read_bytes() for n in external},
            }
        )

    add("seg", tm.make_segmenter_model(folder))
    dense = tm.make_segmenter_model(folder, "tiny-dense", size=("H", "W"))
    meta = json.loads(dense.with_suffix(".json").read_text())
    meta.update(stride=4, input_size=None)
    dense.with_suffix(".json").write_text(json.dumps(meta))
    add("dense", dense)
    add("gen", tm.make_generator_model(folder, conditional=True))
    add("seg", tm.make_external_segmenter(folder), external=["ext-seg.bin"])
    if shipped:
        for kind, rel in SHIPPED:
            path = ROOT / "plugins" / rel
            if path.is_file():
                add(kind, path)
    return seeds


# ---- mutations -------------------------------------------------------------------------------------------------


def _flip(rng: random.Random, data: bytes, k: int) -> bytes:
    b = bytearray(data)
    for _ in range(k):
        i = rng.randrange(len(b))
        b[i] ^= rng.randrange(1, 256)
    return bytes(b)


def _splice(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    n = rng.randrange(1, 64)
    how = rng.choice(["delete", "duplicate", "random"])
    if how == "delete":
        return data[:i] + data[i + n :]
    if how == "duplicate":
        return data[:i] + data[i : i + n] + data[i:]
    return data[:i] + bytes(rng.randrange(256) for _ in range(n)) + data[i:]


def _all_graphs(graph):
    yield graph
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from _all_graphs(a.g)
            for g in a.graphs:
                yield from _all_graphs(g)


def _proto_mutation(rng: random.Random, model) -> str:
    graphs = list(_all_graphs(model.graph))
    g = rng.choice(graphs)
    what = rng.choice(
        [
            "dims",
            "dtype",
            "raw",
            "int64",
            "attr",
            "op",
            "domain",
            "rewire",
            "drop",
            "dup",
            "io_shape",
            "io_type",
            "opset",
            "ir",
            "external",
            "expand",
            "props",
        ]
    )
    inits = list(g.initializer)
    if what in ("dims", "dtype", "raw", "int64", "external") and not inits:
        what = "op"
    if what in ("op", "domain", "rewire", "drop", "dup", "attr") and not g.node:
        what = "opset"
    if what == "dims":
        t = rng.choice(inits)
        if t.dims and rng.random() < 0.7:
            t.dims[rng.randrange(len(t.dims))] = rng.choice(EXTREME_INTS)
        elif t.dims and rng.random() < 0.5:
            del t.dims[-1]
        else:
            t.dims.append(rng.choice(EXTREME_INTS))
        return f"dims of {t.name} -> {list(t.dims)}"
    if what == "dtype":
        t = rng.choice(inits)
        t.data_type = rng.randrange(0, 27)
        return f"data_type of {t.name} -> {t.data_type}"
    if what == "raw":
        t = rng.choice(inits)
        raw = t.raw_data
        t.raw_data = raw[: rng.randrange(len(raw) + 1)] if raw and rng.random() < 0.5 else raw + b"\0" * 13
        return f"raw_data of {t.name} -> {len(t.raw_data)} bytes"
    if what == "int64":
        ints = [t for t in inits if t.data_type == TensorProto.INT64 and t.raw_data]
        if ints:
            t = rng.choice(ints)
            arr = numpy_helper.to_array(t).copy()
            if arr.size:
                arr.flat[rng.randrange(arr.size)] = rng.choice(EXTREME_INTS)
            t.CopyFrom(numpy_helper.from_array(arr, t.name))
            return f"int64 {t.name} -> {arr.tolist()}"
        what = "attr"
    if what == "attr":
        node = rng.choice(list(g.node))
        if node.attribute and rng.random() < 0.7:
            a = rng.choice(list(node.attribute))
            if a.type == onnx.AttributeProto.INT:
                a.i = rng.choice(EXTREME_INTS)
            elif a.type == onnx.AttributeProto.INTS and a.ints:
                a.ints[rng.randrange(len(a.ints))] = rng.choice(EXTREME_INTS)
            elif a.type == onnx.AttributeProto.FLOAT:
                a.f = rng.choice([math.nan, math.inf, -1.0, 1e30])
            else:
                a.type = rng.randrange(0, 15)
            return f"attribute {a.name} of {node.op_type}"
        name = rng.choice(["axis", "kernel_shape", "to", "mode", "value", "then_branch"])
        node.attribute.append(onnx.helper.make_attribute(name, rng.choice(EXTREME_INTS)))
        return f"attribute {name} added to {node.op_type}"
    if what == "op":
        node = rng.choice(list(g.node))
        old, node.op_type = node.op_type, rng.choice(OPS)
        return f"op {old} -> {node.op_type}"
    if what == "domain":
        node = rng.choice(list(g.node))
        node.domain = rng.choice(["com.microsoft", "ai.onnx.ml", "bogus", "ai.onnx", "segen.tests"])
        return f"domain of {node.op_type} -> {node.domain}"
    if what == "rewire":
        node = rng.choice(list(g.node))
        names = (
            [i.name for i in g.input] + [t.name for t in inits] + [o for n in g.node for o in n.output] + [""]
        )
        if node.input:
            node.input[rng.randrange(len(node.input))] = rng.choice(names)
        else:
            node.input.append(rng.choice(names))
        return f"inputs of {node.op_type} -> {list(node.input)}"
    if what == "drop":
        i = rng.randrange(len(g.node))
        op = g.node[i].op_type
        del g.node[i]
        return f"node {op} dropped"
    if what == "dup":
        node = rng.choice(list(g.node))
        g.node.append(copy.deepcopy(node))
        return f"node {node.op_type} duplicated"
    if what in ("io_shape", "io_type"):
        vis = list(g.input) + list(g.output)
        if not vis:
            return "no io"
        vi = rng.choice(vis)
        tt = vi.type.tensor_type
        if what == "io_type":
            tt.elem_type = rng.randrange(0, 27)
            return f"elem_type of {vi.name} -> {tt.elem_type}"
        if tt.shape.dim and rng.random() < 0.8:
            d = tt.shape.dim[rng.randrange(len(tt.shape.dim))]
            if rng.random() < 0.5:
                d.dim_value = rng.choice(EXTREME_INTS[:9])
            else:
                d.dim_param = rng.choice(["N", "H", "W", "X"])
        else:
            tt.shape.dim.add().dim_value = rng.choice([1, 2, 3])
        return f"shape of {vi.name}"
    if what == "opset":
        model.opset_import[0].version = rng.choice([1, 7, 11, 13, 17, 21, 23, 30, 1000])
        return f"opset -> {model.opset_import[0].version}"
    if what == "ir":
        model.ir_version = rng.choice([0, 1, 3, 7, 8, 10, 11, 99])
        return f"ir_version -> {model.ir_version}"
    if what == "external":
        t = rng.choice(inits)
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        for key, value in (
            ("location", rng.choice(LOCATIONS)),
            ("offset", str(rng.choice([0, 0, 4, 2**40]))),
            ("length", str(rng.choice([0, 4, len(t.raw_data), 2**40]))),
        ):
            e = t.external_data.add()
            e.key, e.value = key, value
        if rng.random() < 0.7:
            t.ClearField("raw_data")
        return f"{t.name} external -> {[(e.key, e.value) for e in t.external_data]}"
    if what == "expand":
        out = model.graph.output[0].name
        shape = np.array([rng.choice([2**20, 2**31, 2**40, 10**6])] * rng.randrange(1, 5), np.int64)
        model.graph.initializer.append(numpy_helper.from_array(shape, "fuzz_shape"))
        for node in model.graph.node:
            node.output[:] = ["fuzz_pre" if o == out else o for o in node.output]
        model.graph.node.append(onnx.helper.make_node("Expand", ["fuzz_pre", "fuzz_shape"], [out]))
        return f"output expanded to {shape.tolist()}"
    # props
    entry = model.metadata_props.add()
    entry.key = rng.choice(["segen.classes", "segen.latent_size", "segen.stride", "segen.task", "other"])
    entry.value = rng.choice(['["a"]', "1e999", "NaN", "{", "[" * 5000, '"x"', "3"])
    return f"metadata_props {entry.key}={entry.value[:20]}"


def _sidecar_mutation(rng: random.Random, meta: dict) -> str:
    how = rng.random()
    key = rng.choice(SIDECAR_KEYS + list(meta))
    if how < 0.15:
        meta.pop(key, None)
        return f"sidecar -{key}"
    if how < 0.25 and isinstance(meta.get("inputs"), dict) and meta["inputs"]:
        spec = meta["inputs"][rng.choice(list(meta["inputs"]))]
        if (
            isinstance(spec, dict)
            and isinstance(spec.get("shape"), list)
            and spec["shape"]
            and rng.random() < 0.7
        ):
            spec["shape"][rng.randrange(len(spec["shape"]))] = rng.choice(HOSTILE_VALUES + EXTREME_INTS)
        elif isinstance(spec, dict):
            spec["dtype"] = rng.choice(["float64", "int64", "uint8", "bool", "banana", "V8", "O", 3])
        return "sidecar inputs spec"
    if how < 0.3:
        depth = rng.choice([10, 100, 3000, 100000])
        meta[key] = f"{_DEEP}{depth}"  # written as `depth` nested lists by write_case
        return f"sidecar {key} nested {depth} deep"
    meta[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return f"sidecar {key}={meta[key]!r}"[:80]


def mutate(rng: random.Random, seed: dict) -> dict:
    """A mutated copy of a seed case, with ``category`` and ``desc``."""
    from segen.onnx.sidecar import model_digest

    case = {
        "kind": seed["kind"],
        "seed": seed["name"],
        "onnx": seed["onnx"],
        "sidecar": copy.deepcopy(seed["sidecar"]),
        "external": dict(seed["external"]),
        "sidecar_text": None,
    }
    categories = ["bytes", "truncate", "splice", "proto", "proto", "proto", "sidecar", "stale"]
    if case["external"]:
        categories += ["external", "external"]
    cat = rng.choice(categories)
    desc = []
    if cat in ("bytes", "stale"):
        k = rng.randrange(1, 17)
        case["onnx"] = _flip(rng, case["onnx"], k)
        desc.append(f"{k} bytes flipped")
    elif cat == "truncate":
        n = rng.randrange(len(case["onnx"]))
        case["onnx"] = case["onnx"][:n]
        desc.append(f"cut at {n} of {len(seed['onnx'])}")
    elif cat == "splice":
        case["onnx"] = _splice(rng, case["onnx"])
        desc.append("splice")
    elif cat == "proto":
        model = onnx.ModelProto()
        model.ParseFromString(case["onnx"])
        for _ in range(rng.randrange(1, 4)):
            try:
                desc.append(_proto_mutation(rng, model))
            except Exception as exc:  # noqa: BLE001 - onnx's helpers on an already mutated tensor
                desc.append(f"(a mutation skipped: {type(exc).__name__})")
        case["onnx"] = model.SerializeToString()
    elif cat == "sidecar":
        if rng.random() < 0.15:
            text = json.dumps(case["sidecar"]).encode()
            case["sidecar_text"] = _flip(rng, text, rng.randrange(1, 6))
            desc.append("sidecar text flipped")
        else:
            for _ in range(rng.randrange(1, 3)):
                desc.append(_sidecar_mutation(rng, case["sidecar"]))
    elif cat == "external":
        name = next(iter(case["external"]))
        blob = case["external"][name]
        how = rng.choice(["truncate", "grow", "flip", "location"])
        if how == "truncate":
            case["external"][name] = blob[: rng.randrange(len(blob))]
        elif how == "grow":
            case["external"][name] = blob + b"\0" * rng.randrange(1, 100)
        elif how == "flip":
            case["external"][name] = _flip(rng, blob, 1)
        else:
            model = onnx.ModelProto()
            model.ParseFromString(case["onnx"])
            t = model.graph.initializer[0]
            e = rng.choice(list(t.external_data))
            e.value = rng.choice(LOCATIONS + ["-1", "99999999999999999999", "4", "0x10", " 1"])
            case["onnx"] = model.SerializeToString()
        desc.append(f"external {how}")
    if cat != "stale" and case["sidecar_text"] is None and "sha256" in case["sidecar"]:
        try:
            case["sidecar"]["sha256"] = model_digest(case["onnx"], case["external"])
        except Exception:  # noqa: BLE001 - a mutated sidecar may hold anything
            pass
    case["category"] = cat
    case["desc"] = "; ".join(desc)
    return case


def write_case(case: dict, folder: pathlib.Path) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    path.write_bytes(case["onnx"])
    for name, blob in case["external"].items():
        (folder / name).write_bytes(blob)
    text = (
        case["sidecar_text"]
        or re.sub(
            rf'"{_DEEP}(\d+)"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), json.dumps(case["sidecar"])
        ).encode()
    )
    (folder / "model.json").write_bytes(text)
    (folder / "case.json").write_text(
        json.dumps({k: case[k] for k in ("kind", "seed", "category", "desc")}, indent=1)
    )
    return path


# ---- running one case (in the child) ---------------------------------------------------------------------------


def run_case(path: pathlib.Path, kind: str) -> tuple[str, str]:
    """Load and run a model through segen; (outcome, detail)."""
    import warnings

    import segen
    from segen.errors import SegenError
    from segen.onnx import DenseSegmenter, OnnxGenerator, OnnxSegmenter

    warnings.simplefilter("ignore")
    segen.set_num_threads(1)
    try:
        if kind == "gen":
            gen = OnnxGenerator(path, threads=1)
            out = gen.generate(2, seed=0)
        elif kind == "dense":
            seg = DenseSegmenter(path, threads=1)
            out = seg.segment(np.random.default_rng(0).integers(0, 255, (24, 40), np.uint8))
        else:
            seg = OnnxSegmenter(path, threads=1)
            out = seg.segment(np.random.default_rng(0).integers(0, 255, (20, 28), np.uint8))
        np.asarray(out).sum()
        return "ok", ""
    except SegenError as exc:
        return f"error:{type(exc).__name__}", str(exc)[:300]
    except BaseException as exc:  # noqa: BLE001 - a finding, reported with its traceback
        return f"unexpected:{type(exc).__name__}", "".join(traceback.format_exception(exc))[-2000:]


def _child(path: pathlib.Path, kind: str, fd: int, mem: int, cpu: int) -> None:
    try:
        faulthandler.disable()  # a crash is the driver's to report (pytest's faulthandler would print it)
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        outcome, detail = run_case(path, kind)
        os.write(fd, json.dumps({"outcome": outcome, "detail": detail}).encode())
    finally:
        os._exit(0)


def execute(path: pathlib.Path, kind: str, *, timeout: float, mem: int, cpu: int) -> tuple[str, str]:
    """Run one case in a forked child; (outcome, detail)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(path, kind, w, mem, cpu)
    os.close(w)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "hang", f"over {timeout} s"
            ready, _, _ = select.select([r], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(r, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(r)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = "SIGXCPU (hang)" if sig == signal.SIGXCPU else signal.Signals(sig).name
        return ("hang" if sig == signal.SIGXCPU else f"crash:{name}"), ""
    if not chunks:
        return f"crash:exit{os.WEXITSTATUS(status)}", ""
    result = json.loads(b"".join(chunks))
    return result["outcome"], result["detail"]


def is_finding(outcome: str) -> bool:
    return outcome.startswith(("unexpected", "crash", "hang"))


# ---- the driver --------------------------------------------------------------------------------------------------


def fuzz(
    iterations: int,
    seed: int,
    *,
    shipped: bool = True,
    timeout: float = 20.0,
    mem: int = 3 << 30,
    cpu: int = 20,
    save: pathlib.Path | None = None,
    verbose: bool = False,
) -> dict:
    """Run `iterations` mutated cases; returns the summary (counts by outcome and by category, findings)."""
    rng = random.Random(seed)
    work = pathlib.Path(tempfile.mkdtemp(prefix="fuzz-onnx-"))
    try:
        (work / "seeds").mkdir()
        seeds = make_seeds(work / "seeds", shipped)
        import onnxruntime  # noqa: F401 - imported once here, inherited by every forked child
        import segen.onnx  # noqa: F401

        outcomes = collections.Counter()
        by_category = collections.defaultdict(collections.Counter)
        findings, examples = [], {}
        start = time.perf_counter()
        for i in range(iterations):
            case = mutate(rng, rng.choice(seeds))
            folder = work / "case"
            shutil.rmtree(folder, ignore_errors=True)
            path = write_case(case, folder)
            outcome, detail = execute(path, case["kind"], timeout=timeout, mem=mem, cpu=cpu)
            if case["category"] == "stale" and case["onnx"] != next(
                s["onnx"] for s in seeds if s["name"] == case["seed"]
            ):
                if outcome != "error:ModelIntegrityError":
                    outcome = "unexpected:stale-digest-accepted"
            outcomes[outcome] += 1
            by_category[case["category"]][outcome] += 1
            examples.setdefault(outcome, f"{case['desc'][:80]} -> {detail[:300]}")
            if is_finding(outcome):
                findings.append({"i": i, "outcome": outcome, "desc": case["desc"], "detail": detail[-600:]})
                if save is not None:
                    shutil.copytree(folder, save / f"case-{i:05d}", dirs_exist_ok=True)
            if verbose:
                print(f"{i:5d} {case['category']:9s} {outcome:34s} {case['desc'][:70]}", flush=True)
        elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "iterations": iterations,
        "seed": seed,
        "seconds": round(elapsed, 1),
        "exec_per_s": round(iterations / elapsed, 1),
        "outcomes": dict(outcomes.most_common()),
        "by_category": {k: dict(v.most_common()) for k, v in sorted(by_category.items())},
        "examples": examples,
        "findings": findings,
    }


def print_summary(summary: dict) -> None:
    print(
        f"{summary['iterations']} cases, seed {summary['seed']}, {summary['seconds']} s, "
        f"{summary['exec_per_s']} exec/s"
    )
    width = max(len(k) for k in summary["outcomes"]) + 2
    print(f"{'outcome':{width}s} {'count':>6s}")
    for outcome, n in summary["outcomes"].items():
        flag = "  <-- finding" if is_finding(outcome) else ""
        print(f"{outcome:{width}s} {n:6d}{flag}")
    print("\nby mutation:")
    for cat, counts in summary["by_category"].items():
        print(f"  {cat:9s} " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for f in summary["findings"][:20]:
        print(f"\n#{f['i']} {f['outcome']}: {f['desc']}\n{f['detail']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="wall-clock seconds per case")
    ap.add_argument("--memory", type=int, default=3 << 30, help="address-space limit per case, bytes")
    ap.add_argument("--no-shipped", action="store_true", help="tiny seeds only")
    ap.add_argument("--save", type=pathlib.Path, help="copy each finding's files here")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--replay", type=pathlib.Path, help="run one saved case in this process and print")
    args = ap.parse_args(argv)
    if args.replay is not None:
        info = json.loads((args.replay / "case.json").read_text())
        print(info)
        print(run_case(args.replay / "model.onnx", info["kind"]))
        return 0
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
    summary = fuzz(
        args.iterations,
        args.seed,
        shipped=not args.no_shipped,
        timeout=args.timeout,
        mem=args.memory,
        save=args.save,
        verbose=args.verbose,
    )
    if args.json:
        print(json.dumps(summary))
    else:
        print_summary(summary)
    return 1 if summary["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
