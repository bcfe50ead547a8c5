"""``segen train dcgan|cgan``: the GAN recipes (import torch; need the ``train`` extra).

The recipe, shared by both models:

1. data: ``segen.data.digits("train", size=16)`` (1,438 real scans; the 359 held-out ones are only
   used by the judge), scaled to [-1, 1];
2. training: the non-saturating GAN loss (D minimises ``-log D(x) - log(1 - D(G(z)))``, G minimises
   ``-log D(G(z))``), one D step per G step, Adam(lr 2e-4, betas (0.5, 0.999)) for both as in the DCGAN
   paper, batch 64; ``torch.manual_seed(seed)`` plus one seeded ``torch.Generator`` for shuffling,
   latents and labels, so a run is reproducible for a given torch version and thread count;
3. the tricks that keep a small GAN on 1,438 images stable (each can be switched off): spectral norm in
   D (``d_norm="spectral"``), one-sided label smoothing (real target 0.9, ``smooth``), and an exponential
   moving average of G's weights (``ema``, decay 0.999) — the EMA generator is the one sampled and
   exported, its batch-norm statistics re-estimated at the end over 64 batches of 256 latents (the
   averaged weights produce other activations than the live G's running statistics);
4. the unconditional DCGAN only (``aux``, default 1): D gets an auxiliary classifier head trained on the
   real digits' labels, and G's loss gains ``aux * (H[p(c|G(z))] - H[E_z p(c|G(z))])`` — each sample
   should be one clear digit, and all ten digits equally frequent (CatGAN's objective, Springenberg 2016).
   Without it G spends hundreds of epochs on ambiguous in-between digits (a continuous latent must bridge
   ten disconnected classes) and a skewed class mix; G itself never sees a label and stays a plain DCGAN;
5. every `grid_every` epochs a 10 x 10 grid of the EMA generator on fixed latents (``<name>_epochNNN.png``;
   cGAN: one row per class) and a checkpoint (``<name>.ckpt.pt``; ``resume=True`` continues from it with
   the optimiser and RNG states, so a resumed run equals an uninterrupted one);
6. export of the EMA generator to ``<name>.onnx`` (dynamic batch), the torch-vs-ONNX Runtime parity
   check (<= 1e-4 or the recipe fails), ``<name>_samples.png`` (10 x 10 from the exported model, seed 0),
   the judge's metrics (:func:`segen.eval.evaluate_generator` on the exported model through ONNX
   Runtime) and ``<name>.json`` with the exact command, seed, data, torch version, time, per-epoch
   losses, metrics and the quality targets.
"""

from __future__ import annotations

import copy
import json
import pathlib
import platform
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from segen.data import ImageFolder, digits
from segen.eval import evaluate_generator
from segen.onnx import OnnxGenerator
from segen.training import (
    Checkpoint,
    Every,
    FolderImages,
    export_generator,
    fit,
    generator_parity,
    resolve_device,
    save_grid,
    shuffled_batches,
    to_tensor,
    torch_threads,
    write_generator_json,
)

from .net import IMAGE_SIZE, DCDiscriminator, DCGenerator, count_parameters

#: Defaults of a run on a folder (``data=DIR``): epochs, image side and the auxiliary-classifier weight.
FOLDER_DEFAULTS = {"epochs": 100, "size": 64, "aux": 0.0}

#: Quality targets of issue 6, written into the JSON and re-checked by the tests.
TARGETS = {
    "frechet_ratio_max": 3.0,  # fd / (real train vs held-out fd)
    "baseline_fraction_max": 0.25,  # fd / min(class-means baseline, noise baseline)
    "memorised_fraction_max": 0.05,
}
CGAN_TARGETS = {**TARGETS, "class_consistency_min": 0.90}

