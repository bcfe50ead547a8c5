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
import time

import numpy as np
import torch
import torch.nn.functional as F

from .net import IMAGE_SIZE, DCDiscriminator, DCGenerator, count_parameters

#: Quality targets of issue 6, written into the JSON and re-checked by the tests.
TARGETS = {
    "frechet_ratio_max": 3.0,  # fd / (real train vs held-out fd)
    "baseline_fraction_max": 0.25,  # fd / min(class-means baseline, noise baseline)
    "memorised_fraction_max": 0.05,
}
CGAN_TARGETS = {**TARGETS, "class_consistency_min": 0.90}

NUM_CLASSES = 10
#: Defaults that differ between the recipes (the shipped models were trained with them).
RECIPES = {
    "dcgan": {"epochs": 800, "aux": 1.0},
    "cgan": {"epochs": 400, "aux": 0.0},
}


class _RngState:
    """Adapter giving the training RNGs a ``state_dict`` for :func:`gen_training.save_checkpoint`."""

    def __init__(self, gen: torch.Generator):
        self.gen = gen

    def state_dict(self) -> dict:
        return {"shuffle": self.gen.get_state(), "torch": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["shuffle"])
        torch.set_rng_state(state["torch"])


class _History:
    """Per-epoch means of the losses and of D's outputs, checkpointed with the models."""

    KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "d_aux", "g_aux")

    def __init__(self):
        self.values: dict[str, list[float]] = {k: [] for k in self.KEYS}
        self.seconds = 0.0

    def state_dict(self) -> dict:
        return {
            **{k: torch.tensor(v, dtype=torch.float64) for k, v in self.values.items()},
            "seconds": torch.tensor(self.seconds, dtype=torch.float64),
        }

    def load_state_dict(self, state: dict) -> None:
        self.values = {k: state[k].tolist() for k in self.KEYS}
        self.seconds = float(state["seconds"])


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


def _fixed_inputs(latent_size: int, conditional: bool, seed: int = 0):
    """100 latents (numpy default_rng, as the ONNX generator draws them) and the labels of a 10 x 10 grid
    with one row per class."""
    z = np.random.default_rng(seed).standard_normal((100, latent_size)).astype(np.float32)
    labels = np.repeat(np.arange(NUM_CLASSES), 10) if conditional else None
    return z, labels


