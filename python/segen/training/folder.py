"""Training segmenters on a user's folder (``segen train unet|fcn --data DIR``): a streaming torch data
set over :class:`segen.data.SegmentationFolder`, validation and held-out scores image by image.

Memory stays bounded whatever the folder holds: an epoch reads each training image once (in a loader
worker when `workers` > 0), cuts `crops` random crops of the training size from it (random scale, reflect
padding of images smaller than the crop) and drops the rest; validation and test images are read and scored one at a
time at full size (padded to the network's stride), their confusion matrices summed.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import torch

from ..data import IGNORE_INDEX, SegmentationFolder, to_float
from ..eval.metrics import ConfusionAccumulator
from .augment import random_crop
from .loop import shuffled_batches

__all__ = ["FolderSource", "FolderCrops", "pad_to_stride"]


def _as_chw(image: np.ndarray) -> np.ndarray:
    x = to_float(image)
    return x[None] if x.ndim == 2 else x.transpose(2, 0, 1)


def pad_to_stride(x: np.ndarray, stride: int) -> np.ndarray:
    """Reflect-pad a (C, H, W) array at the bottom and right up to multiples of `stride` (edge-pad when the
    image is too small to reflect)."""
    h, w = x.shape[-2:]
    ph, pw = -h % stride, -w % stride
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(x, ((0, 0), (0, ph), (0, pw)), mode=mode)


class FolderCrops(torch.utils.data.Dataset):
    """`crops` random crops per training image and epoch: item ``(epoch, i)`` is a list of crops of file
    `i` of the split, cut with a numpy generator seeded from (seed, epoch, i), so results do not depend on
    loader workers. A bad pair (with ``skip_bad``) gives None, which :func:`collate` drops."""

    def __init__(
        self, folder: SegmentationFolder, split: str, *, size: int, scale: float, seed: int, crops: int = 1
    ):
        self.folder, self.files = folder, folder.files(split)
        self.size, self.scale, self.seed, self.crops = size, scale, seed, crops

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, item):
        epoch, i = item
        got = self.folder.read_or_skip(self.files[i])
        if got is None:
            return None
        image, mask = got
        img = image[..., None] if image.ndim == 2 else image
        rng = np.random.default_rng([self.seed, epoch, i])
        return [
            random_crop(img, mask, self.size, rng, scale=self.scale, ignore=IGNORE_INDEX)
            for _ in range(self.crops)
        ]


def collate(items):
    """Stack the (image, mask) crops of a batch's items; None (skipped pairs) are dropped and counted in
    the third element."""
    good = [crop for it in items if it is not None for crop in it]
    skipped = sum(it is None for it in items)
    if not good:
        return None, None, skipped
    return torch.stack([x for x, _ in good]), torch.stack([y for _, y in good]), skipped


class _Epoch:
    """The batches of one epoch through a DataLoader (skipped pairs counted, empty batches left out)."""

    def __init__(self, source: FolderSource, batches):
        self.source, self.batches = source, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        src = self.source
        loader = torch.utils.data.DataLoader(
            src.crops,
            batch_sampler=self.batches,
            num_workers=src.workers,
            collate_fn=collate,
            persistent_workers=False,
        )
        for x, y, skipped in loader:
            src.skipped += skipped
            if x is not None:
                yield x, y


def auto_crops_per_image(folder: SegmentationFolder, size: int, batch_size: int) -> int:
    """The default crops per image read: one per 16 crop areas of the mean training image (from the mask
    scan, so no image is decoded), at most half of `batch_size` and a divisor of it; 1 for images up to 8x
    the crop's side. Decoding a 512² PNG for a single 64² crop costs about a third of a small U-Net's
    training step on it (``benchmarks/train_data.py``); four crops per decode bring that under a tenth."""
    scan = folder.scan()
    n = len(folder.files("train"))
    if n == 0:
        return 1
    mean_area = (int(scan.pixels["train"].sum()) + int(scan.ignored["train"])) / n
    k = max(1, min(int(mean_area // (16 * size * size)), batch_size // 2))
    while batch_size % k:
        k -= 1
    return k


class FolderSource:
    """Training batches and validation mIoU from a :class:`~segen.data.SegmentationFolder`.

    Parameters
    ----------
    folder : SegmentationFolder
        The data set (its masks already scanned).
    size : int
        Side of the square training crops.
    stride : int
        The network's stride: validation images are padded to its multiples.
    scale : float
        Random scale range of the crops (see :func:`segen.training.augment.random_crop`).
    seed : int
        Seed of the crops.
    workers : int
        DataLoader worker processes (0: read in the training process).
    crops_per_image : int
        Crops cut from each image read (they share a batch); it must divide the batch size. More than 1
        spreads the cost of decoding a large image over several crops.
    """

    def __init__(
        self,
        folder: SegmentationFolder,
        *,
        size: int,
        stride: int,
        scale: float,
        seed: int,
        workers: int = 0,
        crops_per_image: int = 1,
    ):
        self.folder, self.size, self.stride, self.workers = folder, size, stride, workers
        self.channels = folder.channels
        self.classes = list(folder.classes)
        self.per_image = crops_per_image
        self.crops = FolderCrops(folder, "train", size=size, scale=scale, seed=seed, crops=crops_per_image)
        self.skipped = 0
        self.device = torch.device("cpu")

    def settings(self) -> dict:
        f = self.folder
        out = {
            "n_train": len(f.files("train")),
            "n_val": len(f.files("val")),
            "image_shape": [self.channels, self.size, self.size],
            "data": f.fingerprint(),
        }
        if self.per_image != 1:
            out["crops_per_image"] = self.per_image
        return out

    def batches(self, epoch: int, batch_size: int, gen: torch.Generator):
        """The batches of one epoch: `batch_size` crops each (``batch_size / crops_per_image`` images)."""
        if batch_size % self.per_image:
            raise ValueError(f"`crops_per_image` ({self.per_image}) must divide `batch_size` ({batch_size})")
        idx = shuffled_batches(len(self.crops), batch_size // self.per_image, gen)
        return _Epoch(self, [[(epoch, int(i)) for i in b] for b in idx])

    def val_miou(self, model) -> float:
        if not self.folder.files("val"):
            return float("nan")
        return score_torch(model, self.folder, "val", self.stride, len(self.classes))["mean_iou"]


def _pairs(folder: SegmentationFolder, split: str, limit: int | None = None):
    """(C, H, W) float images in [0, 1] and masks of `split`, read one at a time (bad ones skipped with
    skip_bad)."""
    for k, pair in enumerate(folder.files(split)):
        if limit is not None and k >= limit:
            return
        got = folder.read_or_skip(pair)
        if got is not None:
            yield _as_chw(got[0]), got[1]


@torch.no_grad()
def score_torch(
    model, folder: SegmentationFolder, split: str, stride: int, k: int, mean=0.5, std=0.25
) -> dict:
    """Scores of a torch model on a split, image by image at full size."""
    model.eval()
    dev = next(model.parameters()).device
    conf = ConfusionAccumulator(k, ignore_index=IGNORE_INDEX)
    for x, mask in _pairs(folder, split):
        xp = (pad_to_stride(x, stride) - mean) / std
        logits = model(torch.from_numpy(np.ascontiguousarray(xp[None], dtype=np.float32)).to(dev))
        conf.update(logits[0, :, : mask.shape[0], : mask.shape[1]].argmax(0).cpu().numpy(), mask)
    return conf.scores()


def score_onnx(path, folder: SegmentationFolder, split: str, stride: int, k: int, mean=0.5, std=0.25) -> dict:
    """Scores of an ONNX segmenter (ONNX Runtime, CPU) on a split, image by image at full size; rounded
    for the sidecar, with the number of images."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    conf, n = ConfusionAccumulator(k, ignore_index=IGNORE_INDEX), 0
    for x, mask in _pairs(folder, split):
        xp = ((pad_to_stride(x, stride) - mean) / std).astype(np.float32)
        out = sess.run(None, {"image": xp[None]})[0][0]
        conf.update(out[:, : mask.shape[0], : mask.shape[1]].argmax(0), mask)
        n += 1
    s = conf.scores()
    return {
        "pixel_accuracy": round(s["pixel_accuracy"], 5),
        "mean_iou": round(s["mean_iou"], 5),
        "iou": [round(v, 5) for v in s["iou"]],
        "images": n,
    }


