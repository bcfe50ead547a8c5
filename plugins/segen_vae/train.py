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
"""

from __future__ import annotations

import json
import math
import pathlib
import shlex
import time

import numpy as np

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
    shift=1,
    prior_components=None,  # 10 for the VAE, 3 per class for the CVAE
    threads=1,
)


def _command(name: str | None, params: dict) -> str:
    args = ["segen", "train", "vae"]
    for key, value in params.items():
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
    sample_every: int = 10,
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
    ``<name>_progress/``.

    The progress grids decode fixed draws from N(0, I), the training prior (the mixture is fitted after
    the last epoch). `threads` is torch's intra-op thread count (1 by default: these networks are tiny,
    two threads only contend on a busy 2-core machine, and one makes runs repeat exactly: two runs with
    the same arguments gave byte-identical ONNX files). `importance_samples` is K of the
    importance-sampled log-likelihood estimate on held-out data (0 skips it), `elbo_samples` the number of
    z draws per image when the reported negative ELBO is averaged. With `judge` the exported generator is
    scored by :func:`segen.eval.evaluate_generator`. Returns the decoder's metadata (also in the JSON).
    """
    import torch
    from segen import data as datasets
    from segen.onnx import sha256_of
    from segen.training import generator as gen_training

    from .net import (
        VAE,
        DecoderImages,
        EncoderMoments,
        MixturePrior,
        elbo_terms,
        importance_log_likelihood,
        negative_elbo,
    )

    params = dict(  # noqa: C408
        conditional=bool(conditional),
        epochs=int(epochs),
        seed=int(seed),
        latent_size=int(latent_size),
        width=int(width),
        batch_size=int(batch_size),
        lr=float(lr),
        beta=float(beta),
        kl_warmup=int(kl_warmup),
        shift=int(shift),
        prior_components=int((3 if conditional else 10) if prior_components is None else prior_components),
        threads=int(threads),
    )
    for key in ("epochs", "latent_size", "width", "batch_size", "threads"):
        if params[key] < 1:
            raise ValueError(f"`{key}` must be >= 1; got {params[key]}")
    for key in ("kl_warmup", "shift", "prior_components"):
        if params[key] < 0:
            raise ValueError(f"`{key}` must be >= 0; got {params[key]}")
    if not (params["lr"] > 0 and params["beta"] > 0):
        raise ValueError(f"`lr` and `beta` must be > 0; got {lr}, {beta}")
    name = name or ("cvae-digits" if conditional else "vae-digits")
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    num_classes = 10 if conditional else None

    train_set, test_set = datasets.digits("train"), datasets.digits("test")
    xt = gen_training.to_tensor(train_set.images, (0.0, 1.0))
    yt = torch.from_numpy(train_set.labels)
    xv = gen_training.to_tensor(test_set.images, (0.0, 1.0))
    yv = torch.from_numpy(test_set.labels)
    cond = (lambda y: y) if conditional else (lambda y: None)

    torch.set_num_threads(params["threads"])
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = VAE(latent_size, width, num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = -(-len(xt) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch, eta_min=lr / 20)

    # fixed latents (numpy, as segen.models.Generator draws them) and held-out images for the progress grids
    z_fixed = torch.from_numpy(
        np.random.default_rng(0).standard_normal((100, latent_size)).astype(np.float32)
    )
    grid_labels = torch.arange(100) % 10
    recon_idx = _reconstruction_picks(test_set.labels)
    progress_dir = out / f"{name}_progress"
    ckpt = out / f"{name}.ckpt.pt"

    from tqdm.auto import tqdm

    hist = {"rec": [], "kl": [], "held_out_neg_elbo": []}
    t0 = time.perf_counter()
    step = 0
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        sums = np.zeros(2)
        bar = tqdm(
            range(0, len(xt), batch_size),
            desc=f"{name} epoch {epoch + 1}/{epochs}",
            disable=not progress,
            leave=False,
        )
        for s in bar:
            idx = perm[s : s + batch_size]
            warm = min(1.0, (step + 1) / (kl_warmup * steps_per_epoch)) if kl_warmup else 1.0
            rec, kl = elbo_terms(model, random_shift(xt[idx], shift, gen), cond(yt[idx]), generator=gen)
            loss = (rec + beta * warm * kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            sums += [rec.sum().item(), kl.sum().item()]
            n_seen = min(s + batch_size, len(xt))
            bar.set_postfix(rec=f"{sums[0] / n_seen:.1f}", kl=f"{sums[1] / n_seen:.2f}")
        rec_e, kl_e = sums / len(xt)
        held = negative_elbo(model, xv, cond(yv), samples=1, seed=epoch)[0].mean().item()
        hist["rec"].append(round(float(rec_e), 3))
        hist["kl"].append(round(float(kl_e), 3))
        hist["held_out_neg_elbo"].append(round(held, 3))
        if not math.isfinite(rec_e + kl_e):
            raise RuntimeError(
                f"{name}: the loss is not finite at epoch {epoch + 1} (rec {rec_e}, kl {kl_e})"
            )
        if progress:
            tqdm.write(
                f"{name} epoch {epoch + 1}/{epochs}: rec {rec_e:.2f} + KL {kl_e:.2f} = {rec_e + kl_e:.2f} nats "
                f"(train), held-out -ELBO {held:.2f} nats"
            )
        if sample_every and ((epoch + 1) % sample_every == 0 or epoch + 1 == epochs):
            progress_dir.mkdir(exist_ok=True)
            model.eval()
            with torch.no_grad():
                samples = DecoderImages(model.decoder)(z_fixed, cond(grid_labels))
                mean, _ = model.encoder(xv[recon_idx], cond(yv[recon_idx]))
                recon = DecoderImages(model.decoder)(mean, cond(yv[recon_idx]))
            gen_training.save_grid(
                _to_uint8(samples), progress_dir / f"epoch{epoch + 1:04d}_samples.png", columns=10
            )
            gen_training.save_grid(
                _pairs(test_set.images[recon_idx], _to_uint8(recon)),
                progress_dir / f"epoch{epoch + 1:04d}_reconstructions.png",
                columns=10,
            )
            gen_training.save_checkpoint(ckpt, epoch=epoch + 1, model=model, optimizer=opt)
    seconds = round(time.perf_counter() - t0, 1)
    gen_training.save_checkpoint(ckpt, epoch=epochs, model=model, optimizer=opt)
    model.eval()

    # ---- export: the decoder (the generator) and the encoder --------------------------------------------
    dec_path, enc_path = out / f"{name}.onnx", out / f"{name}-encoder.onnx"
    decoder = DecoderImages(model.decoder).eval()
    props = {"task": "generation", "latent_size": latent_size, "output_range": [0.0, 1.0]}
    gen_training.export_generator(
        decoder, dec_path, latent_size=latent_size, num_classes=num_classes, props=props
    )
    dec_parity = gen_training.generator_parity(
        decoder, dec_path, latent_size=latent_size, num_classes=num_classes
    )
    encoder = EncoderMoments(model.encoder).eval()
    export_encoder(
        encoder,
        enc_path,
        num_classes=num_classes,
        props={"task": "generation", "role": "encoder", "latent_size": latent_size},
    )
    enc_parity = encoder_parity(encoder, enc_path, test_set.images, test_set.labels if conditional else None)
    worst = max(dec_parity, enc_parity)
    if worst > 1e-4:
        raise RuntimeError(f"ONNX export of {name}: torch and ONNX Runtime differ by {worst:.2e} > 1e-4")

    # ---- stage 2: the prior the generator samples from -------------------------------------------------
    k = params["prior_components"]
    prior = fit_prior(model, xt, cond(yt), components=k, seed=seed) if k else None
    fitted = MixturePrior(prior) if prior else None

    # ---- held-out likelihood (beta = 1) --------------------------------------------------------------------
    pixels = xv[0].numel()
    held_out = {
        "images": len(xv),
        "data": "segen.data.digits('test') at 16x16 (359 held-out images)",
        "prior": "fitted Gaussian mixture (the shipped generator's)" if prior else "standard normal",
    }
    for key, p in ((None, fitted), ("standard_normal_prior", None)) if prior else ((None, None),):
        neg, rec, kl = negative_elbo(model, xv, cond(yv), samples=elbo_samples, seed=seed, prior=p)
        neg_train = negative_elbo(model, xt, cond(yt), samples=elbo_samples, seed=seed, prior=p)[0]
        scores = {
            "neg_elbo_nats": round(neg.mean().item(), 3),
            "reconstruction_nats": round(rec.mean().item(), 3),
            "kl_nats": round(kl.mean().item(), 3),
            "neg_elbo_bits_per_pixel": round(neg.mean().item() / (pixels * math.log(2)), 4),
            "train_neg_elbo_nats": round(neg_train.mean().item(), 3),
        }
        if importance_samples:
            ll = importance_log_likelihood(
                model, xv, cond(yv), samples=importance_samples, seed=seed, prior=p
            )
            scores["neg_log_likelihood_nats"] = round(-ll.mean().item(), 3)
        if key is None:
            held_out.update(scores)
        else:
            held_out[key] = scores
    held_out["elbo_z_samples_per_image"] = elbo_samples
    held_out["importance_samples"] = importance_samples

    # ---- sidecars, pictures and the judge (through ONNX Runtime, as a user would run the model) ----------
    architecture = model.architecture
    training = {
        "command": _command(
            name if name != ("cvae-digits" if conditional else "vae-digits") else None, params
        ),
        "recipe": "segen_vae.train.train",
        "data": "segen.data.digits('train') at 16x16 (1438 images; the held-out split is never seen)",
        **params,
        "optimizer": f"Adam(lr={lr}), cosine decay to lr/20 over all steps; KL weight beta * min(1, "
        f"step / {kl_warmup} epochs)",
        "torch_version": torch.__version__,
        "seconds": seconds,
        "final_train_rec_nats": hist["rec"][-1],
        "final_train_kl_nats": hist["kl"][-1],
        "history": hist,
    }
    extra = {
        "likelihood": "discretised logistic over the 256 grey levels per pixel (location and scale decoded); "
        "images = clamp(location, 0, 1), the per-pixel mode",
        **({"prior": prior} if prior else {}),
        "encoder": {"file": enc_path.name, "sha256": sha256_of(enc_path)},
    }
    summary = (
        f"{'conditional ' if conditional else ''}VAE of 16x16 handwritten digits "
        f"({latent_size}-d latent, width {width}); decoder"
    )
    metrics = {
        "held_out": held_out,
        "onnx_parity_max_abs_diff": {"decoder": dec_parity, "encoder": enc_parity},
    }
    nparams = sum(p.numel() for p in model.parameters())

    def write_decoder_json(metrics):
        return gen_training.write_generator_json(
            dec_path,
            name=name,
            summary=summary,
            latent_size=latent_size,
            num_classes=num_classes,
            image_size=16,
            output_range=(0.0, 1.0),
            architecture=architecture,
            training=training,
            metrics=metrics,
            parameters=sum(p.numel() for p in model.decoder.parameters()),
            extra={**extra, "parameters_with_encoder": nparams},
        )

    write_decoder_json(metrics)
    write_encoder_json(
        enc_path,
        name=f"{name}-encoder",
        decoder=dec_path.name,
        latent_size=latent_size,
        num_classes=num_classes,
        architecture=architecture,
        training={
            "command": training["command"],
            "seed": seed,
            "epochs": epochs,
            "torch_version": torch.__version__,
        },
        metrics={"onnx_parity_max_abs_diff": enc_parity},
        parameters=sum(p.numel() for p in model.encoder.parameters()),
    )

    from .model import VaeGenerator

    vae = VaeGenerator(dec_path)
    samples = vae.generate(100, seed=0, labels=(np.arange(100) % 10) if conditional else None)
    gen_training.save_grid(samples, out / f"{name}_samples.png", columns=10)
    lab = test_set.labels if conditional else None
    recon = vae.reconstruct(test_set.images, labels=lab)
    gen_training.save_grid(
        _pairs(test_set.images[recon_idx], recon[recon_idx]), out / f"{name}_reconstructions.png", columns=10
    )
    diff = recon.astype(np.float64) - test_set.images
    metrics["held_out"]["reconstruction_mae_grey_levels"] = round(float(np.abs(diff).mean()), 3)
    metrics["held_out"]["reconstruction_rmse_grey_levels"] = round(float(np.sqrt((diff**2).mean())), 3)
    if judge:
        metrics["judge"] = _judge(vae)
        if prior:  # what the fitted prior buys: the same decoder sampled from N(0, I)
            plain = VaeGenerator(dec_path)
            plain.prior = None
            scores = _judge(plain)
            keep = ("frechet_distance", "frechet_ratio", "class_consistency", "memorised_fraction")
            metrics["judge_standard_normal_prior"] = {k: scores[k] for k in keep if k in scores}
    metrics["thresholds"] = _thresholds(metrics, conditional)
    meta = write_decoder_json(metrics)
    if progress:
        tqdm.write(f"{name}: {json.dumps(metrics['held_out'])}")
        for key in ("judge", "judge_standard_normal_prior"):
            if key in metrics:
                tqdm.write(f"{name}: {key} {json.dumps(metrics[key])}")
    return meta


def random_shift(x, shift: int, gen):
    """Translate each image of `x` (N, 1, H, W) by a random whole number of pixels in [-shift, shift] along
    each axis, filling with background (0)."""
    import torch
    import torch.nn.functional as F

    if not shift:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, :, None].expand(n, h, w)
    cols = (dx[:, None] + torch.arange(w))[:, None, :].expand(n, h, w)
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


def fit_prior(model, x, labels=None, *, components: int, seed: int, draws: int = 4) -> dict:
    """Fit the generator's prior: a Gaussian mixture with `components` full-covariance components (one
    mixture per class when `labels` are given) to `draws` posterior samples z ~ q(z | x) of every image,
    by EM (scikit-learn, k-means start seeded with `seed`). Returns the JSON-ready dict that
    :class:`segen_vae.model.VaeGenerator` samples from: ``weights`` (G, K), ``means`` (G, K, L) and the lower
    Cholesky factors ``cholesky`` (G, K, L, L) of the covariances, rounded to 7 significant digits."""
    import torch
    from sklearn.mixture import GaussianMixture

    from .net import reparameterise

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
    r = lambda a: np.vectorize(lambda v: float(f"{v:.7g}"))(np.asarray(a)).tolist()
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
    try:
        from segen.eval import evaluate_generator
    except ModuleNotFoundError as exc:  # a segen without the judge
        if exc.name != "segen.eval":
            raise
        return {"error": "segen.eval is not available"}

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
    """float (N, 1, H, W) in [0, 1] -> uint8 (N, H, W), as :class:`segen.onnx.OnnxGenerator` maps outputs."""
    x = np.clip(np.asarray(images, dtype=np.float32)[:, 0], 0, 1)
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


def export_encoder(encoder, path, *, num_classes: int | None, props: dict | None = None) -> None:
    """Export ``encoder(images[, labels]) -> (mean, logvar)`` to ONNX with a dynamic batch; run onnx.checker
    and store `props` as ``segen.<key>`` metadata properties (JSON values)."""
    import warnings

    import torch
    from segen.training import finish_onnx

    encoder.eval()
    images = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    dummy = (images,) if not num_classes else (images, torch.tensor([0, 1]))
    names = ["images", "labels"][: len(dummy)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            encoder,
            dummy,
            str(path),
            input_names=names,
            output_names=["mean", "logvar"],
            dynamic_axes={**{k: {0: "N"} for k in names}, "mean": {0: "N"}, "logvar": {0: "N"}},
            opset_version=17,
            dynamo=False,
        )
    finish_onnx(path, props)


def encoder_parity(
    encoder, path, images: np.ndarray, labels=None, *, batches=(1, 7, 64), seed: int = 0
) -> float:
    """Largest absolute difference of (mean, logvar) between torch and ONNX Runtime on uint8 `images`
    (batches of the given sizes drawn from them) and on uniform-noise images."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    encoder.eval()
    for n in batches:
        pick = rng.choice(len(images), n, replace=False)
        for x in (
            images[pick].astype(np.float32)[:, None] / 255,
            rng.random((n, 1, 16, 16), dtype=np.float32),
        ):
            feeds = {"images": np.ascontiguousarray(x)}
            args = [torch.from_numpy(feeds["images"])]
            if labels is not None:
                feeds["labels"] = np.asarray(labels)[pick].astype(np.int64)
                args.append(torch.from_numpy(feeds["labels"]))
            with torch.no_grad():
                ref = [t.numpy() for t in encoder(*args)]
            got = sess.run(["mean", "logvar"], feeds)
            worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(ref, got)))
    return worst


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
) -> dict:
    """Write the encoder's sidecar ``<name>.json`` beside `onnx_path` (task "generation", role "encoder")."""
    from segen import __version__
    from segen.onnx import sha256_of

    onnx_path = pathlib.Path(onnx_path)
    inputs = {"images": {"shape": ["N", 1, 16, 16], "dtype": "float32"}}
    if num_classes:
        inputs["labels"] = {"shape": ["N"], "dtype": "int64"}
    meta = {
        "name": name,
        "task": "generation",
        "role": "encoder",
        "decoder": decoder,
        "summary": f"encoder of {decoder}: 16x16 grey image in [0, 1] -> mean and log-variance of q(z | x)",
        "sha256": sha256_of(onnx_path),
        "inputs": inputs,
        "input_range": [0.0, 1.0],
        "outputs": {
            "mean": {"shape": ["N", latent_size], "dtype": "float32"},
            "logvar": {"shape": ["N", latent_size], "dtype": "float32"},
        },
        "latent_size": latent_size,
        **(
            {"num_classes": num_classes, "classes": [str(k) for k in range(num_classes)]}
            if num_classes
            else {}
        ),
        "channels": 1,
        "input_size": [16, 16],
        "architecture": architecture,
        "training": training,
        "metrics": metrics,
        "parameters": int(parameters),
        "onnx_bytes": onnx_path.stat().st_size,
        "segen_version": __version__,
    }
    onnx_path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta
