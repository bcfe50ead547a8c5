"""``segen train vae`` / ``segen train cvae``: the VAE recipe (imports torch; needs the ``train`` extra).

Data: :func:`segen.data.digits` at 16 x 16, the 1,438 training images only (randomly shifted by up to
`shift` pixels each step); the 359 held-out images are used for the reported numbers (negative ELBO,
reconstruction error, the judge's Fréchet distance), never for training or for choosing anything.

Two stages:

1. the VAE (standard-normal prior) minimises the negative ELBO with Adam (``beta`` weights the KL term
   during training; everything reported is with beta = 1), a linear KL warm-up over the first `kl_warmup`
   epochs and a cosine decay of the learning rate;
2. the prior the shipped generator samples from is then fitted to the trained encoder's aggregate
   posterior: a Gaussian mixture (`prior_components` full-covariance components; one mixture per class for
   the conditional model) fitted by EM (scikit-learn) to posterior draws of the training images. The
   posterior of each digit is narrow and the digits cluster, so much of the standard normal's mass falls
   between clusters, where the decoder blends digits; the mixture puts the samples where digits are.
   ``prior_components=0`` keeps the standard normal.

A user's folder instead of the digits (``data=DIR``, ``segen train vae|cvae --data DIR --size S``):
:class:`segen.data.ImageFolder` (sub-folders = classes, each image's short side resized to `size` then
the centre or a random `size` x `size` window, grey or RGB) read from disk batch by batch
(:class:`segen.training.FolderImages`). A seeded, per-class `val_fraction` of the files (at most
:data:`MAX_HELD_OUT`) is held out for the reported likelihood and the reconstructions and never trained
on; the prior is fitted to at most :data:`MAX_PRIOR_IMAGES` training images (a seeded draw). The digit
judge does not apply to such data and is skipped; shifting is off by default (`shift` 0), since a
shifted-in black border is not part of a photograph. The sidecar records the folder's classes and its
fingerprint (file count and a hash of the file list).
"""

from __future__ import annotations

import json
import math
import pathlib
import shlex
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from segen.data import ImageFolder, digits
from segen.errors import DataError
from segen.eval import evaluate_generator
from segen.onnx import sha256_of, write_sidecar
from segen.training import (
    Checkpoint,
    Every,
    FiniteLoss,
    FolderImages,
    export_generator,
    fit,
    generator_parity,
    onnx_parity,
    resolve_device,
    save_grid,
    shuffled_batches,
    to_onnx,
    to_tensor,
    torch_threads,
    write_generator_json,
)

from .model import VaeGenerator
from .net import (
    IMAGE_SIZE,
    VAE,
    DecoderImages,
    EncoderMoments,
    MixturePrior,
    elbo_terms,
    importance_log_likelihood,
    negative_elbo,
    reparameterise,
)

#: The recipe's defaults; the shipped models record the exact command they were trained with.
DEFAULTS = dict(  # noqa: C408 - keyword names, recorded in the metadata
    conditional=False,
    epochs=100,
    seed=0,
    latent_size=16,
    width=32,
    batch_size=64,
    lr=2e-3,
    beta=1.0,
    kl_warmup=10,
    shift=None,  # 1 for the digits, 0 for a folder
    prior_components=None,  # 10 for the VAE, 3 per class for the CVAE
    threads=1,
)


#: A folder run's held-out images: at most this many (the reported numbers and reconstructions).
MAX_HELD_OUT = 500
#: A folder run's prior is fitted to at most this many training images (kept in memory).
MAX_PRIOR_IMAGES = 2000
#: A folder run's default `size`.
IMAGE_SIZES_DEFAULT = 64


def _command(name: str | None, params: dict, data: dict | None = None) -> str:
    args = ["segen", "train", "vae"]
    for key, value in {**params, **(data or {})}.items():
        if value is None:
            continue
        args += [f"--{key.replace('_', '-')}", json.dumps(value) if isinstance(value, bool) else str(value)]
    if name:
        args += ["--name", name]
    return shlex.join(args) + " --out DIR"