NUM_CLASSES = 10
#: The per-epoch means in the JSON's ``training.losses`` (those that are not all zero).
HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "d_aux", "g_aux")
#: Defaults that differ between the recipes (the shipped models were trained with them).
RECIPES = {
    "dcgan": {"epochs": 800, "aux": 1.0},
    "cgan": {"epochs": 400, "aux": 0.0},
}


@torch.no_grad()
def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm, 1.0 - decay)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


@torch.no_grad()
def recalibrate_batchnorm(
    model: DCGenerator, *, batches: int = 64, batch_size: int = 256, seed: int = 0
) -> None:
    """Re-estimate the batch-norm running statistics of `model` as the plain average over `batches`
    batches of random latents (and uniform labels), then leave it in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for _ in range(batches):
        z = torch.randn(batch_size, model.latent_size, generator=gen)
        labels = (
            torch.randint(0, model.num_classes, (batch_size,), generator=gen) if model.num_classes else None
        )
        model(z, labels)
    for m, mom in zip(norms, saved):
        m.momentum = mom
    model.eval()


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-8).log()).sum(-1)


def _fixed_inputs(latent_size: int, num_classes: int | None, seed: int = 0):
    """Latents (numpy default_rng, as the ONNX generator draws them) and labels of a grid of 10 columns:
    100 images, or for a conditional model one row per class (classes cycling when there are over 10)."""
    labels = None
    if num_classes:
        labels = np.repeat(np.arange(num_classes), 10) if num_classes <= 10 else np.arange(100) % num_classes
    n = 100 if labels is None else len(labels)
    z = np.random.default_rng(seed).standard_normal((n, latent_size)).astype(np.float32)
    return z, labels


@torch.no_grad()
def _sample_uint8(model, z: np.ndarray, labels) -> np.ndarray:
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    args = (torch.from_numpy(z),) + (() if labels is None else (torch.from_numpy(labels).long(),))
    y = model(*(t.to(dev) for t in args)).cpu().numpy()
    model.train(was)
    y = y[:, 0] if y.shape[1] == 1 else y.transpose(0, 2, 3, 1)
    return np.round(np.clip((y + 1) / 2, 0, 1) * 255).astype(np.uint8)


def _command(recipe: str, params: dict, output) -> str:
    """The ``segen train`` command line that reproduces a run (every parameter spelled out)."""
    out = pathlib.Path(output)
    parts = [f"segen train {recipe}"]
    for k, v in params.items():
        if v is not None:
            parts.append(f"--{k.replace('_', '-')} {json.dumps(v) if isinstance(v, bool) else v}")
    return " ".join(parts) + f" --out {out if not out.is_absolute() else out.name}"


def train(
    output,
    *,
    recipe: str = "dcgan",
    epochs: int | None = None,
    seed: int = 0,
    latent_size: int = 32,
    width: int = 32,
    d_width: int | None = None,
    embed_size: int = 16,
    discriminator: str = "channel",
    batch_size: int = 64,
    lr: float = 2e-4,
    d_lr: float | None = None,
    d_steps: int = 1,
    beta1: float = 0.5,
    beta2: float = 0.999,
    d_norm: str = "spectral",
    smooth: float = 0.9,
    ema: float = 0.999,
    aux: float | None = None,
    r1: float = 0.0,
    minibatch_std: int = 0,
    threads: int = 1,
    grid_every: int = 10,
    name: str | None = None,
    resume: bool = False,
    evaluate: bool = True,
    progress: bool = True,
    data=None,
    size: int | None = None,
    channels: int | None = None,
    crop: str = "center",
    skip_bad: bool = False,
    device: str = "auto",
) -> dict:
    """Train a DCGAN (``recipe="dcgan"``) or a conditional GAN (``"cgan"``: class embedding in G, label map
    as D's second channel) on the digits' train split and write ``<name>.onnx``, ``<name>.json``,
    ``<name>_samples.png``, ``<name>_epochNNN.png`` grids and ``<name>.ckpt.pt`` into `output` (default
    name ``dcgan-digits`` / ``cgan-digits``); returns the metadata written to ``<name>.json``.

    `epochs` defaults to :data:`RECIPES` (800 for dcgan, 400 for cgan) and `aux`, the weight of the
    auxiliary-classifier terms (unconditional recipe only), to 1 for dcgan. `latent_size` is the length of
    ``z``; `width` the channels of G (4 x 4 stage ``4 * width``, 8 x 8 ``2 * width``) and `d_width` of D
    (default `width`); `embed_size` the length of the cGAN's class embedding; `discriminator`
    ("channel" or "projection") how the cGAN's D sees the label (:mod:`segen_gan.net`). Adam(`lr`,
    (`beta1`, `beta2`)) for G and D (`d_lr` for D if given), `d_steps` D updates per G update. `d_norm`
    ("spectral", "batch", "none") is D's normalisation, `smooth` the target of real images (1 disables
    one-sided label smoothing), `ema` the decay of the average of G's weights (0: export the live G), `r1`
    the weight of an R1 penalty on real images and `minibatch_std` the group of a minibatch-std feature in
    D (0 disables either). `threads` is torch's intra-op thread count during the run (default 1: these nets
    are too small to gain from more, and a run's numbers depend on it). Every `grid_every` epochs a sample
    grid and a checkpoint are written; `resume` continues from ``<name>.ckpt.pt``. With `evaluate` the
    exported model is scored by :func:`segen.eval.evaluate_generator` (digits only); `progress` draws
    tqdm bars.

    `data` trains on a folder of images instead (:class:`segen.data.ImageFolder`: sub-folders are the
    classes of a cgan) brought to `size` x `size` (32, 64 or 128; default 64) with `channels` (1, 3;
    default those of the first image) by `crop` ("center" or "random" window after the short side is
    resized to `size`); `skip_bad` skips unreadable files with a warning. A folder run defaults to
    :data:`FOLDER_DEFAULTS` (100 epochs, no auxiliary classifier) and the name ``<recipe>-<folder>``;
    its sidecar records the folder's fingerprint. `device` is "auto" (CUDA when torch sees a GPU), "cpu"
    or "cuda".

    Raises :class:`ValueError` if an argument is out of range, :class:`RuntimeError` if the exported ONNX
    model disagrees with torch by more than 1e-4.
    """
    a = _checked(dict(locals()))
    with torch_threads(threads):
        return _run(a)


def _checked(args: dict) -> SimpleNamespace:
    """The arguments with the recipe's defaults filled in; :class:`ValueError` for one out of range."""
    a = SimpleNamespace(**args)
    if a.recipe not in RECIPES:
        raise ValueError(f"`recipe` must be 'dcgan' or 'cgan'; got {a.recipe!r}")
    defaults = RECIPES[a.recipe] if a.data is None else FOLDER_DEFAULTS
    a.epochs = defaults["epochs"] if a.epochs is None else a.epochs
    a.aux = defaults["aux"] if a.aux is None else float(a.aux)
    counts = ("epochs", "latent_size", "width", "d_width", "embed_size", "batch_size", "d_steps", "threads")
    for key in (*counts, "grid_every"):
        value = getattr(a, key) if key != "d_width" else a.d_width or a.width
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{key}` must be an int >= 1; got {value!r}")
    if a.d_norm not in ("spectral", "batch", "none"):
        raise ValueError(f"`d_norm` must be 'spectral', 'batch' or 'none'; got {a.d_norm!r}")
    if a.discriminator not in ("channel", "projection"):
        raise ValueError(f"`discriminator` must be 'channel' or 'projection'; got {a.discriminator!r}")
    lr, d_lr, beta1, beta2 = a.lr, a.d_lr, a.beta1, a.beta2
    if not (lr > 0 and (d_lr is None or d_lr > 0) and 0 <= beta1 < 1 and 0 <= beta2 < 1):
        raise ValueError(f"need lr, d_lr > 0 and 0 <= beta1, beta2 < 1; got {lr}, {d_lr}, {beta1}, {beta2}")
    if not (0 < a.smooth <= 1 and 0 <= a.ema < 1 and a.aux >= 0 and a.r1 >= 0 and a.minibatch_std >= 0):
        raise ValueError(
            f"need 0 < smooth <= 1, 0 <= ema < 1, aux >= 0, r1 >= 0, minibatch_std >= 0; got smooth="
            f"{a.smooth}, ema={a.ema}, aux={a.aux}, r1={a.r1}, minibatch_std={a.minibatch_std}"
        )
    if a.recipe == "cgan" and a.aux > 0:
        raise ValueError(
            "`aux` is for the unconditional recipe (dcgan); the cGAN's D sees the labels already"
        )
    a.conditional = a.recipe == "cgan"
    a.device_t = resolve_device(a.device)
    _checked_data(a)
    return a


def _checked_data(a) -> None:
    """The data of a run: the digits, or the folder `data` (opened and checked here: a bad folder fails
    before any training); sets ``a.folder``, ``a.size``, ``a.channels``, ``a.k``, ``a.aux_classes`` and the
    default name."""
    if a.data is None:
        if a.size not in (None, IMAGE_SIZE) or a.channels not in (None, 1):
            raise ValueError(
                "`size` and `channels` are for a folder of images (`data`); the digits are 16x16 grey"
            )
        a.folder, a.size, a.channels = None, IMAGE_SIZE, 1
        a.k = NUM_CLASSES if a.conditional else None
        a.aux_classes = NUM_CLASSES
        a.name = a.name or f"{a.recipe}-digits"
        return
    a.size = FOLDER_DEFAULTS["size"] if a.size is None else a.size
    a.folder = ImageFolder(
        a.data,
        size=a.size,
        channels=a.channels,
        crop=a.crop,
        conditional=a.conditional,
        skip_bad=bool(a.skip_bad),
    )
    a.channels = a.folder.channels
    a.k = a.folder.num_classes if a.conditional else None
    a.aux_classes = a.folder.num_classes
    if a.aux > 0 and a.aux_classes < 2:
        raise ValueError(f"`aux` needs at least two classes (sub-folders) in {a.data}; found {a.aux_classes}")
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in a.folder.root.resolve().name)
    a.name = a.name or f"{a.recipe}-{slug or 'data'}"


def _params(a) -> dict:
    """The parameters recorded in the JSON (and spelled out in its command), in the command's order."""
    conditional = a.conditional
    return {
        "epochs": a.epochs,
        "seed": a.seed,
        "latent_size": a.latent_size,
        "width": a.width,
        "d_width": a.d_width,
        **({"embed_size": a.embed_size, "discriminator": a.discriminator} if conditional else {}),
        **{k: getattr(a, k) for k in ("batch_size", "lr", "d_lr", "d_steps", "beta1", "beta2", "d_norm")},
        "smooth": a.smooth,
        "ema": a.ema,
        **({} if conditional else {"aux": a.aux}),
        "r1": a.r1,
        "minibatch_std": a.minibatch_std,
        "threads": a.threads,
        **(
            {
                "data": str(a.data),
                "size": a.size,
                "channels": a.channels,
                "crop": a.crop,
                "skip_bad": a.skip_bad,
            }
            if a.folder is not None
            else {}
        ),
        **({"device": a.device} if a.device != "auto" else {}),
    }


def _run(a) -> dict:
    """The recipe's steps: data, models, the loop, export + parity, samples, the judge, the JSON."""
    out = pathlib.Path(a.output)
    out.mkdir(parents=True, exist_ok=True)
    data = _training_data(a)
    if len(data) // a.batch_size < 1:  # the last partial batch is dropped (batch norm)
        raise ValueError(f"`batch_size` must be <= {len(data)} (the training images); got {a.batch_size}")
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    nets = _models(a)
    loop = _fit_gan(a, nets, data, gen, out)
    final = copy.deepcopy(nets["g_ema"]).cpu()
    if a.size == IMAGE_SIZE:
        recalibrate_batchnorm(final, seed=a.seed)
    else:  # larger images: fewer, smaller batches are enough for the statistics and keep the CPU time low
        recalibrate_batchnorm(final, batches=16, batch_size=128, seed=a.seed)
    onnx_path = out / f"{a.name}.onnx"
    props = {"task": "generation", "name": a.name, "latent_size": a.latent_size, "output_range": [-1.0, 1.0]}
    if a.conditional:
        props["num_classes"] = a.k
    export_generator(final, onnx_path, latent_size=a.latent_size, num_classes=a.k, props=props)
    parity = generator_parity(
        final, onnx_path, latent_size=a.latent_size, num_classes=a.k, batches=(1, 7, 64, 256)
    )
    if parity > 1e-4:
        raise RuntimeError(f"torch vs ONNX Runtime outputs differ by {parity:.2e} (> 1e-4)")
    common = _sidecar(a, loop, final, nets["d"], data)
    extra = {
        "parity": parity,
        "targets": CGAN_TARGETS if a.conditional else TARGETS,
        "samples": f"{a.name}_samples.png",
    }
    write_generator_json(onnx_path, metrics={}, extra=extra, **common)  # OnnxGenerator reads it
    exported = OnnxGenerator(onnx_path)
    labels = _fixed_inputs(a.latent_size, a.k)[1]
    samples = exported.generate(100 if labels is None else len(labels), seed=0, labels=labels)
    save_grid(samples, out / f"{a.name}_samples.png", columns=10, scale=2 if a.size == IMAGE_SIZE else 1)
    metrics = {}
    if a.evaluate and a.folder is None:
        metrics = evaluate_generator(exported, n=1000, seed=0)
        loop.write(f"{a.name}: judge {json.dumps(metrics)}")
    return write_generator_json(onnx_path, metrics=metrics, extra=extra, **common)


class _MemoryImages:
    """The digits as training batches (in memory): ``batch(indices, step) -> (images, labels)``."""

    def __init__(self, a):
        d = digits("train", size=IMAGE_SIZE)
        self.x, self.y = to_tensor(d.images).to(a.device_t), torch.from_numpy(d.labels).to(a.device_t)

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, indices, step: int = 0):
        idx = indices.to(self.x.device)
        return self.x[idx], self.y[idx]


def _training_data(a):
    if a.folder is None:
        return _MemoryImages(a)
    return FolderImages(a.folder, seed=a.seed, device=a.device_t)


def _models(a) -> dict:
    """G, D, the EMA of G (G itself without `ema`) and their Adam optimisers, on the run's device."""
    G = DCGenerator(a.latent_size, a.width, a.k, a.embed_size, image_size=a.size, channels=a.channels)
    D = DCDiscriminator(
        a.d_width or a.width,
        a.k,
        norm=a.d_norm,
        conditioning=a.discriminator,
        minibatch_std=a.minibatch_std,
        aux_classes=a.aux_classes if a.aux > 0 else None,
        image_size=a.size,
        channels=a.channels,
    )
    G, D = G.to(a.device_t), D.to(a.device_t)
    G_ema = copy.deepcopy(G).requires_grad_(False) if a.ema > 0 else G
    opt_g = torch.optim.Adam(G.parameters(), lr=a.lr, betas=(a.beta1, a.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=a.d_lr or a.lr, betas=(a.beta1, a.beta2))
    return {"g": G, "d": D, "g_ema": G_ema, "opt_g": opt_g, "opt_d": opt_d}


def _fit_gan(a, nets: dict, data, gen, out):
    """The loop: one :func:`_gan_step` per batch, a sample grid and a checkpoint every `grid_every` epochs."""
    z_fixed, labels_fixed = _fixed_inputs(a.latent_size, a.k)
    scale = 2 if a.size == IMAGE_SIZE else 1

    def grid(epoch: int) -> None:
        images = _sample_uint8(nets["g_ema"], z_fixed, labels_fixed)
        save_grid(images, out / f"{a.name}_epoch{epoch + 1:03d}.png", columns=10, scale=scale)

    return fit(
        _gan_step(a, nets, data, gen),
        lambda epoch: shuffled_batches(len(data), a.batch_size, gen, drop_last=True),
        epochs=a.epochs,
        callbacks=[
            Every(a.grid_every, grid),
            Checkpoint(
                out / f"{a.name}.ckpt.pt", {**nets, "generator": gen}, resume=a.resume, every=a.grid_every
            ),
        ],
        modules=[nets["g"], nets["d"]],
        name=a.name,
        progress=a.progress,
        report_every=a.grid_every,
    )


def _gan_step(a, nets: dict, data, gen):
    """One D update (real -> `smooth`, fake -> 0) and, after every `d_steps` of them, one G update
    (non-saturating: maximise log D(G(z))) and the EMA of G; returns the numbers of the history."""
    G, D, G_ema, opt_g, opt_d = (nets[k] for k in ("g", "d", "g_ema", "opt_g", "opt_d"))
    updates_per_epoch = len(data) // a.batch_size // a.d_steps
    dev = a.device_t

    def step(idx, at):
        real, y_real = data.batch(idx, at.step)  # read from disk for a folder
        z = torch.randn(a.batch_size, a.latent_size, generator=gen).to(dev)
        y_fake = torch.randint(0, a.k, (a.batch_size,), generator=gen).to(dev) if a.conditional else None
        if len(real) == 0:  # every file of the batch was skipped as unreadable (skip_bad)
            return {}
        fake = G(z, y_fake)
        if a.r1 > 0:
            real = real.clone().requires_grad_(True)
        d_real, c_real = D.forward_aux(real, y_real if a.conditional else None)
        d_fake = D(fake.detach(), y_fake)
        d_adv = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, a.smooth))
        d_adv = d_adv + F.softplus(d_fake).mean()
        d_loss, logs = d_adv, {}
        if c_real is not None:  # the auxiliary classifier learns the real digits' classes
            d_aux = F.cross_entropy(c_real, y_real)
            d_loss = d_loss + a.aux * d_aux
            logs["d_aux"] = d_aux.item()
        if a.r1 > 0:  # R1: penalise D's gradient on real images (Mescheder et al., 2018)
            (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
            d_loss = d_loss + 0.5 * a.r1 * grad.pow(2).sum((1, 2, 3)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        logs["d_loss"] = d_adv.item()
        logs["d_real"] = torch.sigmoid(d_real).mean().item()
        logs["d_fake"] = torch.sigmoid(d_fake).mean().item()
        if (at.index + 1) % a.d_steps == 0:
            g_step = at.epoch * updates_per_epoch + (at.index + 1) // a.d_steps  # G updates so far
            logs.update(_g_update(a, G, D, G_ema, opt_g, fake, y_fake, g_step))
        return logs

    return step


def _g_update(a, G, D, G_ema, opt_g, fake, y_fake, g_step: int) -> dict:
    score, c_fake = D.forward_aux(fake, y_fake)
    g_adv = F.softplus(-score).mean()
    g_loss, logs = g_adv, {}
    if c_fake is not None:  # each sample one clear digit; the ten digits equally frequent
        p = c_fake.softmax(1)
        g_aux = _entropy(p).mean() - _entropy(p.mean(0))
        g_loss = g_loss + a.aux * g_aux
        logs["g_aux"] = g_aux.item()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    logs["g_loss"] = g_adv.item()
    if a.ema > 0:
        _ema_update(G_ema, G, min(a.ema, (1 + g_step) / (10 + g_step)))
    return logs


def _sidecar(a, loop, final, D, data) -> dict:
    """The keyword arguments of :func:`segen.training.write_generator_json` but the metrics."""
    kind = "conditional GAN" if a.conditional else "DCGAN"
    if a.folder is None:
        what = "16x16 handwritten digits" + ("; labels 0-9 choose the digit" if a.conditional else "")
    else:
        grey = "grey" if a.channels == 1 else "RGB"
        what = f"{a.size}x{a.size} {grey} images of the folder {a.folder.root.resolve().name!r}" + (
            f"; labels choose the class ({', '.join(a.folder.classes)})" if a.conditional else ""
        )
    return {
        "name": a.name,
        "summary": f"{kind} (latent {a.latent_size}, width {a.width}) of {what}",
        "latent_size": a.latent_size,
        "num_classes": a.k,
        "image_size": a.size,
        "channels": a.channels,
        "classes": list(a.folder.classes) if a.folder is not None and a.conditional else None,
        "output_range": (-1.0, 1.0),
        "architecture": _architecture(a, D),
        "training": _training(a, loop, data),
        "parameters": count_parameters(final),
    }


def _architecture(a, D) -> dict:
    conditional = a.conditional
    return {
        "type": "dcgan",
        "latent_size": a.latent_size,
        "width": a.width,
        "image_size": a.size,
        **({"channels": a.channels} if a.channels != 1 else {}),
        **(
            {"num_classes": a.k, "embed_size": a.embed_size, "generator_conditioning": "concat"}
            if conditional
            else {}
        ),
        "discriminator": {
            "width": a.d_width or a.width,
            "norm": a.d_norm,
            **({"conditioning": a.discriminator} if conditional else {}),
            **({"auxiliary_classifier": True} if a.aux > 0 else {}),
            **({"minibatch_std": a.minibatch_std} if a.minibatch_std else {}),
            "parameters": count_parameters(D),
        },
    }


def _tricks(a) -> list[str]:
    tricks = {
        "spectral norm in D": a.d_norm == "spectral",
        f"one-sided label smoothing (real target {a.smooth})": a.smooth < 1,
        f"EMA of G's weights (decay {a.ema}), exported; batch norm re-estimated over 64 x 256 latents": a.ema
        > 0,
        f"auxiliary classifier in D; G loss + {a.aux} x (per-sample class entropy - marginal class entropy)": (
            a.aux > 0
        ),
        f"R1 penalty (gamma {a.r1})": a.r1 > 0,
        f"minibatch std in D (group {a.minibatch_std})": bool(a.minibatch_std),
    }
    return [text for text, used in tricks.items() if used]


def _training(a, loop, data) -> dict:
    hist = loop.history
    n_images = len(data)
    if a.folder is None:
        described = (
            f"segen.data.digits('train', size={IMAGE_SIZE}): {n_images} images of scikit-learn's "
            "handwritten digits, fixed stratified split (the held-out 'test' split is never seen)"
        )
    else:
        described = data.record()
    return {
        "command": _command(a.recipe, _params(a), a.output),
        "params": _params(a),
        "data": described,
        "device": str(a.device_t),
        "loss": f"non-saturating GAN loss (BCE with logits), {a.d_steps} D step(s) per G step",
        "optimizer": f"Adam(lr={a.lr}, betas=({a.beta1}, {a.beta2})) for G, Adam(lr={a.d_lr or a.lr}) for D; "
        f"batch {a.batch_size}",
        "tricks": _tricks(a),
        "epochs_run": len(hist),
        "generator_steps": len(hist) * (n_images // a.batch_size // a.d_steps),
        "seed": a.seed,
        "seconds": round(hist.seconds, 1),
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "losses": {k: [round(v, 4) for v in hist[k]] for k in HISTORY_KEYS if k in hist and any(hist[k])},
        **({"resumed_from_epoch": hist.resumed_after} if hist.resumed_after else {}),
    }
