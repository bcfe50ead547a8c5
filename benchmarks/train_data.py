"""What training from a folder costs: segen's streamed data pipeline against in-memory tensors, and memory.

Usage: python benchmarks/train_data.py [--images 256] [--side 512] [--rounds 3] [--epochs 2] [--size 64]
                                       [--big 2000] [--big-side 1024] [--holdout 0.05] [--threads 1]
                                       [--out benchmarks/results]

1. Throughput. A folder of `--images` grey PNGs of `--side`² with 3-class masks (smoothed noise, written
   by this script) is trained on for `--epochs` epochs of `--size`² crops (64), batch 16, with the U-Net of
   ``segen train unet`` (depth 3, width 16), Adam, cross-entropy + Dice, these ways:

   * ``plain PyTorch``: one crop of each image cut beforehand and held in memory as one tensor, shuffled
     batches, no augmentation, no disk: the lower bound of what any pipeline can do;
   * ``segen --data``: :class:`segen.training.folder.FolderSource` (each image decoded from disk, random
     crops at a random scale 1/1.25..1.25, as many per image read as ``segen train``'s automatic
     ``--crops-per-image`` gives: 4 for 64² crops of 512² images) and segen's augmentation (flips, 90°
     turns, photometric: brightness, contrast, gamma, noise, blur, equalisation), as ``segen train unet
     --data`` runs it; then with ``--crops-per-image 1`` (one decode per crop) and with
     ``--workers 1`` (decoding in a DataLoader process, beside the training step).

   All run the same training step (forward, both losses, backward, Adam) on the same network, batch and
   torch thread count; crops/s is over all epochs after one warm-up batch. The variants run in alternating
   rounds (`--rounds`) and the median is reported, as the CPU may be shared. The pipeline's cost is
   ``1 - segen / plain``.
2. Memory. ``segen train unet --data`` on a folder of `--big` images of `--big-side`² runs in a child
   process for one epoch (validation and test splits of `--holdout` each, scored at full size); its own
   peak RSS (``ru_maxrss``) is reported with the size of the data on disk.

Writes its sections (``--images 0`` or ``--big 0`` skips one, keeping the other) into
<out>/train_data.md.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SIZE, BATCH = 64, 16


def write_folder(root: pathlib.Path, count: int, side: int, seed: int = 0) -> int:
    """`count` grey images and 3-class masks of side² in root/images and root/masks; returns bytes on disk."""
    import segen

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(count):
        field = segen.filters.gaussian(rng.random((side, side), dtype=np.float32), side / 32)
        lo, hi = np.quantile(field, [1 / 3, 2 / 3])
        mask = (field > lo).astype(np.uint8) + (field > hi)
        image = np.clip(0.3 * mask + 0.25 + 0.2 * rng.standard_normal((side, side)), 0, 1)
        segen.io.imwrite(root / "images" / f"im{i:05d}.png", (image * 255).astype(np.uint8))
        segen.io.imwrite(root / "masks" / f"im{i:05d}.png", mask)
    return sum(p.stat().st_size for p in root.rglob("*.png"))


def _net():
    import torch

    sys.path.insert(0, str(HERE.parent / "plugins"))
    from segen_unet.net import UNet

    torch.manual_seed(0)
    return UNet(1, 3, depth=3, width=16)


def _stepper(model):
    """The training step of segen's recipe (without its data): returns step(x normalised, y)."""
    import torch
    import torch.nn.functional as F
    from segen.training.segmenter import dice_loss

    model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def step(x, y):
        logits = model(x.contiguous(memory_format=torch.channels_last))
        loss = F.cross_entropy(logits, y, ignore_index=255) + dice_loss(logits, y, ignore_index=255)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (DataLoader workers)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _auto_crops(root: pathlib.Path) -> int:
    from segen.data import SegmentationFolder
    from segen.training.folder import auto_crops_per_image

    return auto_crops_per_image(SegmentationFolder(root, val_fraction=0.0, test_fraction=0.0), SIZE, BATCH)