@torch.no_grad()
def _sample_uint8(model, z: np.ndarray, labels) -> np.ndarray:
    was = model.training
    model.eval()
    args = (torch.from_numpy(z),) + (() if labels is None else (torch.from_numpy(labels).long(),))
    y = model(*args)[:, 0].numpy()
    model.train(was)
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
) -> dict:
    """Train a DCGAN (``recipe="dcgan"``) or a conditional GAN (``"cgan"``) on the digits' train split and
    write ``<name>.onnx``, ``<name>.json``, ``<name>_samples.png``, ``<name>_epochNNN.png`` grids and
    ``<name>.ckpt.pt`` into `output` (default name ``dcgan-digits`` / ``cgan-digits``).

    Parameters
    ----------
    output : str or os.PathLike
        Folder for the results (created if missing).
    recipe : {"dcgan", "cgan"}
        Unconditional DCGAN, or conditional GAN (class embedding in G, label map as D's second channel).
    epochs : int, optional
        Passes over the training images (default :data:`RECIPES`: 800 for dcgan, 400 for cgan).
    seed : int
        Seed of the initialisation, shuffling, latents and labels.
    latent_size, width, d_width, embed_size : int
        Length of ``z``; channels of G (4 x 4 stage ``4 * width``, 8 x 8 ``2 * width``) and of D
        (``d_width``, default `width`); length of the cGAN's class embedding.
    discriminator : {"channel", "projection"}
        How the cGAN's D sees the label (see :mod:`segen_gan.net`).
    batch_size, lr, d_lr, d_steps, beta1, beta2
        Adam for G (and D, unless `d_lr`); `d_steps` D updates per G update.
    d_norm : {"spectral", "batch", "none"}
        D's normalisation.
    smooth : float
        Target of real images in D's loss (1 disables one-sided label smoothing).
    ema : float
        Decay of the average of G's weights (0: export the live G).
    aux : float, optional
        Weight of the auxiliary-classifier terms (unconditional recipe only; default 1 for dcgan).
    r1 : float
        Weight gamma of an R1 gradient penalty on real images (0 disables).
    minibatch_std : int
        Group size of a minibatch standard-deviation feature in D (0 disables).
    threads : int
        torch's intra-op threads during the run (default 1: these nets are too small to gain from more,
        and a run's numbers depend on it); restored afterwards.
    grid_every : int
        Epochs between sample grids and checkpoints.
    name : str, optional
        File stem of the results.
    resume : bool
        Continue from ``<name>.ckpt.pt`` in `output` when it exists.
    evaluate : bool
        Score the exported model with :func:`segen.eval.evaluate_generator` into the JSON's metrics.
    progress : bool
        tqdm bars and one line per `grid_every` epochs.

    Returns
    -------
    meta : dict
        The metadata written to ``<name>.json``.

    Raises
    ------
    ValueError
        If an argument is out of range.
    RuntimeError
        If the exported ONNX model disagrees with torch by more than 1e-4.
    """
    args = dict(locals())
    if recipe not in RECIPES:
        raise ValueError(f"`recipe` must be 'dcgan' or 'cgan'; got {recipe!r}")
    epochs = RECIPES[recipe]["epochs"] if epochs is None else epochs
    aux = RECIPES[recipe]["aux"] if aux is None else float(aux)
    args.update(epochs=epochs, aux=aux)
    for key, value in (
        ("epochs", epochs),
        ("latent_size", latent_size),
        ("width", width),
        ("d_width", d_width or width),
        ("embed_size", embed_size),
        ("batch_size", batch_size),
        ("d_steps", d_steps),
        ("threads", threads),
        ("grid_every", grid_every),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{key}` must be an int >= 1; got {value!r}")
    if d_norm not in ("spectral", "batch", "none"):
        raise ValueError(f"`d_norm` must be 'spectral', 'batch' or 'none'; got {d_norm!r}")
    if discriminator not in ("channel", "projection"):
        raise ValueError(f"`discriminator` must be 'channel' or 'projection'; got {discriminator!r}")
    if not (lr > 0 and (d_lr is None or d_lr > 0) and 0 <= beta1 < 1 and 0 <= beta2 < 1):
        raise ValueError(f"need lr, d_lr > 0 and 0 <= beta1, beta2 < 1; got {lr}, {d_lr}, {beta1}, {beta2}")
    if not (0 < smooth <= 1 and 0 <= ema < 1 and aux >= 0 and r1 >= 0 and minibatch_std >= 0):
        raise ValueError(
            f"need 0 < smooth <= 1, 0 <= ema < 1, aux >= 0, r1 >= 0, minibatch_std >= 0; got smooth={smooth}, "
            f"ema={ema}, aux={aux}, r1={r1}, minibatch_std={minibatch_std}"
        )
    if recipe == "cgan" and aux > 0:
        raise ValueError(
            "`aux` is for the unconditional recipe (dcgan); the cGAN's D sees the labels already"
        )
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(**args)
    finally:
        torch.set_num_threads(previous)


def _train(
    output,
    *,
    recipe,
    epochs,
    seed,
    latent_size,
    width,
    d_width,
    embed_size,
    discriminator,
    batch_size,
    lr,
    d_lr,
    d_steps,
    beta1,
    beta2,
    d_norm,
    smooth,
    ema,
    aux,
    r1,
    minibatch_std,
    threads,
    grid_every,
    name,
    resume,
    evaluate,
    progress,
) -> dict:
    from segen import data as datasets
    from segen.onnx import OnnxGenerator
    from segen.training import generator as gen_training
    from tqdm.auto import tqdm

    conditional = recipe == "cgan"
    k = NUM_CLASSES if conditional else None
    name = name or f"{recipe}-digits"
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    params = {
        "epochs": epochs,
        "seed": seed,
        "latent_size": latent_size,
        "width": width,
        "d_width": d_width,
        **({"embed_size": embed_size, "discriminator": discriminator} if conditional else {}),
        "batch_size": batch_size,
        "lr": lr,
        "d_lr": d_lr,
        "d_steps": d_steps,
        "beta1": beta1,
        "beta2": beta2,
        "d_norm": d_norm,
        "smooth": smooth,
        "ema": ema,
        **({} if conditional else {"aux": aux}),
        "r1": r1,
        "minibatch_std": minibatch_std,
        "threads": threads,
    }

    # ---- data, models, optimisers
    data = datasets.digits("train", size=IMAGE_SIZE)
    x_all = gen_training.to_tensor(data.images)
    y_all = torch.from_numpy(data.labels.astype(np.int64))
    steps_per_epoch = len(x_all) // batch_size  # drop the last partial batch (batch norm)
    if steps_per_epoch < 1:
        raise ValueError(f"`batch_size` must be <= {len(x_all)} (the training images); got {batch_size}")

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    G = DCGenerator(latent_size, width, k, embed_size)
    D = DCDiscriminator(
        d_width or width,
        k,
        norm=d_norm,
        conditioning=discriminator,
        minibatch_std=minibatch_std,
        aux_classes=NUM_CLASSES if aux > 0 else None,
    )
    G_ema = copy.deepcopy(G).requires_grad_(False) if ema > 0 else G
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(beta1, beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=d_lr or lr, betas=(beta1, beta2))
    hist = _History()
    state = {
        "g": G,
        "d": D,
        "g_ema": G_ema,
        "opt_g": opt_g,
        "opt_d": opt_d,
        "rng": _RngState(gen),
        "history": hist,
    }
    ckpt = out / f"{name}.ckpt.pt"
    start = 0
    if resume and ckpt.is_file():
        start = gen_training.load_checkpoint(ckpt, **state)
        if progress:
            tqdm.write(f"{name}: resumed from {ckpt.name} after epoch {start}")
    z_fixed, labels_fixed = _fixed_inputs(latent_size, conditional)

    # ---- training
    t0 = time.perf_counter()
    step = start * (steps_per_epoch // d_steps)  # G updates so far
    for epoch in range(start, epochs):
        G.train()
        D.train()
        perm = torch.randperm(len(x_all), generator=gen)
        sums = dict.fromkeys(_History.KEYS, 0.0)
        g_updates = 0
        bar = tqdm(
            range(steps_per_epoch), desc=f"{name} {epoch + 1}/{epochs}", disable=not progress, leave=False
        )
        for i in bar:
            idx = perm[i * batch_size : (i + 1) * batch_size]
            real, y_real = x_all[idx], y_all[idx]
            z = torch.randn(batch_size, latent_size, generator=gen)
            y_fake = torch.randint(0, k, (batch_size,), generator=gen) if conditional else None
            fake = G(z, y_fake)
            # D: real -> `smooth`, fake -> 0
            if r1 > 0:
                real = real.clone().requires_grad_(True)
            d_real, c_real = D.forward_aux(real, y_real if conditional else None)
            d_fake = D(fake.detach(), y_fake)
            d_adv = (
                F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, smooth))
                + F.softplus(d_fake).mean()
            )
            d_loss = d_adv
            if c_real is not None:  # the auxiliary classifier learns the real digits' classes
                d_aux = F.cross_entropy(c_real, y_real)
                d_loss = d_loss + aux * d_aux
                sums["d_aux"] += d_aux.item()
            if r1 > 0:  # R1: penalise D's gradient on real images (Mescheder et al., 2018)
                (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
                d_loss = d_loss + 0.5 * r1 * grad.pow(2).sum((1, 2, 3)).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            sums["d_loss"] += d_adv.item()
            sums["d_real"] += torch.sigmoid(d_real).mean().item()
            sums["d_fake"] += torch.sigmoid(d_fake).mean().item()
            # G (after every `d_steps` D updates), non-saturating: maximise log D(G(z))
            if (i + 1) % d_steps == 0:
                score, c_fake = D.forward_aux(fake, y_fake)
                g_adv = F.softplus(-score).mean()
                g_loss = g_adv
                if c_fake is not None:  # each sample one clear digit; the ten digits equally frequent
                    p = c_fake.softmax(1)
                    g_aux = _entropy(p).mean() - _entropy(p.mean(0))
                    g_loss = g_loss + aux * g_aux
                    sums["g_aux"] += g_aux.item()
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
                step += 1
                g_updates += 1
                sums["g_loss"] += g_adv.item()
                if ema > 0:
                    _ema_update(G_ema, G, min(ema, (1 + step) / (10 + step)))
            bar.set_postfix(
                D=f"{sums['d_loss'] / (i + 1):.3f}", G=f"{sums['g_loss'] / max(g_updates, 1):.3f}"
            )
        for key, total in sums.items():
            per = g_updates if key in ("g_loss", "g_aux") else steps_per_epoch
            hist.values[key].append(total / max(per, 1))
        if (epoch + 1) % grid_every == 0 or epoch + 1 == epochs:
            hist.seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            if progress:
                v = {key: vals[-1] for key, vals in hist.values.items()}
                tqdm.write(
                    f"{name} epoch {epoch + 1}/{epochs}: D {v['d_loss']:.3f} G {v['g_loss']:.3f} "
                    f"D(x) {v['d_real']:.2f} D(G(z)) {v['d_fake']:.2f} ({hist.seconds:.0f} s)"
                )
            grid = _sample_uint8(G_ema, z_fixed, labels_fixed)
            gen_training.save_grid(grid, out / f"{name}_epoch{epoch + 1:03d}.png", columns=10)
            gen_training.save_checkpoint(ckpt, epoch=epoch + 1, **state)
    hist.seconds += time.perf_counter() - t0

    # ---- export, parity, samples, judge, JSON
    final = copy.deepcopy(G_ema)
    recalibrate_batchnorm(final, seed=seed)
    onnx_path = out / f"{name}.onnx"
    props = {"task": "generation", "name": name, "latent_size": latent_size, "output_range": [-1.0, 1.0]}
    if conditional:
        props["num_classes"] = k
    gen_training.export_generator(final, onnx_path, latent_size=latent_size, num_classes=k, props=props)
    parity = gen_training.generator_parity(
        final, onnx_path, latent_size=latent_size, num_classes=k, batches=(1, 7, 64, 256)
    )
    if parity > 1e-4:
        raise RuntimeError(f"torch vs ONNX Runtime outputs differ by {parity:.2e} (> 1e-4)")
    architecture = {
        "type": "dcgan",
        "latent_size": latent_size,
        "width": width,
        "image_size": IMAGE_SIZE,
        **(
            {"num_classes": k, "embed_size": embed_size, "generator_conditioning": "concat"}
            if conditional
            else {}
        ),
        "discriminator": {
            "width": d_width or width,
            "norm": d_norm,
            **({"conditioning": discriminator} if conditional else {}),
            **({"auxiliary_classifier": True} if aux > 0 else {}),
            **({"minibatch_std": minibatch_std} if minibatch_std else {}),
            "parameters": count_parameters(D),
        },
    }
    tricks = [
        *(["spectral norm in D"] if d_norm == "spectral" else []),
        *([f"one-sided label smoothing (real target {smooth})"] if smooth < 1 else []),
        *(
            [f"EMA of G's weights (decay {ema}), exported; batch norm re-estimated over 64 x 256 latents"]
            if ema > 0
            else []
        ),
        *(
            [
                f"auxiliary classifier in D; G loss + {aux} x (per-sample class entropy - marginal class entropy)"
            ]
            if aux > 0
            else []
        ),
        *([f"R1 penalty (gamma {r1})"] if r1 > 0 else []),
        *([f"minibatch std in D (group {minibatch_std})"] if minibatch_std else []),
    ]
    training = {
        "command": _command(recipe, params, output),
        "params": params,
        "data": f"segen.data.digits('train', size={IMAGE_SIZE}): {len(x_all)} images of scikit-learn's "
        "handwritten digits, fixed stratified split (the held-out 'test' split is never seen)",
        "loss": f"non-saturating GAN loss (BCE with logits), {d_steps} D step(s) per G step",
        "optimizer": f"Adam(lr={lr}, betas=({beta1}, {beta2})) for G, Adam(lr={d_lr or lr}) for D; batch {batch_size}",
        "tricks": tricks,
        "epochs_run": len(hist.values["d_loss"]),
        "generator_steps": step,
        "seed": seed,
        "seconds": round(hist.seconds, 1),
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "losses": {key: [round(v, 4) for v in vals] for key, vals in hist.values.items() if any(vals)},
        **({"resumed_from_epoch": start} if start else {}),
    }
    kind = "conditional GAN" if conditional else "DCGAN"
    common = {
        "name": name,
        "summary": f"{kind} (latent {latent_size}, width {width}) of 16x16 handwritten digits"
        + ("; labels 0-9 choose the digit" if conditional else ""),
        "latent_size": latent_size,
        "num_classes": k,
        "image_size": IMAGE_SIZE,
        "output_range": (-1.0, 1.0),
        "architecture": architecture,
        "training": training,
        "parameters": count_parameters(final),
    }
    extra = {
        "parity": parity,
        "targets": CGAN_TARGETS if conditional else TARGETS,
        "samples": f"{name}_samples.png",
    }
    gen_training.write_generator_json(onnx_path, metrics={}, extra=extra, **common)
    exported = OnnxGenerator(onnx_path)
    labels_grid = _fixed_inputs(latent_size, conditional)[1]
    samples = exported.generate(100, seed=0, labels=labels_grid)
    gen_training.save_grid(samples, out / f"{name}_samples.png", columns=10)
    metrics = {}
    if evaluate:
        from segen.eval import evaluate_generator

        metrics = evaluate_generator(exported, n=1000, seed=0)
        if progress:
            tqdm.write(f"{name}: judge {json.dumps(metrics)}")
    return gen_training.write_generator_json(onnx_path, metrics=metrics, extra=extra, **common)