def train(
    output,
    *,
    conditional: bool = DEFAULTS["conditional"],
    epochs: int = DEFAULTS["epochs"],
    seed: int = DEFAULTS["seed"],
    latent_size: int = DEFAULTS["latent_size"],
    width: int = DEFAULTS["width"],
    batch_size: int = DEFAULTS["batch_size"],
    lr: float = DEFAULTS["lr"],
    beta: float = DEFAULTS["beta"],
    kl_warmup: int = DEFAULTS["kl_warmup"],
    shift: int = DEFAULTS["shift"],
    prior_components: int | None = DEFAULTS["prior_components"],
    threads: int = DEFAULTS["threads"],
    name: str | None = None,
    data=None,
    size: int | None = None,
    channels: int | None = None,
    crop: str = "center",
    val_fraction: float = 0.1,
    skip_bad: bool = False,
    device: str = "auto",
    sample_every: int = 10,
    resume: bool = False,
    importance_samples: int = 500,
    elbo_samples: int = 16,
    judge: bool = True,
    progress: bool = True,
) -> dict:
    """Train a VAE (a CVAE with `conditional`) on the 16 x 16 digits and write into `output`:
    ``<name>.onnx`` + ``.json`` (the decoder: the generator), ``<name>-encoder.onnx`` + ``.json``,
    ``<name>_samples.png`` (10 x 10 samples; a CVAE's columns are the classes 0-9),
    ``<name>_reconstructions.png`` (held-out originals and their reconstructions, alternate rows),
    ``<name>.ckpt.pt`` and, every `sample_every` epochs, a sample grid and a reconstruction grid in
    ``<name>_progress/``. `resume` continues an interrupted run from that checkpoint (written every
    `sample_every` epochs, with the optimiser, schedule and random states: the resumed run ends with the
    weights of an uninterrupted one); other settings than the checkpoint's raise :class:`ValueError`.

    The progress grids decode fixed draws from N(0, I), the training prior (the mixture is fitted after
    the last epoch). `threads` is torch's intra-op thread count (1 by default: these networks are tiny,
    two threads only contend on a busy 2-core machine, and one makes runs repeat exactly: two runs with
    the same arguments gave byte-identical ONNX files). `importance_samples` is K of the
    importance-sampled log-likelihood estimate on held-out data (0 skips it), `elbo_samples` the number of
    z draws per image when the reported negative ELBO is averaged. With `judge` the exported generator is
    scored by :func:`segen.eval.evaluate_generator`. Returns the decoder's metadata (also in the JSON).

    `data` trains on a folder of images instead (see the module docstring): `size` (32, 64 or 128;
    default 64), `channels` (1, 3 or None: the first image's), `crop` ("center" or "random"),
    `val_fraction` (held out per class), `skip_bad` (skip unreadable files with a warning instead of
    stopping). `device` is "auto" (CUDA when torch sees a GPU), "cpu" or "cuda".

    Raises :class:`ValueError` for an argument out of range, :class:`segen.errors.DataError` for bad data
    (an empty or missing folder, an unreadable file without `skip_bad`, a CVAE on fewer than two classes).
    """
    args = dict(locals())
    params = _params(args)
    dev = resolve_device(device)
    if data is None:
        if size not in (None, IMAGE_SIZE) or channels not in (None, 1):
            raise ValueError(
                "`size` and `channels` are for a folder of images (`data`); the digits are 16, 1"
            )
        name = name or ("cvae-digits" if conditional else "vae-digits")
        dataset = _data(params["conditional"])
    else:
        dataset = _folder_data(args, params)
        name = name or f"{'cvae' if conditional else 'vae'}-{dataset.folder_name}"
    dataset.device = dev
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    run = SimpleNamespace(
        p=params,
        name=name,
        out=out,
        data=dataset,
        progress=progress,
        judge=judge and data is None,
        device=dev,
        resume=bool(resume),
    )
    with torch_threads(params["threads"]):
        model, loop = _fit_vae(run, sample_every)
        model.cpu().eval()  # the rest (prior, likelihood, export) runs on the CPU
        exported = _export(run, model)
        k = params["prior_components"]
        prior = (
            fit_prior(model, run.data.xt, run.data.cond(run.data.yt), components=k, seed=seed) if k else None
        )
        held_out = _held_out(
            run, model, prior, importance_samples=importance_samples, elbo_samples=elbo_samples
        )
        return _write(run, model, loop, exported, prior, held_out)


