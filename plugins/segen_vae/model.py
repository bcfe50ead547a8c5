"""The VAE at inference time: :class:`VaeGenerator` (numpy + ONNX Runtime only; never imports torch).

A VAE model is two ONNX files side by side, each with its JSON sidecar:

- ``<name>.onnx``: the decoder, a generator like any other (input ``z`` float32 ``(N, latent_size)`` [+
  ``labels`` int64 ``(N,)``], output ``images`` ``(N, C, S, S)`` in [0, 1]; the digits models: C = 1,
  S = 16, a model trained on a folder: the JSON's ``channels`` and ``output_size``);
- ``<name>-encoder.onnx``: the encoder (input ``images`` float32 ``(N, C, S, S)`` in [0, 1] [+
  ``labels``], outputs ``mean`` and ``logvar`` of the Gaussian posterior q(z | x), each ``(N,
  latent_size)``); its JSON has ``"task": "generation"`` and ``"role": "encoder"``.

The decoder's JSON may hold a ``prior``: the Gaussian mixture (one per class for a conditional model) that
the latents of :meth:`VaeGenerator.generate` are drawn from, fitted to the encoder's aggregate posterior
after training (see ``segen_vae.train``). Without it the prior is the standard normal. Either way the
draws come from numpy's ``default_rng(seed)`` alone.
"""

from __future__ import annotations

import pathlib

import numpy as np
from segen.errors import DTypeError, InvalidArgumentError, ModelError
from segen.onnx import OnnxGenerator

__all__ = ["VaeGenerator", "encoder_path_for"]

#: Images per ONNX Runtime call in :meth:`VaeGenerator.encode` / :meth:`VaeGenerator.reconstruct`.
_CHUNK = 512


def encoder_path_for(decoder_path) -> pathlib.Path:
    """``<dir>/<name>.onnx`` -> ``<dir>/<name>-encoder.onnx``."""
    p = pathlib.Path(str(decoder_path))
    return p.with_name(f"{p.stem}-encoder.onnx")


