"""The texture-photograph generator: its data folder and its evaluation (needs the ``train`` extra).

``patches OUT``: 64 x 64 grey patches of the texture photographs bundled with scikit-image (segen's
:data:`segen.data.TEXTURES`: brick, grass, gravel, immunohistochemistry), one sub-folder per texture, the
layout ``segen train cgan --data`` reads. Training patches come from the left 75% of each photograph's
columns (stride 16), held-out patches from the right 25% (stride 8): no held-out patch shares a pixel with
a training patch::

    OUT/train/<texture>/r<row>_c<col>.png
    OUT/heldout/<texture>/r<row>_c<col>.png

``evaluate DATA MODEL``: a Fréchet distance in the features of a small CNN classifier of the textures
trained here on the training patches only (seeded; its held-out accuracy is reported), between each set of
images and the held-out patches:

- ``generated``: the model's images (as many per texture as held-out patches, labels = the texture);
- ``floor_train``: the training patches (real vs real: the best a generator of the training data gets);
- ``class_mean_noise``: per-texture mean image + Gaussian noise of the texture's per-pixel standard
  deviation (right first and second moments per pixel, no structure);
- ``shuffled_pixels``: training patches with their pixels permuted (right histogram, no structure);
- ``blurred_train``: training patches blurred with a Gaussian of sigma 2 (right layout, lost detail).

Scores are written as JSON (``--json``) and, with ``--sidecar``, added to the model's sidecar as
``metrics.held_out`` (the sha256 is rewritten by segen's sidecar writer). Run from the repository root::

    python benchmarks/texture_generator.py patches texture-patches
    segen train cgan --data texture-patches/train --size 64 ...
    python benchmarks/texture_generator.py evaluate texture-patches MODEL.onnx --sidecar
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

TEXTURES = ("brick", "grass", "gravel", "immunohistochemistry")
PATCH = 64
TRAIN_FRACTION = 0.75
TRAIN_STRIDE, HELDOUT_STRIDE = 16, 8


def _photo(name: str) -> np.ndarray:
    """The photograph as grey uint8 (RGB ones by their luminance)."""
    from segen.color import rgb2gray
    from skimage import data

    img = np.asarray(getattr(data, name)())
    if img.ndim == 3:
        img = np.round(rgb2gray(img[..., :3].astype(np.float32) / 255) * 255).astype(np.uint8)
    return img


def write_patches(out: pathlib.Path) -> dict:
    """Write the train and held-out patch folders; returns the number of patches per split and texture."""
    from segen.io import imwrite

    counts = {"train": {}, "heldout": {}}
    for name in TEXTURES:
        img = _photo(name)
        h, w = img.shape
        cut = round(w * TRAIN_FRACTION)
        for split, (c0, c1), stride in (
            ("train", (0, cut), TRAIN_STRIDE),
            ("heldout", (cut, w), HELDOUT_STRIDE),
        ):
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            n = 0
            for r in range(0, h - PATCH + 1, stride):
                for c in range(c0, c1 - PATCH + 1, stride):
                    imwrite(folder / f"r{r:03d}_c{c:03d}.png", img[r : r + PATCH, c : c + PATCH])
                    n += 1
            counts[split][name] = n
    return counts


# ---- evaluation --------------------------------------------------------------------------------------------


def _load(folder: pathlib.Path):
    from segen.data import ImageFolder

    ds = ImageFolder(folder, size=PATCH, channels=1, conditional=True)
    images, labels = ds.batch(range(len(ds)))
    return images, labels, ds.classes


def _classifier(x, y, k: int, *, seed: int = 0, epochs: int = 15):
    """A small CNN (three conv blocks, 64 features) trained on `x` (N, 64, 64) uint8 with random flips;
    returns it in eval mode."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 8
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, k),
    )  # fmt: skip
    xt = torch.from_numpy(x.astype(np.float32) / 255)[:, None]
    yt = torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=gen).split(64):
            xb = xt[idx]
            if torch.rand((), generator=gen) < 0.5:
                xb = xb.flip(3)
            if torch.rand((), generator=gen) < 0.5:
                xb = xb.flip(2)
            loss = nn.functional.cross_entropy(net(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def _features(net, x: np.ndarray):
    """(penultimate features (N, 64) float64, predicted classes (N,))."""
    import torch

    feats, preds = [], []
    with torch.no_grad():
        for s in range(0, len(x), 256):
            xb = torch.from_numpy(x[s : s + 256].astype(np.float32) / 255)[:, None]
            f = net[:-1](xb)
            feats.append(f.double().numpy())
            preds.append(net[-1](f).argmax(1).numpy())
    return np.concatenate(feats), np.concatenate(preds)


def _baselines(x_train, y_train, n_per_class: dict, seed: int = 0) -> dict:
    """The naive image sets (see the module docstring), `n_per_class[k]` images of class k each."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    out = {"class_mean_noise": [], "shuffled_pixels": [], "blurred_train": [], "floor_train": []}
    labels = []
    for k, n in sorted(n_per_class.items()):
        xk = x_train[y_train == k].astype(np.float64)
        pick = rng.choice(len(xk), n, replace=len(xk) < n)
        mean, std = xk.mean(0), xk.std(0)
        out["class_mean_noise"].append(mean + std * rng.standard_normal((n, *mean.shape)))
        flat = xk[pick].reshape(n, -1)
        out["shuffled_pixels"].append(rng.permuted(flat, axis=1).reshape(xk[pick].shape))
        out["blurred_train"].append(np.stack([gaussian_filter(im, 2.0) for im in xk[pick]]))
        out["floor_train"].append(xk[pick])
        labels.append(np.full(n, k))
    as_u8 = {k: np.clip(np.round(np.concatenate(v)), 0, 255).astype(np.uint8) for k, v in out.items()}
    return as_u8, np.concatenate(labels)


def evaluate(data: pathlib.Path, model_path: pathlib.Path, *, seed: int = 0) -> dict:
    """The scores of the module docstring for the generator `model_path`."""
    from segen.eval import frechet_distance
    from segen.onnx import OnnxGenerator

    t0 = time.perf_counter()
    x_train, y_train, classes = _load(data / "train")
    x_held, y_held, held_classes = _load(data / "heldout")
    if classes != held_classes:
        raise ValueError(f"train and held-out classes differ: {classes} vs {held_classes}")
    net = _classifier(x_train, y_train, len(classes), seed=seed)
    f_held, p_held = _features(net, x_held)
    gen = OnnxGenerator(model_path)
    model_classes = list(gen.model.metadata.get("classes", []))
    if model_classes != list(classes):
        raise ValueError(f"the model's classes {model_classes} are not the folder's {list(classes)}")
    counts = {k: int((y_held == k).sum()) for k in range(len(classes))}
    sets, base_labels = _baselines(x_train, y_train, counts, seed=seed)
    sets["generated"] = gen.generate(len(y_held), seed=seed, labels=base_labels)
    scores = {}
    for key, images in sets.items():
        f, p = _features(net, images)
        scores[key] = {
            "frechet_distance": round(frechet_distance(f, f_held), 4),
            "per_class_frechet_distance": {
                classes[k]: round(frechet_distance(f[base_labels == k], f_held[y_held == k]), 4)
                for k in range(len(classes))
            },
            "classifier_agreement": round(float((p == base_labels).mean()), 4),
        }
    return {
        "held_out_patches": len(y_held),
        "train_patches": len(y_train),
        "classes": list(classes),
        "classifier": {
            "what": "4 conv blocks (16-32-64-64 channels, max-pool), global average pool, 64 features; "
            "Adam 2e-3, 15 epochs, random flips, trained on the training patches only",
            "held_out_accuracy": round(float((p_held == y_held).mean()), 4),
            "seed": seed,
        },
        "frechet": "Fréchet distance between Gaussians fitted to the classifier's 64 features of each set "
        "and of the held-out patches; per class: within each texture",
        "scores": scores,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _add_to_sidecar(model_path: pathlib.Path, result: dict) -> None:
    from segen.onnx.sidecar import write_sidecar

    sidecar = model_path.with_suffix(".json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    meta.pop("sha256", None)
    meta["metrics"] = {**meta.get("metrics", {}), "held_out": result}
    write_sidecar(model_path, meta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("patches", help="write the train/ and heldout/ patch folders")
    p.add_argument("out", type=pathlib.Path)
    e = sub.add_parser("evaluate", help="Fréchet distances of a generator and of the baselines")
    e.add_argument("data", type=pathlib.Path, help="the folder `patches` wrote")
    e.add_argument("model", type=pathlib.Path, help="the generator's .onnx")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", type=pathlib.Path, help="also write the scores here")
    e.add_argument("--sidecar", action="store_true", help="add the scores to the model's sidecar")
    args = parser.parse_args(argv)
    if args.command == "patches":
        print(json.dumps(write_patches(args.out), indent=1))
        return 0
    result = evaluate(args.data, args.model, seed=args.seed)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    if args.sidecar:
        _add_to_sidecar(args.model, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