def _params(args: dict) -> dict:
    """The recorded parameters (``DEFAULTS``' keys, normalised); :class:`ValueError` for one out of range."""
    p = {key: type(value)(args[key]) if value is not None else args[key] for key, value in DEFAULTS.items()}
    p["conditional"] = bool(args["conditional"])
    k = args["prior_components"]
    p["prior_components"] = int((3 if p["conditional"] else 10) if k is None else k)
    p["shift"] = int((1 if args.get("data") is None else 0) if args["shift"] is None else args["shift"])
    for key in ("epochs", "latent_size", "width", "batch_size", "threads"):
        if p[key] < 1:
            raise ValueError(f"`{key}` must be >= 1; got {p[key]}")
    for key in ("kl_warmup", "shift", "prior_components"):
        if p[key] < 0:
            raise ValueError(f"`{key}` must be >= 0; got {p[key]}")
    if not (p["lr"] > 0 and p["beta"] > 0):
        raise ValueError(f"`lr` and `beta` must be > 0; got {args['lr']}, {args['beta']}")
    return p


def _data(conditional: bool) -> SimpleNamespace:
    """The digits' train and held-out splits as tensors in [0, 1]; ``cond(labels)`` is what the networks
    get as labels (None for the unconditional VAE)."""
    train_set, test_set = digits("train"), digits("test")
    return SimpleNamespace(
        train_set=train_set,
        test_set=test_set,
        xt=to_tensor(train_set.images, (0.0, 1.0)),
        yt=torch.from_numpy(train_set.labels),
        xv=to_tensor(test_set.images, (0.0, 1.0)),
        yv=torch.from_numpy(test_set.labels),
        cond=(lambda y: y) if conditional else (lambda y: None),
        recon_idx=_reconstruction_picks(test_set.labels),
        batch=None,
        n_train=len(train_set.images),
        num_classes=10,
        classes=None,
        image_size=IMAGE_SIZE,
        channels=1,
        record=None,
    )


def _folder_data(args: dict, params: dict) -> SimpleNamespace:
    """A folder of images: a seeded per-class held-out split (in memory), the training files streamed by
    batch, and at most :data:`MAX_PRIOR_IMAGES` training images in memory for the prior."""
    conditional, seed = params["conditional"], params["seed"]
    folder = ImageFolder(
        args["data"],
        size=IMAGE_SIZES_DEFAULT if args["size"] is None else args["size"],
        channels=args["channels"],
        crop=args["crop"],
        conditional=conditional,
        skip_bad=args["skip_bad"],
    )
    frac = args["val_fraction"]
    if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 < frac < 1:
        raise ValueError(f"`val_fraction` must be a number in (0, 1); got {frac!r}")
    rng = np.random.default_rng(seed)
    labels = folder.labels
    train_idx, held_idx = [], []
    for k in range(folder.num_classes):
        members = rng.permutation(np.flatnonzero(labels == k))
        n_held = min(len(members) - 1, max(1, round(frac * len(members))))
        if n_held < 1:
            raise DataError(
                f"{folder.root / folder.classes[k]}: {len(members)} image(s); a class needs at least two (one "
                "is held out)"
            )
        held_idx += members[:n_held].tolist()
        train_idx += members[n_held:].tolist()
    held_idx = sorted(held_idx)
    if len(held_idx) > MAX_HELD_OUT:
        held_idx = sorted(rng.choice(held_idx, MAX_HELD_OUT, replace=False).tolist())
    train_idx = np.array(sorted(train_idx))
    held_images, held_labels = folder.batch(held_idx)
    prior_pick = np.sort(rng.permutation(train_idx)[:MAX_PRIOR_IMAGES])
    prior_images, prior_labels = folder.batch(prior_pick.tolist())
    if len(held_images) == 0 or len(prior_images) == 0:
        raise DataError(f"{folder.root}: no readable image in the held-out or the training split")
    stream = FolderImages(folder, seed=seed, output_range=(0.0, 1.0))

    def batch(idx, step: int):
        x, y = stream.batch(train_idx[np.asarray(idx)], step)
        return x, y

    record = stream.record(pathlib.Path(args["data"]).name)
    record.update(
        {
            "split": f"seeded (seed {seed}) per-class {frac} of the files held out (at most {MAX_HELD_OUT})",
            "train_images": len(train_idx),
            "held_out_images": len(held_images),
            "prior_images": len(prior_images),
        }
    )
    return SimpleNamespace(
        test_set=SimpleNamespace(images=held_images, labels=held_labels),
        xt=to_tensor(prior_images, (0.0, 1.0)),
        yt=torch.from_numpy(prior_labels),
        xv=to_tensor(held_images, (0.0, 1.0)),
        yv=torch.from_numpy(held_labels),
        cond=(lambda y: y) if conditional else (lambda y: None),
        recon_idx=np.arange(min(len(held_images), 50)),
        batch=batch,
        n_train=len(train_idx),
        num_classes=folder.num_classes if conditional else None,
        classes=list(folder.classes) if conditional else None,
        image_size=folder.size,
        channels=folder.channels,
        record=record,
        folder_name=pathlib.Path(args["data"]).name or "images",
        data_params={
            "data": str(args["data"]),
            "size": folder.size,
            "channels": folder.channels,
            "crop": folder.crop,
            "val_fraction": frac,
            **({"skip_bad": True} if args["skip_bad"] else {}),
        },
    )


