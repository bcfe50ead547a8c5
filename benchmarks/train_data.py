"""What training from a folder costs: segen's streamed data pipeline against in-memory tensors, and memory.

Usage: python benchmarks/train_data.py [--images 256] [--side 512] [--big 300] [--big-side 1024]
                                       [--epochs 2] [--threads 2] [--out benchmarks/results]

1. Throughput. A folder of `--images` grey PNGs of `--side`² with 3-class masks (smoothed noise, written
   by this script) is trained on for `--epochs` epochs of 64×64 crops, batch 16, with the U-Net of
   ``segen train unet`` (depth 3, width 16), Adam, cross-entropy + Dice, two ways:

   * ``segen --data``: :class:`segen.training.folder.FolderSource` (each image decoded from disk, one random
     crop per image and epoch, random scale 1/1.25..1.25) and segen's augmentation (flips, 90° turns,
     photometric: brightness, contrast, gamma, noise, blur, equalisation), as ``segen train unet --data``
     runs it;
   * ``plain PyTorch``: the same crops cut once beforehand and held in memory as one tensor, shuffled
     batches, no augmentation, no disk: the lower bound of what any pipeline can do.

   Both run the same training step (forward, both losses, backward, Adam) on the same network, batch and
   thread count; images/s is over all epochs after one warm-up batch. The pipeline's cost is
   ``1 - segen / plain``.
2. Memory. ``segen train unet --data`` on a folder of `--big` images of `--big-side`² runs in a child
   process for one epoch; its peak RSS (``ru_maxrss``) is reported with the size of the data on disk.

Writes <out>/train_data.md.
"""

from __future__ import annotations

import argparse
import pathlib
import platform
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


def throughput_segen(root: pathlib.Path, epochs: int) -> float:
    import torch
    from segen.data import SegmentationFolder
    from segen.training.augment import Augmentation
    from segen.training.folder import FolderSource
    from segen.training.segmenter import MEAN, STD, _augment

    folder = SegmentationFolder(root, val_fraction=0.0, test_fraction=0.0)
    aug = Augmentation()
    source = FolderSource(folder, size=SIZE, stride=8, scale=aug.scale, seed=0)
    step = _stepper(_net())
    gen = torch.Generator().manual_seed(0)
    n, t0 = 0, None
    for epoch in range(epochs):
        for x, y in source.batches(epoch, BATCH, gen):
            x, y = _augment(x, y, gen, aug)
            step((x - MEAN) / STD, y)
            if t0 is None:  # the first batch warms up
                t0 = time.perf_counter()
                continue
            n += len(y)
    return n / (time.perf_counter() - t0)


def throughput_plain(root: pathlib.Path, epochs: int) -> float:
    import torch
    from segen.data import SegmentationFolder, to_float

    folder = SegmentationFolder(root, val_fraction=0.0, test_fraction=0.0)
    xs, ys = [], []
    for pair in folder.files("train"):
        image, mask = folder.read(pair)
        xs.append(to_float(image)[:SIZE, :SIZE])
        ys.append(mask[:SIZE, :SIZE])
    x_all = (torch.from_numpy(np.stack(xs))[:, None] - 0.5) / 0.25
    y_all = torch.from_numpy(np.stack(ys).astype(np.int64))
    step = _stepper(_net())
    gen = torch.Generator().manual_seed(0)
    n, t0 = 0, None
    for _ in range(epochs):
        order = torch.randperm(len(x_all), generator=gen)
        for b in range(0, len(order), BATCH):
            idx = order[b : b + BATCH]
            step(x_all[idx], y_all[idx])
            if t0 is None:
                t0 = time.perf_counter()
                continue
            n += len(idx)
    return n / (time.perf_counter() - t0)


def peak_rss_training(root: pathlib.Path, out: pathlib.Path, threads: int) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one epoch of ``segen train unet --data root`` in a child process."""
    cmd = [sys.executable, "-m", "segen", "--threads", str(threads), "train", "unet", "--data", str(root)]
    cmd += ["--epochs", "1", "--size", str(SIZE), "--int8", "false", "--progress", "false", "-o", str(out)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, seconds


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=256, help="images in the throughput folder")
    ap.add_argument("--side", type=int, default=512, help="their side in pixels")
    ap.add_argument("--big", type=int, default=300, help="images in the memory folder (0: skip)")
    ap.add_argument("--big-side", type=int, default=1024, help="their side in pixels")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (both sides)")
    ap.add_argument("--out", type=pathlib.Path, default=HERE / "results")
    args = ap.parse_args(argv)

    import segen
    import torch

    torch.set_num_threads(args.threads)
    segen.set_num_threads(args.threads)
    work = pathlib.Path(tempfile.mkdtemp(prefix="segen-train-bench-"))
    try:
        disk = write_folder(work / "small", args.images, args.side)
        plain = throughput_plain(work / "small", args.epochs)
        streamed = throughput_segen(work / "small", args.epochs)
        rows = [
            f"| plain PyTorch, crops in memory, no augmentation | {plain:.1f} |  |",
            f"| segen --data, streamed from disk, augmented | {streamed:.1f} | {1 - streamed / plain:+.1%} |",
        ]
        print(f"plain {plain:.1f} images/s, segen {streamed:.1f} images/s", flush=True)
        mem = ""
        if args.big:
            big_disk = write_folder(work / "big", args.big, args.big_side, seed=1)
            rss, secs = peak_rss_training(work / "big", work / "model", args.threads)
            mem = (
                f"\n`segen train unet --data` on {args.big} grey PNGs of {args.big_side}² "
                f"({big_disk / 2**20:.0f} MiB on disk, {args.big * args.big_side**2 / 2**20:.0f} MiB of "
                f"pixels), one epoch of {SIZE}² crops plus validation and test at full size: peak RSS "
                f"**{rss:.0f} MiB**, {secs:.0f} s.\n"
            )
            print(mem.strip(), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = (
        "# Training from a folder: pipeline cost and memory\n\n"
        f"`python benchmarks/train_data.py` — {platform.machine()}, {args.threads} torch threads, "
        f"segen {segen.__version__}, torch {torch.__version__}. {args.images} grey PNGs of {args.side}² "
        f"({disk / 2**20:.0f} MiB), {args.epochs} epochs of one {SIZE}² crop per image, batch {BATCH}, "
        "U-Net depth 3 width 16. See the script's docstring for what each side does.\n\n"
        "| pipeline | images/s | cost vs plain |\n|---|---:|---:|\n" + "\n".join(rows) + "\n" + mem
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_data.md").write_text(text, encoding="utf-8")
    print(f"wrote {args.out / 'train_data.md'}")


if __name__ == "__main__":
    main()
