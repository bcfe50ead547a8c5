"""The VAE in PyTorch (imported by training, export and tests only; inference runs the exported ONNX files).

Images are 16 x 16 grey for the digits models (a model trained on a folder, ``--data DIR --size S``: S x S
with 1 or 3 channels, each channel its own per-pixel distribution), fed to the encoder as float32 in [0, 1] (uint8 / 255). The encoder maps an image
(and, for the conditional model, its label) to the mean and log-variance of a diagonal Gaussian posterior
q(z | x) over a `latent_size` vector; the decoder maps z (and the label) to the two parameters of a
per-pixel *discretised logistic* distribution over the 256 grey levels: a location ``loc`` (in [0, 1]
units, unconstrained) and a log-scale. The prior p(z) is a standard normal.

Likelihood
----------
The data are uint8 images, so p(x | z) is a probability *mass* over the 256 levels of each pixel: the mass
of level k is the logistic distribution's probability of the interval ``[(k - 0.5) / 255, (k + 0.5) / 255]``,
with the two end levels taking the tails (k = 0 everything below 0.5 / 255, k = 255 everything above
254.5 / 255). A mass is at most 1, so the negative ELBO is a true upper bound on ``-log P(x)`` in nats and
is never negative; a Bernoulli "likelihood" of grey values is not a distribution over these images and its
"nats" could not be compared with anything. The location and a per-pixel scale are both decoded, so the
model can be certain about the empty background and uncertain along stroke edges. The image that the
generator returns is ``clamp(loc, 0, 1)``: the most probable level of each pixel (the mode), not a noisy
draw from p(x | z).

The VAE is trained with the standard normal prior; the prior the shipped generator samples from is a
Gaussian mixture fitted afterwards to the encoder's aggregate posterior (``segen_vae.train.fit_prior``);
:class:`MixturePrior` evaluates it for the likelihood numbers.

:func:`build` rebuilds a network from the ``architecture`` dict stored in a model's JSON; :func:`load_onnx`
also loads the weights of the exported ONNX files.
"""

from __future__ import annotations

import json
import math
import pathlib

import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

#: Smallest log-scale of the pixel distribution (a scale of ~1/1100 of the intensity range, a quarter of a
#: grey level): keeps the likelihood finite and the gradients tame.
MIN_LOG_SCALE = -7.0
#: Number of grey levels of the data.
LEVELS = 256
#: Side of the digits models' images (the default).
IMAGE_SIZE = 16
#: The sides the networks are built for: the digits' 16, or ``--size`` of a folder run.
IMAGE_SIZES = (16, 32, 64, 128)


def _act() -> nn.Module:
    return nn.SiLU()


def _down_channels(width: int, image_size: int) -> list[int]:
    """Channels after each stride-2 step from `image_size` down to 4 x 4: ``width * 2 ** k`` at the k-th,
    capped at ``8 * width`` (16 x 16: ``[2 * width, 4 * width]``, the digits models)."""
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"`image_size` must be one of {IMAGE_SIZES}; got {image_size!r}")
    steps = IMAGE_SIZES.index(image_size) + 2
    return [width * min(2 ** (k + 1), 8) for k in range(steps)]


class Encoder(nn.Module):
    """q(z | x[, y]): ``(N, channels, S, S)`` float32 in [0, 1] [+ ``(N,)`` int64 labels] -> ``mean``,
    ``logvar``, each ``(N, latent_size)``.

    A 3x3 stem at S x S with `width` channels, stride-2 4x4 convolutions down to 4 x 4 (for S = 16: 8x8 with
    2 `width`, 4x4 with 4 `width`; each further doubling of S adds one, channels capped at 8 `width`),
    then a hidden layer of 2 `width` units on the flattened features (and, for a CVAE, a 4 `width` label
    embedding) and a linear head to 2 `latent_size` (mean, log-variance).
    """

    def __init__(
        self,
        latent_size: int = 16,
        width: int = 32,
        num_classes: int | None = None,
        *,
        image_size: int = IMAGE_SIZE,
        channels: int = 1,
    ):
        super().__init__()
        self.latent_size, self.width, self.num_classes = latent_size, width, num_classes
        chans = _down_channels(width, image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), _act()]
        for c_in, c_out in zip([width, *chans[:-1]], chans):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), _act()]
        self.features = nn.Sequential(*layers, nn.Flatten())
        extra = 0
        if num_classes:
            self.embed = nn.Embedding(num_classes, 4 * width)
            extra = 4 * width
        self.hidden = nn.Sequential(nn.Linear(chans[-1] * 16 + extra, 2 * width), _act())
        self.head = nn.Linear(2 * width, 2 * latent_size)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None):
        h = self.features(images * 2.0 - 1.0)
        if self.num_classes:
            h = torch.cat([h, self.embed(labels)], dim=1)
        mean, logvar = self.head(self.hidden(h)).chunk(2, dim=1)
        return mean, logvar