def _fit_vae(run, sample_every: int):
    """Stage 1: the VAE trained on the negative ELBO (KL warm-up, cosine learning rate); progress grids and
    a checkpoint every `sample_every` epochs."""
    p, d = run.p, run.data
    torch.manual_seed(p["seed"])
    gen = torch.Generator().manual_seed(p["seed"])
    k = d.num_classes if p["conditional"] else None
    model = VAE(p["latent_size"], p["width"], k, image_size=d.image_size, channels=d.channels)
    model.to(run.device)
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    steps_per_epoch = -(-d.n_train // p["batch_size"])
    total = p["epochs"] * steps_per_epoch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=p["lr"] / 20)
    warmup = p["kl_warmup"] * steps_per_epoch

    def step(idx, at):
        warm = min(1.0, (at.step + 1) / warmup) if warmup else 1.0
        x, y = (d.xt[idx], d.yt[idx]) if d.batch is None else d.batch(idx, at.step)
        x = random_shift(x, p["shift"], gen).to(run.device)
        rec, kl = elbo_terms(model, x, d.cond(y.to(run.device)), generator=gen)
        loss = (rec + p["beta"] * warm * kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"rec": (rec.sum().item(), len(idx)), "kl": (kl.sum().item(), len(idx))}

    state = {"model": model, "optimizer": opt, "scheduler": sched, "generator": gen}
    loop = fit(
        step,
        lambda epoch: shuffled_batches(d.n_train, p["batch_size"], gen),
        epochs=p["epochs"],
        evaluate=lambda epoch: {
            "held_out_neg_elbo": negative_elbo(model, *_on(run, d.xv, d.yv), samples=1, seed=epoch)[0]
            .mean()
            .item()
        },
        callbacks=[
            FiniteLoss("rec", "kl"),
            Every(sample_every, lambda epoch: _progress_grids(run, model, epoch)),
            Checkpoint(
                run.out / f"{run.name}.ckpt.pt",
                state,
                settings={**p, "data": getattr(d, "data_params", None), "n_train": d.n_train},
                resume=run.resume,
                every=sample_every or p["epochs"],
            ),
        ],
        modules=[model],
        name=run.name,
        progress=run.progress,
    )
    return model, loop


def _on(run, x, y):
    """`x` and `y` on the training device, `y` as the networks take it (None for the unconditional VAE)."""
    return x.to(run.device), run.data.cond(y.to(run.device))


@torch.no_grad()
def _progress_grids(run, model, epoch: int) -> None:
    """Samples of fixed draws from N(0, I) (numpy, as segen.models.Generator draws them) and held-out
    reconstructions, in ``<name>_progress/``."""
    d, folder = run.data, run.out / f"{run.name}_progress"
    folder.mkdir(exist_ok=True)
    model.eval()
    z = np.random.default_rng(0).standard_normal((100, run.p["latent_size"])).astype(np.float32)
    z, grid_labels = _on(run, torch.from_numpy(z), _grid_labels(d))
    samples = DecoderImages(model.decoder)(z, grid_labels).cpu()
    x, y = _on(run, d.xv[d.recon_idx], d.yv[d.recon_idx])
    mean, _ = model.encoder(x, y)
    recon = DecoderImages(model.decoder)(mean, y).cpu()
    scale = _grid_scale(d)
    save_grid(_to_uint8(samples), folder / f"epoch{epoch + 1:04d}_samples.png", columns=10, scale=scale)
    pairs = _pairs(d.test_set.images[d.recon_idx], _to_uint8(recon))
    save_grid(pairs, folder / f"epoch{epoch + 1:04d}_reconstructions.png", columns=10, scale=scale)


