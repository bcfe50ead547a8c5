"""Draw docs/architecture.png: segen's layers and the real imports between its subpackages.

The graph is computed, not drawn by hand: grimp (which import-linter is built on) reads every module of
the installed ``segen`` package; each import between two top-level parts (``segen.onnx.session`` ->
``segen.models.info`` counts as onnx -> models) becomes one arrow, function-level imports included. An
arrow that points upwards, against the layers, is drawn red (there should be none: the contracts in
pyproject.toml's ``[tool.importlinter]`` fail on it). Each box lists the third-party packages its modules
import (numpy left out: it is nearly everywhere).

Run from the repository root, with segen importable (e.g. ``PYTHONPATH=python``)::

    python docs/architecture.py            # writes docs/architecture.png
    python docs/architecture.py --edges    # also prints the edges
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import sys
import textwrap

import grimp
import matplotlib
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

# (row label, parts) from the top layer down; a part imports only its own row or rows below
LAYERS = [
    ("entry points", ["cli", "distributed"]),
    ("HTTP serving", ["serve"]),
    ("plugin front door", ["plugins"]),
    ("training (torch)", ["training"]),
    ("evaluation", ["eval"]),
    ("ONNX serving", ["onnx"]),
    ("models, data sets", ["models", "data"]),
    ("segmentation", ["segmentation"]),
    ("area modules", ["io", "viz", "color", "filters", "features", "transform", "cluster"]),
    ("foundation", ["_shared", "errors", "_core"]),
]
ROW = {part: i for i, (_, parts) in enumerate(LAYERS) for part in parts}
FOUNDATION = set(LAYERS[-1][1])
BOX_W, BOX_H, GAP, ROW_DY, LEFT = 1.62, 0.62, 0.26, 1.22, 2.6
WIDTH = LEFT + max(len(parts) for _, parts in LAYERS) * (BOX_W + GAP)
OUT = pathlib.Path(__file__).with_suffix(".png")


def _part(module: str, line: str = "") -> str | None:
    """segen.onnx.session -> onnx; the root's ``from . import _core`` -> _core; the root itself -> None."""
    parts = module.split(".")
    if len(parts) > 1:
        return parts[1]
    return "_core" if "_core" in line else None  # the package root: only the C++ module is drawn


def import_graph(package: str = "segen"):
    """({(importer part, imported part): number of imports}, {part: third-party packages})."""
    graph = grimp.build_graph(package, include_external_packages=True)
    edges: collections.Counter = collections.Counter()
    external = collections.defaultdict(set)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for module in graph.modules:
        if module.split(".")[0] != package:
            continue
        src = _part(module)
        if src not in ROW:  # the root __init__ (lazy public API) and __main__
            continue
        for target in graph.find_modules_directly_imported_by(module):
            top = target.split(".")[0]
            if top != package:
                if top not in stdlib and top != "numpy":
                    external[src].add(top)
                continue
            for detail in graph.get_import_details(importer=module, imported=target):
                dst = _part(target, detail["line_contents"])
                if dst is not None and dst != src:
                    edges[src, dst] += 1
    return edges, external


def _positions():
    pos = {}
    for row, (_, parts) in enumerate(LAYERS):
        span = len(parts) * BOX_W + (len(parts) - 1) * GAP
        x0 = LEFT + (WIDTH - LEFT - span) / 2
        for i, part in enumerate(parts):
            pos[part] = (x0 + i * (BOX_W + GAP), -row * ROW_DY)  # lower-left corner
    return pos


def _ports(edges, pos):
    """Where each arrow leaves its importer (bottom edge) and enters the imported part (top edge), spread
    along the edge in the order of the other end, so that arrows cross as little as possible."""
    out, into = collections.defaultdict(list), collections.defaultdict(list)
    for src, dst in edges:
        out[src].append((pos[dst][0], dst))
        into[dst].append((pos[src][0], src))
    start, end = {}, {}
    for part, ends in out.items():
        ends.sort()
        for k, (_, other) in enumerate(ends):
            x, y = pos[part]
            start[part, other] = (x + BOX_W * (k + 1) / (len(ends) + 1), y)
    for part, ends in into.items():
        ends.sort()
        for k, (_, other) in enumerate(ends):
            x, y = pos[part]
            end[other, part] = (x + BOX_W * (k + 1) / (len(ends) + 1), y + BOX_H)
    return start, end