class Decoder(nn.Module):
    """p(x | z[, y]): ``(N, latent_size)`` float32 [+ ``(N,)`` int64 labels] -> ``loc``, ``log_scale``, each
    ``(N, channels, S, S)``: the per-pixel discretised logistic distribution (see the module docstring).

    The mirror of :class:`Encoder`: z (and, for a CVAE, a `latent_size` label embedding) through a hidden
    layer of 2 `width` units to the encoder's last channels x 4 x 4, stride-2 4x4 transposed convolutions
    up to S x S (8x8 and 16x16 for the digits), a 3x3 convolution and a 1x1 head with 2 `channels`
    channels (locations, log-scales).
    """

    def __init__(
        self,
        latent_size: int = 16,
        width: int = 32,
        num_classes: int | None = None,
        *,
        image_size: int = IMAGE_SIZE,
        channels: int = 1,
    ):
        super().__init__()
        self.latent_size, self.width, self.num_classes = latent_size, width, num_classes
        self.channels = channels
        chans = _down_channels(width, image_size)[::-1]  # 4 x 4 first
        self.top = chans[0]
        extra = 0
        if num_classes:
            self.embed = nn.Embedding(num_classes, latent_size)
            extra = latent_size
        self.fc = nn.Sequential(
            nn.Linear(latent_size + extra, 2 * width),
            _act(),
            nn.Linear(2 * width, self.top * 16),
            _act(),
        )
        layers: list[nn.Module] = []
        for c_in, c_out in zip(chans, [*chans[1:], width]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), _act()]
        layers += [nn.Conv2d(width, width, 3, padding=1), _act(), nn.Conv2d(width, 2 * channels, 1)]
        self.up = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None):
        if self.num_classes:
            z = torch.cat([z, self.embed(labels)], dim=1)
        h = self.fc(z).view(-1, self.top, 4, 4)
        out = self.up(h)
        c = self.channels
        loc = out[:, :c] + 0.5  # starts near mid-grey and a scale of e^-2 ~ 0.14 of the range
        log_scale = (out[:, c:] - 2.0).clamp(min=MIN_LOG_SCALE)
        return loc, log_scale


class VAE(nn.Module):
    """Encoder + decoder (optionally conditioned on a class label, a CVAE).

    ``forward(images, labels=None, *, generator=None)`` returns ``(loc, log_scale, mean, logvar)`` for one
    reparameterised sample ``z = mean + exp(logvar / 2) * eps``.
    """

    def __init__(
        self,
        latent_size: int = 16,
        width: int = 32,
        num_classes: int | None = None,
        *,
        image_size: int = IMAGE_SIZE,
        channels: int = 1,
    ):
        super().__init__()
        self.latent_size, self.width, self.num_classes = latent_size, width, num_classes or None
        self.image_size, self.channels = image_size, channels
        shape = {"image_size": image_size, "channels": channels}
        self.encoder = Encoder(latent_size, width, self.num_classes, **shape)
        self.decoder = Decoder(latent_size, width, self.num_classes, **shape)

    @property
    def architecture(self) -> dict:
        """What :func:`build` needs to make this network again (stored in the model JSON)."""
        return {
            "type": "vae" if not self.num_classes else "cvae",
            "latent_size": self.latent_size,
            "width": self.width,
            "num_classes": self.num_classes,
            "activation": "SiLU",
            "likelihood": "discretised_logistic_256",
            "image_size": self.image_size,
            **({"channels": self.channels} if self.channels != 1 else {}),
        }

    def forward(self, images, labels=None, *, generator: torch.Generator | None = None):
        mean, logvar = self.encoder(images, labels)
        z = reparameterise(mean, logvar, generator=generator)
        loc, log_scale = self.decoder(z, labels)
        return loc, log_scale, mean, logvar