def _grid_labels(d) -> torch.Tensor:
    """The labels of a 10 x 10 sample grid: the classes in turn along each row (0-9 for the digits)."""
    return torch.arange(100) % (d.num_classes or 10)


def _grid_scale(d) -> int:
    """Pixels per image pixel in the PNG grids: 2 up to 32 x 32 images, 1 above."""
    return 2 if d.image_size <= 32 else 1


def _export(run, model) -> SimpleNamespace:
    """The decoder (the generator) and the encoder to ONNX, each checked against torch."""
    p, d = run.p, run.data
    num_classes = d.num_classes if p["conditional"] else None
    dec_path, enc_path = run.out / f"{run.name}.onnx", run.out / f"{run.name}-encoder.onnx"
    decoder = DecoderImages(model.decoder).eval()
    props = {"task": "generation", "latent_size": p["latent_size"], "output_range": [0.0, 1.0]}
    export_generator(decoder, dec_path, latent_size=p["latent_size"], num_classes=num_classes, props=props)
    dec_parity = generator_parity(decoder, dec_path, latent_size=p["latent_size"], num_classes=num_classes)
    encoder = EncoderMoments(model.encoder).eval()
    props = {"task": "generation", "role": "encoder", "latent_size": p["latent_size"]}
    export_encoder(encoder, enc_path, num_classes=num_classes, props=props, shape=_shape(d))
    labels = d.test_set.labels if p["conditional"] else None
    enc_parity = encoder_parity(encoder, enc_path, d.test_set.images, labels)
    worst = max(dec_parity, enc_parity)
    if worst > 1e-4:
        raise RuntimeError(f"ONNX export of {run.name}: torch and ONNX Runtime differ by {worst:.2e} > 1e-4")
    return SimpleNamespace(
        dec_path=dec_path,
        enc_path=enc_path,
        dec_parity=dec_parity,
        enc_parity=enc_parity,
        num_classes=num_classes,
    )


def _shape(d) -> tuple[int, int]:
    """(channels, side) of the images."""
    return d.channels, d.image_size


def _held_out(run, model, prior, *, importance_samples: int, elbo_samples: int) -> dict:
    """Held-out likelihood (beta = 1) with the fitted prior and, if there is one, with N(0, I)."""
    d, seed = run.data, run.p["seed"]
    pixels = d.xv[0].numel()
    held_out = {
        "images": len(d.xv),
        "data": "segen.data.digits('test') at 16x16 (359 held-out images)"
        if d.record is None
        else f"{len(d.xv)} held-out images of the folder ({d.record['split']})",
        "prior": "fitted Gaussian mixture (the shipped generator's)" if prior else "standard normal",
    }
    fitted = MixturePrior(prior) if prior else None
    for key, p in ((None, fitted), ("standard_normal_prior", None)) if prior else ((None, None),):
        neg, rec, kl = negative_elbo(model, d.xv, d.cond(d.yv), samples=elbo_samples, seed=seed, prior=p)
        neg_train = negative_elbo(model, d.xt, d.cond(d.yt), samples=elbo_samples, seed=seed, prior=p)[0]
        scores = {
            "neg_elbo_nats": round(neg.mean().item(), 3),
            "reconstruction_nats": round(rec.mean().item(), 3),
            "kl_nats": round(kl.mean().item(), 3),
            "neg_elbo_bits_per_pixel": round(neg.mean().item() / (pixels * math.log(2)), 4),
            "train_neg_elbo_nats": round(neg_train.mean().item(), 3),
        }
        if importance_samples:
            ll = importance_log_likelihood(
                model, d.xv, d.cond(d.yv), samples=importance_samples, seed=seed, prior=p
            )
            scores["neg_log_likelihood_nats"] = round(-ll.mean().item(), 3)
        if key is None:
            held_out.update(scores)
        else:
            held_out[key] = scores
    held_out["elbo_z_samples_per_image"] = elbo_samples
    held_out["importance_samples"] = importance_samples
    return held_out


def _training(run, loop) -> dict:
    """The decoder sidecar's ``training``: the command, the parameters, the optimiser, the history."""
    p, name = run.p, run.name
    hist = {k: [round(float(v), 3) for v in loop.history[k]] for k in ("rec", "kl", "held_out_neg_elbo")}
    return {
        "command": _command(
            name if name != ("cvae-digits" if p["conditional"] else "vae-digits") else None,
            p,
            getattr(run.data, "data_params", None),
        ),
        "recipe": "segen_vae.train.train",
        "data": "segen.data.digits('train') at 16x16 (1438 images; the held-out split is never seen)"
        if run.data.record is None
        else run.data.record,
        "device": str(run.device),
        **p,
        "optimizer": f"Adam(lr={p['lr']}), cosine decay to lr/20 over all steps; KL weight beta * min(1, "
        f"step / {p['kl_warmup']} epochs)",
        "torch_version": torch.__version__,
        "seconds": round(loop.history.seconds, 1),
        **({"resumed_from_epoch": loop.history.resumed_after} if loop.history.resumed_after else {}),
        "final_train_rec_nats": hist["rec"][-1],
        "final_train_kl_nats": hist["kl"][-1],
        "history": hist,
    }


def _write(run, model, loop, exported, prior, held_out) -> dict:
    """The sidecars, the sample and reconstruction grids, the judge (through ONNX Runtime, as a user
    would run the model); returns the decoder's metadata."""
    p, e = run.p, exported
    training = _training(run, loop)
    extra = {
        "loader": "segen-vae",  # by path or from a user model folder: VaeGenerator (prior, encoder)
        "likelihood": "discretised logistic over the 256 grey levels per pixel (location and scale decoded); "
        "images = clamp(location, 0, 1), the per-pixel mode",
        **({"prior": prior} if prior else {}),
        "encoder": {"file": e.enc_path.name, "sha256": sha256_of(e.enc_path)},
        "parameters_with_encoder": sum(q.numel() for q in model.parameters()),
    }
    conditional = "conditional " if p["conditional"] else ""
    d = run.data
    what = (
        "16x16 handwritten digits"
        if d.record is None
        else f"{d.image_size}x{d.image_size} {'grey' if d.channels == 1 else 'RGB'} images of the folder "
        f"{d.record['folder']!r}"
    )
    decoder_json = {
        "name": run.name,
        "summary": f"{conditional}VAE of {what} ({p['latent_size']}-d latent, width {p['width']}); decoder",
        "latent_size": p["latent_size"],
        "num_classes": e.num_classes,
        "classes": d.classes,
        "channels": d.channels,
        "image_size": d.image_size,
        "output_range": (0.0, 1.0),
        "architecture": model.architecture,
        "training": training,
        "parameters": sum(q.numel() for q in model.decoder.parameters()),
        "extra": extra,
    }
    metrics = {
        "held_out": held_out,
        "onnx_parity_max_abs_diff": {"decoder": e.dec_parity, "encoder": e.enc_parity},
    }
    write_generator_json(e.dec_path, metrics=metrics, **decoder_json)  # VaeGenerator reads it
    encoder_training = {"command": training["command"], "seed": p["seed"], "epochs": p["epochs"]}
    write_encoder_json(
        e.enc_path,
        name=f"{run.name}-encoder",
        decoder=e.dec_path.name,
        latent_size=p["latent_size"],
        num_classes=e.num_classes,
        architecture=model.architecture,
        training={**encoder_training, "torch_version": torch.__version__},
        shape=_shape(d),
        classes=d.classes,
        metrics={"onnx_parity_max_abs_diff": e.enc_parity},
        parameters=sum(q.numel() for q in model.encoder.parameters()),
    )
    _samples_and_judge(run, e.dec_path, metrics, prior)
    meta = write_generator_json(e.dec_path, metrics=metrics, **decoder_json)
    loop.write(f"{run.name}: {json.dumps(metrics['held_out'])}")
    for key in ("judge", "judge_standard_normal_prior"):
        if key in metrics:
            loop.write(f"{run.name}: {key} {json.dumps(metrics[key])}")
    return meta