def throughput_segen(root: pathlib.Path, epochs: int, *, workers: int = 0, crops: int | None = None) -> float:
    """(crops/s, CPU ms per crop) of segen's folder pipeline + augmentation + the training step (first
    batch not timed); `crops` None: ``segen train``'s automatic crops per image."""
    import torch
    from segen.data import SegmentationFolder
    from segen.training.augment import Augmentation
    from segen.training.folder import FolderSource, auto_crops_per_image
    from segen.training.segmenter import MEAN, STD, _augment

    folder = SegmentationFolder(root, val_fraction=0.0, test_fraction=0.0)
    aug = Augmentation()
    crops = crops or auto_crops_per_image(folder, SIZE, BATCH)
    source = FolderSource(
        folder, size=SIZE, stride=8, scale=aug.scale, seed=0, workers=workers, crops_per_image=crops
    )
    step = _stepper(_net())
    gen = torch.Generator().manual_seed(0)
    n, t0 = 0, None
    for epoch in range(epochs):
        for x, y in source.batches(epoch, BATCH, gen):
            x, y = _augment(x, y, gen, aug)
            step((x - MEAN) / STD, y)
            if t0 is None:  # the first batch warms up
                t0, c0 = time.perf_counter(), _cpu()
                continue
            n += len(y)
    return n / (time.perf_counter() - t0), 1e3 * (_cpu() - c0) / n


def memory_crops(root: pathlib.Path):
    """One top-left crop per image of the folder, as normalised (N, 1, SIZE, SIZE) and (N, SIZE, SIZE)."""
    import torch
    from segen.data import SegmentationFolder, to_float

    folder = SegmentationFolder(root, val_fraction=0.0, test_fraction=0.0)
    xs, ys = [], []
    for pair in folder.files("train"):
        image, mask = folder.read(pair)
        xs.append(to_float(image)[:SIZE, :SIZE])
        ys.append(mask[:SIZE, :SIZE])
    x_all = (torch.from_numpy(np.stack(xs))[:, None] - 0.5) / 0.25
    return x_all, torch.from_numpy(np.stack(ys).astype(np.int64))


def throughput_plain(x_all, y_all, epochs: int) -> float:
    """(crops/s, CPU ms per crop) of the training step alone over crops held in memory (shuffled batches,
    first not timed)."""
    import torch

    step = _stepper(_net())
    gen = torch.Generator().manual_seed(0)
    n, t0 = 0, None
    for _ in range(epochs):
        order = torch.randperm(len(x_all), generator=gen)
        for b in range(0, len(order), BATCH):
            idx = order[b : b + BATCH]
            step(x_all[idx], y_all[idx])
            if t0 is None:
                t0, c0 = time.perf_counter(), _cpu()
                continue
            n += len(idx)
    return n / (time.perf_counter() - t0), 1e3 * (_cpu() - c0) / n