def build(architecture: dict) -> VAE:
    """A fresh (untrained) :class:`VAE` from an ``architecture`` dict (a model JSON's ``architecture``)."""
    kind = architecture.get("type")
    if kind not in ("vae", "cvae"):
        raise ValueError(f"`architecture['type']` must be 'vae' or 'cvae'; got {kind!r}")
    return VAE(
        latent_size=int(architecture["latent_size"]),
        width=int(architecture["width"]),
        num_classes=architecture.get("num_classes") if kind == "cvae" else None,
        image_size=int(architecture.get("image_size", IMAGE_SIZE)),
        channels=int(architecture.get("channels", 1)),
    )


def load_onnx(path, encoder_path=None) -> VAE:
    """A shipped (or freshly trained) VAE back in torch: :func:`build` from the decoder JSON's
    ``architecture``, with the weights read from the decoder's ONNX file `path` and the encoder's
    (default ``<name>-encoder.onnx`` beside it). For benchmarks against torch eager and parity checks.

    Raises
    ------
    ValueError
        If the files' weights do not fit the architecture (missing, extra or mis-shaped tensors).
    """
    path = pathlib.Path(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    model = build(meta["architecture"])
    enc = (
        pathlib.Path(encoder_path)
        if encoder_path is not None
        else path.with_name(f"{path.stem}-encoder.onnx")
    )
    state = {}
    for f in (path, enc):
        for init in onnx.load(str(f)).graph.initializer:
            state[init.name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"the weights in {path.name} / {enc.name} do not fit the architecture: {exc}"
        ) from None
    return model.eval()


def reparameterise(mean, logvar, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """One sample of N(mean, exp(logvar)) as a differentiable function of (mean, logvar)."""
    eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
    return mean + torch.exp(0.5 * logvar) * eps


def pixel_log_prob(x: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log P(x | loc, scale) per pixel under the 256-level discretised logistic distribution.

    `x` holds the grey levels scaled to [0, 1] (uint8 / 255), exactly on the grid k / 255. The interior
    levels use ``log(sigmoid(a) - sigmoid(b)) = logsigmoid(a) + logsigmoid(-b) + log(1 - exp(b - a))``,
    which stays finite however narrow the distribution is.
    """
    half = 0.5 / (LEVELS - 1)
    inv = torch.exp(-log_scale)
    a = (x - loc + half) * inv  # upper edge of the level's interval
    b = (x - loc - half) * inv  # lower edge
    log_cdf_a = F.logsigmoid(a)
    log_sf_b = F.logsigmoid(-b)
    width = 2 * half * inv  # a - b > 0
    interior = log_cdf_a + log_sf_b + torch.log(-torch.expm1(-width))
    first = x < half  # level 0: everything below its upper edge
    last = x > 1 - half  # level 255: everything above its lower edge
    return torch.where(first, log_cdf_a, torch.where(last, log_sf_b, interior))


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per row, in nats (closed form)."""
    return 0.5 * torch.sum(mean.square() + logvar.exp() - 1.0 - logvar, dim=1)


def elbo_terms(model: VAE, x, labels=None, *, generator=None):
    """(reconstruction term -E_q log p(x|z), KL) per image in nats, with one reparameterised sample."""
    loc, log_scale, mean, logvar = model(x, labels, generator=generator)
    rec = -pixel_log_prob(x, loc, log_scale).flatten(1).sum(1)
    return rec, gaussian_kl(mean, logvar)


def standard_normal_log_prob(z: torch.Tensor, labels=None) -> torch.Tensor:
    """log N(z; 0, I) per row, in nats (the prior the VAE is trained with)."""
    return -0.5 * (z.square() + math.log(2 * math.pi)).sum(1)


class MixturePrior:
    """A Gaussian-mixture prior p(z) (or p(z | y), one mixture per class) given as a model JSON's ``prior``
    dict (see :func:`segen_vae.train.fit_prior`): ``weights`` (G, K), ``means`` (G, K, L) and the lower
    Cholesky factors ``cholesky`` (G, K, L, L) of the covariances; G = 1, or the number of classes when
    ``"per_class"`` is true. Used for the likelihood numbers of the shipped model (float64)."""

    def __init__(self, prior: dict):
        self.per_class = bool(prior.get("per_class"))
        self.log_w = torch.log(torch.tensor(prior["weights"], dtype=torch.float64))
        self.means = torch.tensor(prior["means"], dtype=torch.float64)
        self.chol = torch.tensor(prior["cholesky"], dtype=torch.float64)
        self.log_det = torch.log(torch.diagonal(self.chol, dim1=-2, dim2=-1)).sum(-1)  # (G, K): log|L|

    def __call__(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        """log p(z[ | y]) per row of `z` (N, L), in nats (float32)."""
        g = labels if self.per_class else torch.zeros(len(z), dtype=torch.long)
        d = z.double()[:, None, :] - self.means[g]  # (N, K, L)
        u = torch.linalg.solve_triangular(self.chol[g], d.unsqueeze(-1), upper=False).squeeze(-1)
        comp = -0.5 * (u.square().sum(-1) + z.shape[1] * math.log(2 * math.pi)) - self.log_det[g]
        return torch.logsumexp(comp + self.log_w[g], dim=1).float()


def _log_q(z, mean, logvar) -> torch.Tensor:
    return -0.5 * ((z - mean).square() * torch.exp(-logvar) + logvar + math.log(2 * math.pi)).sum(1)


@torch.no_grad()
def negative_elbo(
    model: VAE, x, labels=None, *, samples: int = 16, seed: int = 0, batch: int = 512, prior=None
):
    """Negative ELBO per image in nats (beta = 1): ``E_q[-log p(x | z)] + KL(q(z | x) || p(z))``, the
    reconstruction term averaged over `samples` draws of z per image.

    With ``prior=None`` p(z) is the standard normal of training and the KL is in closed form; with a
    :class:`MixturePrior` (the shipped model's fitted prior) the KL is the Monte Carlo average of
    ``log q(z | x) - log p(z)`` over the same draws. Returns ``(neg_elbo, rec, kl)``, each (N,).
    """
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    recs, kls = [], []
    for s in range(0, len(x), batch):
        xb = x[s : s + batch]
        lb = None if labels is None else labels[s : s + batch]
        mean, logvar = model.encoder(xb, lb)
        rec, kl = torch.zeros(len(xb), device=xb.device), torch.zeros(len(xb), device=xb.device)
        for _ in range(samples):
            z = reparameterise(mean, logvar, generator=gen)
            loc, log_scale = model.decoder(z, lb)
            rec -= pixel_log_prob(xb, loc, log_scale).flatten(1).sum(1)
            if prior is not None:
                kl += _log_q(z, mean, logvar) - prior(z, lb)
        recs.append(rec / samples)
        kls.append(gaussian_kl(mean, logvar) if prior is None else kl / samples)
    rec, kl = torch.cat(recs), torch.cat(kls)
    return rec + kl, rec, kl


@torch.no_grad()
def importance_log_likelihood(
    model: VAE, x, labels=None, *, samples: int = 1000, seed: int = 0, chunk: int = 250, prior=None
) -> torch.Tensor:
    """Importance-sampled estimate of log P(x) per image in nats: the IWAE bound
    ``log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x)`` with K = `samples` draws from q(z | x). It is a lower
    bound on log P(x) that tightens as K grows and is never below the ELBO in expectation. `prior` as in
    :func:`negative_elbo`."""
    model.eval()
    log_prior = standard_normal_log_prob if prior is None else prior
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(len(x)):
        xi = x[i : i + 1]
        li = None if labels is None else labels[i : i + 1]
        mean, logvar = model.encoder(xi, li)
        weights = []
        for s in range(0, samples, chunk):
            k = min(chunk, samples - s)
            lk = None if li is None else li.expand(k)
            z = reparameterise(mean.expand(k, -1), logvar.expand(k, -1), generator=gen)
            loc, log_scale = model.decoder(z, lk)
            log_px = pixel_log_prob(xi.expand(k, -1, -1, -1), loc, log_scale).flatten(1).sum(1)
            weights.append(log_px + log_prior(z, lk) - _log_q(z, mean, logvar))
        out.append(torch.logsumexp(torch.cat(weights), 0) - math.log(samples))
    return torch.stack(out)


class DecoderImages(nn.Module):
    """The exported generator: ``(z[, labels]) -> images = clamp(loc, 0, 1)``, ``(N, channels, S, S)``."""

    def __init__(self, decoder: Decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, z, labels=None):
        loc, _ = self.decoder(z, labels)
        return loc.clamp(0.0, 1.0)


class EncoderMoments(nn.Module):
    """The exported encoder: ``(images[, labels]) -> (mean, logvar)``; images float32 in [0, 1]."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, images, labels=None):
        return self.encoder(images, labels)