def _samples_and_judge(run, dec_path, metrics: dict, prior) -> None:
    """``<name>_samples.png``, ``<name>_reconstructions.png``, the reconstruction error, the judge's scores
    and the quality thresholds, from the exported model (into `metrics`)."""
    d, conditional = run.data, run.p["conditional"]
    vae = VaeGenerator(dec_path)
    samples = vae.generate(100, seed=0, labels=_grid_labels(d).numpy() if conditional else None)
    scale = _grid_scale(d)
    save_grid(samples, run.out / f"{run.name}_samples.png", columns=10, scale=scale)
    recon = vae.reconstruct(d.test_set.images, labels=d.test_set.labels if conditional else None)
    pairs = _pairs(d.test_set.images[d.recon_idx], recon[d.recon_idx])
    save_grid(pairs, run.out / f"{run.name}_reconstructions.png", columns=10, scale=scale)
    diff = recon.astype(np.float64) - d.test_set.images
    metrics["held_out"]["reconstruction_mae_grey_levels"] = round(float(np.abs(diff).mean()), 3)
    metrics["held_out"]["reconstruction_rmse_grey_levels"] = round(float(np.sqrt((diff**2).mean())), 3)
    if not run.judge:  # the digit judge scores digits only
        return
    if run.judge:
        metrics["judge"] = _judge(vae)
        if prior:  # what the fitted prior buys: the same decoder sampled from N(0, I)
            plain = VaeGenerator(dec_path)
            plain.prior = None
            scores = _judge(plain)
            keep = ("frechet_distance", "frechet_ratio", "class_consistency", "memorised_fraction")
            metrics["judge_standard_normal_prior"] = {k: scores[k] for k in keep if k in scores}
    metrics["thresholds"] = _thresholds(metrics, conditional)


def random_shift(x, shift: int, gen):
    """Translate each image of `x` (N, C, H, W) by a random whole number of pixels in [-shift, shift] along
    each axis, filling with background (0)."""
    if not shift:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, :, None].expand(n, h, w)
    cols = (dx[:, None] + torch.arange(w))[:, None, :].expand(n, h, w)
    return padded[torch.arange(n)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


def fit_prior(model, x, labels=None, *, components: int, seed: int, draws: int = 4) -> dict:
    """Fit the generator's prior: a Gaussian mixture with `components` full-covariance components (one
    mixture per class when `labels` are given) to `draws` posterior samples z ~ q(z | x) of every image,
    by EM (scikit-learn, k-means start seeded with `seed`). Returns the JSON-ready dict that
    :class:`segen_vae.model.VaeGenerator` samples from: ``weights`` (G, K), ``means`` (G, K, L) and the lower
    Cholesky factors ``cholesky`` (G, K, L, L) of the covariances, rounded to 7 significant digits."""
    from sklearn.mixture import GaussianMixture  # scikit-learn: the train extra, needed only here

    model.eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        mean, logvar = model.encoder(x, labels)
        z = torch.cat([reparameterise(mean, logvar, generator=gen) for _ in range(draws)]).double().numpy()
    groups = [np.ones(len(z), bool)]
    if labels is not None:
        lab = np.tile(labels.numpy(), draws)
        groups = [lab == k for k in range(int(lab.max()) + 1)]
    weights, means, chol = [], [], []
    for g in groups:
        gm = GaussianMixture(components, covariance_type="full", random_state=seed, reg_covar=1e-5).fit(z[g])
        weights.append(gm.weights_)
        means.append(gm.means_)
        chol.append(np.linalg.cholesky(gm.covariances_))

    def r(a):
        return np.vectorize(lambda v: float(f"{v:.7g}"))(np.asarray(a)).tolist()

    return {
        "type": "gaussian_mixture",
        "per_class": labels is not None,
        "components": components,
        "fitted_to": f"{draws} posterior draws of each training image (EM, full covariances)",
        "weights": r(weights),
        "means": r(means),
        "cholesky": r(chol),
    }


def _judge(vae) -> dict:
    scores = evaluate_generator(vae, n=1000, seed=0)
    return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in scores.items()}


def _thresholds(metrics: dict, conditional: bool) -> dict:
    """The quality bars the shipped-model tests hold the model to (issue 6's targets; reconstruction error
    with a 10% margin over the value measured here, so the test catches a different or broken model)."""
    out = {
        "frechet_ratio_max": 3.0,
        "memorised_fraction_max": 0.05,
        "reconstruction_mae_grey_levels_max": round(
            metrics["held_out"]["reconstruction_mae_grey_levels"] * 1.1, 2
        ),
    }
    if conditional:
        out["class_consistency_min"] = 0.9
    return out