_CHILD = """
import resource, sys
from segen.cli import cli
try:
    cli.main(sys.argv[2:], prog_name="segen", standalone_mode=False)
finally:
    with open(sys.argv[1], "w") as f:
        f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def peak_rss_training(
    root: pathlib.Path, out: pathlib.Path, threads: int, holdout: float
) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one epoch of ``segen train unet --data root`` in a child process
    (its own ``ru_maxrss``, read at its exit)."""
    report = out.parent / "maxrss.txt"
    cmd = [sys.executable, "-c", _CHILD, str(report), "--threads", str(threads), "train", "unet"]
    cmd += ["--data", str(root), "--epochs", "1", "--size", str(SIZE), "--int8", "false"]
    cmd += ["--val-fraction", str(holdout), "--test-fraction", str(holdout), "--progress", "false"]
    cmd += ["-o", str(out)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    return int(report.read_text()) / 1024, seconds


def _replace_section(path: pathlib.Path, name: str, body: str, header: str) -> None:
    """Write `body` between ``<!-- name -->`` markers in `path`, keeping the other sections."""
    text = path.read_text(encoding="utf-8") if path.exists() else header
    block = f"<!-- {name} -->\n{body.strip()}\n<!-- /{name} -->\n"
    found = re.search(rf"<!-- {name} -->.*?<!-- /{name} -->\n", text, flags=re.S)
    text = (
        text[: found.start()] + block + text[found.end() :] if found else text.rstrip("\n") + "\n\n" + block
    )
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=256, help="images in the throughput folder (0: skip)")
    ap.add_argument("--side", type=int, default=512, help="their side in pixels")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of each pipeline (median)")
    ap.add_argument("--big", type=int, default=2000, help="images in the memory folder (0: skip)")
    ap.add_argument("--big-side", type=int, default=1024, help="their side in pixels")
    ap.add_argument("--holdout", type=float, default=0.05, help="memory run: validation and test fractions")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per throughput round")
    ap.add_argument("--size", type=int, default=64, help="side of the training crops (a multiple of 8)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (both sides)")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    args = ap.parse_args(argv)

    import segen
    import torch

    global SIZE
    SIZE = args.size
    torch.set_num_threads(args.threads)
    segen.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "train_data.md"
    header = (
        "# Training from a folder: pipeline cost and memory\n\n"
        "`python benchmarks/train_data.py`; see the script's docstring for what each side does.\n"
    )
    where = (
        f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs), {args.threads} torch "
        f"thread(s), segen {segen.__version__}, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"
    )
    work = pathlib.Path(tempfile.mkdtemp(prefix="segen-train-bench-"))
    try:
        if args.images:
            disk = write_folder(work / "small", args.images, args.side)
            x_all, y_all = memory_crops(work / "small")
            auto = _auto_crops(work / "small")
            variants = {
                "plain PyTorch: crops in memory, no augmentation, no disk": lambda: throughput_plain(
                    x_all, y_all, args.epochs
                ),
                f"segen --data (default: {auto} crop(s) per image read, read in the training process)": lambda: (
                    throughput_segen(work / "small", args.epochs)
                ),
                "segen --data --crops-per-image 1 (one decode per crop)": lambda: throughput_segen(
                    work / "small", args.epochs, crops=1
                ),
                "segen --data --workers 1 (images read by a loader process)": lambda: throughput_segen(
                    work / "small", args.epochs, workers=1
                ),
            }
            rates = {k: [] for k in variants}
            cpu = {k: [] for k in variants}
            for r in range(args.rounds):  # alternating, so a busy spell on the shared CPU hits all alike
                for k, fn in variants.items():
                    rate, ms = fn()
                    rates[k].append(rate)
                    cpu[k].append(ms)
                    print(f"round {r}: {k}: {rate:.1f} crops/s, {ms:.1f} CPU ms/crop", flush=True)
            med = {k: float(np.median(v)) for k, v in rates.items()}
            med_cpu = {k: float(np.median(v)) for k, v in cpu.items()}
            plain, plain_cpu = next(iter(med.values())), next(iter(med_cpu.values()))
            rows = []
            for i, k in enumerate(variants):
                cost = "" if i == 0 else f"{1 - med[k] / plain:+.1%}"
                cost_cpu = "" if i == 0 else f"{med_cpu[k] / plain_cpu - 1:+.1%}"
                each = " ".join(f"{x:.1f}" for x in rates[k])
                rows.append(f"| {k} | {med[k]:.1f} | {each} | {cost} | {med_cpu[k]:.1f} | {cost_cpu} |")
            body = (
                f"## Throughput, {SIZE}² crops\n\n{where}. {args.images} grey PNGs of {args.side}² ({disk / 2**20:.0f} MiB); "
                f"{args.rounds} alternating rounds of {args.epochs} epochs of {SIZE}² crops, batch {BATCH}, "
                "U-Net depth 3 width 16, Adam, cross-entropy + Dice. Wall-clock crops/s swings with the "
                "other jobs on a shared CPU; the CPU time per crop (this process and its loader processes) "
                "does not, and is the steadier measure of what the pipeline adds.\n\n"
                "| pipeline | crops/s (median) | each round | cost (wall) | CPU ms per crop (median) | "
                "cost (CPU) |\n|---|---:|---|---:|---:|---:|\n" + "\n".join(rows) + "\n"
            )
            _replace_section(path, "throughput" if SIZE == 64 else f"throughput-{SIZE}", body, header)
        if args.big:
            t = time.perf_counter()
            big_disk = write_folder(work / "big", args.big, args.big_side, seed=1)
            print(f"wrote the memory folder in {time.perf_counter() - t:.0f} s", flush=True)
            rss, secs = peak_rss_training(work / "big", work / "model", args.threads, args.holdout)
            body = (
                f"## Memory\n\n{where}. `segen train unet --data` on {args.big} grey PNGs of "
                f"{args.big_side}² ({big_disk / 2**20:.0f} MiB on disk, {args.big * args.big_side**2 / 2**20:.0f} "
                f"MiB of pixels): a scan of every mask, one epoch of {SIZE}² crops, then validation "
                f"({args.holdout:.0%} of the files) and the held-out test ({args.holdout:.0%}) at full size, "
                f"one image at a time: peak RSS **{rss:.0f} MiB**, {secs:.0f} s.\n"
            )
            _replace_section(path, "memory", body, header)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