def calibration_inputs(folder: SegmentationFolder, size: int, count: int, mean=0.5, std=0.25) -> np.ndarray:
    """Up to `count` centre crops (`size` square, padded when smaller) of training images, normalised, as
    (N, C, size, size) float32: the int8 calibration data."""
    out = []
    for x, _ in _pairs(folder, "train", count):
        x = pad_to_stride(x, 1)
        h, w = x.shape[-2:]
        if h < size or w < size:
            x = np.pad(x, ((0, 0), (0, max(0, size - h)), (0, max(0, size - w))), mode="edge")
            h, w = x.shape[-2:]
        r, c = (h - size) // 2, (w - size) // 2
        out.append((x[:, r : r + size, c : c + size] - mean) / std)
    return np.stack(out).astype(np.float32)


def preview_pairs(folder: SegmentationFolder, model, stride: int, count: int = 6, side: int = 128):
    """Up to `count` validation (else training) images, their masks and the model's predictions, each cut
    to at most `side` x `side` pixels from the top-left corner: for the validation picture."""
    split = "val" if folder.files("val") else "train"
    rows = []
    with torch.no_grad():
        model.eval()
        for x, mask in _pairs(folder, split, count):
            x, mask = x[:, :side, :side], mask[:side, :side]
            xp = (pad_to_stride(x, stride) - 0.5) / 0.25
            logits = model(torch.from_numpy(np.ascontiguousarray(xp[None], dtype=np.float32)))
            pred = logits[0, :, : mask.shape[0], : mask.shape[1]].argmax(0).numpy()
            img = (x.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
            rows.append((img[..., 0] if img.shape[2] == 1 else img, mask, pred))
    return rows