def _to_uint8(images) -> np.ndarray:
    """float (N, C, H, W) in [0, 1] -> uint8 (N, H, W) (one channel) or (N, H, W, 3), as
    :class:`segen.onnx.OnnxGenerator` maps outputs."""
    x = np.clip(np.asarray(images, dtype=np.float32), 0, 1)
    x = x[:, 0] if x.shape[1] == 1 else x.transpose(0, 2, 3, 1)
    return (x * 255).round().astype(np.uint8)


def _reconstruction_picks(labels: np.ndarray, rows: int = 5) -> np.ndarray:
    """Indices of `rows` held-out images of each class, ordered so that each row of 10 runs 0..9."""
    per_class = [np.flatnonzero(labels == k)[:rows] for k in range(10)]
    return np.array([per_class[k][r] for r in range(rows) for k in range(10)])


def _pairs(originals: np.ndarray, recon: np.ndarray, columns: int = 10) -> np.ndarray:
    """Interleave rows of `columns` originals with the rows of their reconstructions."""
    rows = []
    for s in range(0, len(originals), columns):
        rows += [originals[s : s + columns], recon[s : s + columns]]
    return np.concatenate(rows)


def export_encoder(
    encoder, path, *, num_classes: int | None, props: dict | None = None, shape=(1, IMAGE_SIZE)
) -> None:
    """Export ``encoder(images[, labels]) -> (mean, logvar)`` to ONNX with a dynamic batch; run onnx.checker
    and store `props` as ``segen.<key>`` metadata properties (JSON values). `shape` is (channels, side)."""
    c, side = shape
    images = torch.rand(2, c, side, side, generator=torch.Generator().manual_seed(0))
    dummy = (images,) if not num_classes else (images, torch.tensor([0, 1]))
    to_onnx(
        encoder,
        dummy,
        path,
        inputs=["images", "labels"][: len(dummy)],
        outputs=["mean", "logvar"],
        props=props,
    )


def encoder_parity(
    encoder, path, images: np.ndarray, labels=None, *, batches=(1, 7, 64), seed: int = 0
) -> float:
    """Largest absolute difference of (mean, logvar) between torch and ONNX Runtime on uint8 `images`
    ``(N, H, W)`` or ``(N, H, W, 3)`` (batches of the given sizes drawn from them, with replacement when
    there are fewer) and on uniform-noise images."""
    rng = np.random.default_rng(seed)
    feeds = []
    for n in batches:
        pick = rng.choice(len(images), n, replace=n > len(images))
        x = images[pick].astype(np.float32) / 255
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        for x in (x, rng.random(x.shape, dtype=np.float32)):
            feed = {"images": np.ascontiguousarray(x)}
            if labels is not None:
                feed["labels"] = np.asarray(labels)[pick].astype(np.int64)
            feeds.append(feed)
    return onnx_parity(encoder, path, feeds)


def write_encoder_json(
    onnx_path,
    *,
    name: str,
    decoder: str,
    latent_size: int,
    num_classes: int | None,
    architecture: dict,
    training: dict,
    metrics: dict,
    parameters: int,
    shape=(1, IMAGE_SIZE),
    classes=None,
) -> dict:
    """Write the encoder's sidecar ``<name>.json`` beside `onnx_path` (task "generation", role "encoder");
    `shape` is the images' (channels, side), `classes` the class names (default "0", "1", ...)."""
    c, side = shape
    inputs = {"images": {"shape": ["N", c, side, side], "dtype": "float32"}}
    names = classes
    classes = {}
    if num_classes:
        inputs["labels"] = {"shape": ["N"], "dtype": "int64"}
        names = [str(k) for k in (names if names is not None else range(num_classes))]
        classes = {"num_classes": num_classes, "classes": names}
    moments = {"shape": ["N", latent_size], "dtype": "float32"}
    meta = {
        "name": name,
        "task": "generation",
        "role": "encoder",
        "decoder": decoder,
        "summary": f"encoder of {decoder}: {side}x{side} {'grey' if c == 1 else 'RGB'} image in [0, 1] -> "
        "mean and log-variance of q(z | x)",
        "inputs": inputs,
        "input_range": [0.0, 1.0],
        "outputs": {"mean": moments, "logvar": dict(moments)},
        "latent_size": latent_size,
        **classes,
        "channels": c,
        "input_size": [side, side],
        "architecture": architecture,
        "training": training,
        "metrics": metrics,
        "parameters": int(parameters),
        "onnx_bytes": pathlib.Path(onnx_path).stat().st_size,
    }
    return write_sidecar(onnx_path, meta)