def draw(edges, external, path: pathlib.Path = OUT) -> None:
    pos = _positions()
    start, end = _ports(edges, pos)
    fig, ax = plt.subplots(figsize=(12.5, 10.2))
    # importers' colours: tab10 without its red, which only upward (forbidden) arrows use
    tones = [plt.get_cmap("tab10")(i) for i in (0, 1, 2, 4, 5, 6, 8, 9, 7)]
    importers = sorted({s for s, _ in edges}, key=lambda p: (ROW[p], pos[p][0]))
    colour = {p: tones[i % len(tones)] for i, p in enumerate(importers)}
    upward = []
    for (src, dst), count in sorted(edges.items(), key=lambda e: e[0][1] in FOUNDATION, reverse=True):
        up = ROW[dst] < ROW[src]
        if up:
            upward.append((src, dst))
        to_base = dst in FOUNDATION and not up
        arrow = FancyArrowPatch(
            start[src, dst],
            end[src, dst],
            arrowstyle="-|>",
            mutation_scale=9,
            connectionstyle="arc3,rad=0.06",
            color="red" if up else ("0.72" if to_base else colour[src]),
            lw=2.2 if up else (0.7 if to_base else 1.0 + 0.25 * min(count, 4)),
            linestyle="--" if up else "-",
            alpha=1.0 if up else (0.8 if to_base else 0.9),
            zorder=1 if to_base else 2,
        )
        ax.add_patch(arrow)
    for row, (label, parts) in enumerate(LAYERS):
        y = -row * ROW_DY
        ax.text(
            0.05, y + BOX_H / 2, label, va="center", ha="left", fontsize=10.5, color="0.3", style="italic"
        )
        for part in parts:
            x, y = pos[part]
            box = FancyBboxPatch(
                (x, y),
                BOX_W,
                BOX_H,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                fc="#f4f1e8" if part in FOUNDATION else "#e3edf7",
                ec=colour.get(part, "0.4"),
                lw=1.6,
                zorder=3,
            )
            ax.add_patch(box)
            label = dict(ha="center", va="center", zorder=4)
            ax.text(
                x + BOX_W / 2,
                y + BOX_H * 0.66,
                part,
                fontsize=11.5,
                weight="bold",
                family="monospace",
                **label,
            )
            extra = textwrap.fill(", ".join(sorted(external.get(part, ()), key=str.lower)), 24)
            if part == "_core":
                extra = "C++ (pybind11)"
            if extra:
                ax.text(
                    x + BOX_W / 2,
                    y + BOX_H * 0.27,
                    extra,
                    fontsize=7.2,
                    color="0.25",
                    linespacing=1.0,
                    **label,
                )
    n_up = len(upward)
    ax.set_title(
        f"segen's layers and the imports between them ({sum(edges.values())} imports, {len(edges)} arrows; "
        f"{n_up} upward)",
        fontsize=13,
        loc="left",
    )
    ax.text(
        0.05,
        -(len(LAYERS) - 1) * ROW_DY - 0.45,
        "computed by docs/architecture.py with grimp; an arrow = importer -> imported, coloured by importer, "
        "thicker for more imports;\ngrey: imports of the foundation; red dashed: upward (forbidden). Small text: "
        "third-party packages imported (numpy left out).",
        fontsize=8.5,
        color="0.35",
        va="top",
    )
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(-(len(LAYERS) - 1) * ROW_DY - 0.95, BOX_H + 0.15)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    with Image.open(path) as img:  # a palette PNG: the same picture in well under half the bytes
        img.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=pathlib.Path, default=OUT)
    parser.add_argument("--edges", action="store_true", help="print the edges")
    args = parser.parse_args(argv)
    edges, external = import_graph()
    if args.edges:
        for (src, dst), count in sorted(edges.items(), key=lambda e: (ROW[e[0][0]], e[0])):
            print(f"{src:>13} -> {dst:<13} {count}")
    draw(edges, external, args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