class VaeGenerator(OnnxGenerator):
    """A variational autoencoder: a generator (its decoder) that can also encode and reconstruct images.

    :meth:`generate` decodes latent vectors drawn from the model's prior (the fitted Gaussian mixture of
    its JSON, else the standard normal) or given as `z`;
    :meth:`encode` maps images to the mean and log-variance of their posterior q(z | x);
    :meth:`reconstruct` decodes the posterior mean.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The decoder's ``.onnx`` file (default: the class attribute ``model_path``).
    encoder_path : str or os.PathLike, optional
        The encoder's ``.onnx`` file (default: ``<name>-encoder.onnx`` beside the decoder). It is opened on
        the first :meth:`encode` / :meth:`reconstruct`.
    threads : int, optional
        ONNX Runtime intra-op threads.
    providers : sequence of str, optional
        Execution providers (default CPU).

    Attributes
    ----------
    prior : dict or None
        The fitted prior (``per_class``, ``cdf`` of the component weights, ``means``, ``cholesky``); None
        for the standard normal.

    Examples
    --------
    >>> import segen
    >>> vae = segen.get_generator("vae-digits")
    >>> images = vae.generate(16, seed=0)
    >>> images.shape, images.dtype
    ((16, 16, 16), dtype('uint8'))
    >>> mean, logvar = vae.encode(images)
    >>> mean.shape == logvar.shape == (16, vae.info.latent_size), mean.dtype
    (True, dtype('float32'))
    >>> again = vae.reconstruct(images)
    >>> again.shape, again.dtype
    ((16, 16, 16), dtype('uint8'))
    """

    def __init__(
        self, path=None, *, encoder_path=None, threads: int | None = None, providers=("CPUExecutionProvider",)
    ):
        super().__init__(path, threads=threads, providers=providers)
        self.encoder_path = (
            encoder_path_for(self.model.path) if encoder_path is None else pathlib.Path(str(encoder_path))
        )
        self._threads, self._providers = threads, providers
        self._encoder = None
        self.prior = self._load_prior()

    @property
    def encoder(self):
        """The encoder's :class:`segen.onnx.OnnxModel` (checked against the decoder on first use)."""
        if self._encoder is None:
            from segen.onnx import OnnxModel

            if not self.encoder_path.is_file():
                raise ModelError(
                    f"VAE {self.info.name!r}: encoder file not found: {self.encoder_path} (a VAE ships "
                    "<name>-encoder.onnx beside <name>.onnx)"
                )
            enc = OnnxModel(self.encoder_path, threads=self._threads, providers=self._providers)
            meta = enc.metadata
            if meta.get("role") != "encoder":
                raise ModelError(
                    f"model {self.encoder_path}: metadata `role` must be 'encoder'; got {meta.get('role')!r}"
                )
            if meta.get("latent_size") != self.info.latent_size:
                raise ModelError(
                    f"model {self.encoder_path}: latent size {meta.get('latent_size')} differs from the "
                    f"decoder's {self.info.latent_size}"
                )
            if (meta.get("num_classes") or None) != (self.info.num_classes or None):
                raise ModelError(
                    f"model {self.encoder_path}: `num_classes` {meta.get('num_classes')} differs from the "
                    f"decoder's {self.info.num_classes}"
                )
            want = {"images", "labels"} if self.info.num_classes else {"images"}
            if set(enc.input_names) != want:
                raise ModelError(
                    f"model {self.encoder_path}: inputs must be {sorted(want)}; got {enc.input_names}"
                )
            self._encoder = enc
        return self._encoder

    def _load_prior(self):
        spec = self.model.metadata.get("prior")
        if spec is None:
            return None
        where = f"model {self.model.path}: `prior`"
        try:
            w = np.asarray(spec["weights"], np.float64)
            means = np.asarray(spec["means"], np.float64)
            chol = np.asarray(spec["cholesky"], np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where} needs numeric `weights`, `means` and `cholesky`: {exc}") from None
        latent = self.info.latent_size
        groups = (self.info.num_classes or 1) if spec.get("per_class") else 1
        k = w.shape[-1] if w.ndim == 2 else 0
        if (
            w.shape != (groups, k)
            or k < 1
            or means.shape != (groups, k, latent)
            or chol.shape != (groups, k, latent, latent)
            or not (np.all(np.isfinite(w)) and np.all(np.isfinite(means)) and np.all(np.isfinite(chol)))
            or np.any(w < 0)
            or np.any(w.sum(1) <= 0)
        ):
            raise ModelError(
                f"{where} must hold finite weights ({groups}, K) >= 0, means ({groups}, K, {latent}) and "
                f"cholesky ({groups}, K, {latent}, {latent}); got {w.shape}, {means.shape}, {chol.shape}"
            )
        return {
            "per_class": groups > 1,
            "cdf": np.cumsum(w / w.sum(1, keepdims=True), 1),
            "means": means,
            "cholesky": np.tril(chol),
        }

    def sample_latents(self, n: int, *, seed=None, labels=None) -> np.ndarray:
        """Latent vectors (n, latent_size) float32 drawn from the model's prior, as :meth:`generate` draws
        them: ``generate(n, seed=s, labels=y)`` equals ``generate(n, z=sample_latents(n, seed=s,
        labels=y), labels=y)``. Handy for interpolating between two samples.

        Raises
        ------
        InvalidArgumentError
            If `n` < 1, or `labels` are wrong for this model (see :meth:`generate`).
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidArgumentError(f"`n` must be an integer >= 1; got {n!r}")
        n = int(n)
        if self.info.num_classes:
            labels = np.arange(n, dtype=np.int64) % self.info.num_classes if labels is None else labels
        labels = self._check_labels(labels, n)
        return self._draw(n, np.random.default_rng(seed), labels)

    def _draw(self, n: int, rng: np.random.Generator, labels) -> np.ndarray:
        p = self.prior
        if p is None:
            return rng.standard_normal((n, self.info.latent_size)).astype(np.float32)
        g = labels if p["per_class"] else np.zeros(n, np.int64)
        u = rng.random(n)
        comp = np.minimum((u[:, None] >= p["cdf"][g]).sum(1), p["cdf"].shape[1] - 1)
        eps = rng.standard_normal((n, self.info.latent_size))
        z = p["means"][g, comp] + np.einsum("nij,nj->ni", p["cholesky"][g, comp], eps)
        return z.astype(np.float32)

    def _generate(self, n, *, rng, labels, z):
        if z is None:
            z = self._draw(n, rng, labels)
        return super()._generate(n, rng=rng, labels=labels, z=z)

    # ---- checking ------------------------------------------------------------------------------------------
    def _check_images(self, images):
        """uint8 (N, H, W[, 3]) or one (H, W[, 3]) image -> (float32 (N, C, H, W) in [0, 1], whether it was
        one); the trailing 3 for an RGB model (``channels`` 3 in the metadata)."""
        arr = np.asarray(images)
        if arr.dtype != np.uint8:
            raise DTypeError(f"`images` must be uint8 (0..255 grey levels); got {arr.dtype}")
        size = tuple(self.info.output_size or (16, 16))
        rgb = (self.model.metadata.get("channels") or 1) == 3
        one = size + ((3,) if rgb else ())
        single = arr.ndim == len(one)
        if single:
            arr = arr[None]
        if arr.ndim != len(one) + 1 or arr.shape[1:] != one:
            shown = ", ".join(map(str, one))
            raise InvalidArgumentError(
                f"`images` must have shape (N, {shown}) or ({shown}); got {np.asarray(images).shape}"
            )
        if arr.shape[0] == 0:
            raise InvalidArgumentError(
                f"`images` must hold at least one image; got shape {np.asarray(images).shape}"
            )
        x = arr.astype(np.float32) / np.float32(255)
        x = x.transpose(0, 3, 1, 2) if rgb else x[:, None]
        return np.ascontiguousarray(x), single

    def _check_labels(self, labels, n: int):
        k = self.info.num_classes
        if not k:
            if labels is not None:
                raise InvalidArgumentError(f"`labels` given, but VAE {self.info.name!r} is unconditional")
            return None
        if labels is None:
            raise InvalidArgumentError(
                f"`labels` are required: VAE {self.info.name!r} is conditional (the class of each image)"
            )
        lab = np.asarray(labels)
        if lab.dtype.kind not in "iu" or lab.ndim > 1:
            raise InvalidArgumentError(f"`labels` must be an int or a 1-D sequence of ints; got {labels!r}")
        lab = np.broadcast_to(lab, (n,)) if lab.ndim == 0 else lab
        if lab.shape != (n,):
            raise InvalidArgumentError(f"`labels` must have one label per image ({n}); got {lab.shape[0]}")
        if lab.min() < 0 or lab.max() >= k:
            raise InvalidArgumentError(f"`labels` must be in [0, {k - 1}]; got {lab.min()}..{lab.max()}")
        return np.ascontiguousarray(lab, dtype=np.int64)

    # ---- public --------------------------------------------------------------------------------------------
    def encode(self, images, *, labels=None):
        """Mean and log-variance of the posterior q(z | x) of each image.

        Parameters
        ----------
        images : (N, S, S) or (S, S) ndarray of uint8, or (N, S, S, 3) or (S, S, 3) for an RGB model
            Images of the generator's output size S (16 for the digits: 0 background, 255 full ink).
        labels : int or sequence of int, optional
            The class of each image (one for all, or one per image); required by a conditional VAE,
            refused by an unconditional one.

        Returns
        -------
        mean, logvar : (N, latent_size) ndarray of float32
            (``(latent_size,)`` each for one (16, 16) image.)

        Raises
        ------
        DTypeError
            If `images` is not uint8.
        InvalidArgumentError
            If `images` has the wrong shape or no image, or `labels` are missing, unexpected, of the
            wrong length or out of range.
        ModelError
            If the encoder file is missing or does not match the decoder.
        """
        x, single = self._check_images(images)
        mean, logvar = self._encode(x, self._check_labels(labels, len(x)))
        return (mean[0], logvar[0]) if single else (mean, logvar)

    def _encode(self, x, lab):
        enc = self.encoder
        means, logvars = [], []
        for s in range(0, len(x), _CHUNK):
            feeds = {"images": x[s : s + _CHUNK]}
            if lab is not None:
                feeds["labels"] = lab[s : s + _CHUNK]
            mean, logvar = enc.run(feeds, ["mean", "logvar"])
            means.append(mean)
            logvars.append(logvar)
        return (
            np.concatenate(means).astype(np.float32, copy=False),
            np.concatenate(logvars).astype(np.float32, copy=False),
        )

    def reconstruct(self, images, *, labels=None) -> np.ndarray:
        """Encode the images and decode their posterior means.

        Parameters
        ----------
        images : ndarray of uint8
            As for :meth:`encode`.
        labels : int or sequence of int, optional
            As for :meth:`encode`.

        Returns
        -------
        reconstructions : ndarray of uint8, the shape of `images`

        Raises
        ------
        DTypeError, InvalidArgumentError, ModelError
            As for :meth:`encode`.
        """
        x, single = self._check_images(images)
        lab = self._check_labels(labels, len(x))
        mean, _ = self._encode(x, lab)
        out = np.concatenate(
            [
                self._generate(
                    len(mean[s : s + _CHUNK]),
                    rng=None,
                    labels=None if lab is None else lab[s : s + _CHUNK],
                    z=np.ascontiguousarray(mean[s : s + _CHUNK]),
                )
                for s in range(0, len(mean), _CHUNK)
            ]
        )
        return out[0] if single else out
