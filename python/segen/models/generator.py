"""The Generator base class: seeded, validated `generate`, latents and interpolation."""

from __future__ import annotations

import abc

import numpy as np

from .._shared.validation import check_int, check_seed
from ..errors import InvalidArgumentError, PluginError
from .info import ModelInfo

#: Largest `n` accepted by :meth:`Generator.generate` in one call.
MAX_GENERATE = 4096


class Generator(abc.ABC):
    """Base class of generators: ``generate(n, seed=...) -> (n, H, W[, C]) uint8``.

    Subclasses set :attr:`info` (``num_classes`` for conditional models, ``latent_size`` when `z` may be
    given) and implement :meth:`_generate`.
    """

    info: ModelInfo = ModelInfo(name="", task="generation")

    def generate(self, n: int, *, seed=None, labels=None, z=None) -> np.ndarray:
        """Generate `n` images.

        Parameters
        ----------
        n : int
            Number of images, 1..:data:`MAX_GENERATE`.
        seed : None, int or numpy.random.Generator, optional
            Seed of the latent vectors; the same seed gives the same images.
        labels : int or sequence of int, optional
            Classes to generate, for conditional models (``info.num_classes``): one per image, or one for
            all. Default: the classes in turn.
        z : (n, latent_size) ndarray, optional
            Latent vectors to use instead of random ones.

        Returns
        -------
        images : (n, H, W) or (n, H, W, C) ndarray of uint8

        Raises
        ------
        InvalidArgumentError
            If `n` is out of range, `labels` are given to an unconditional model or are out of range,
            `z` has the wrong shape, or `seed` is not None, an int >= 0 or a ``numpy.random.Generator``.
        """

        n = check_int(n, "n", minimum=1)
        if n > MAX_GENERATE:
            raise InvalidArgumentError(f"`n` must be <= {MAX_GENERATE}; got {n}")
        k = self.info.num_classes
        if labels is not None:
            if not k:
                raise InvalidArgumentError(
                    f"`labels` given, but generator {self.info.name!r} is unconditional"
                )
            lab = np.asarray(labels)
            if lab.dtype.kind not in "iu" or lab.ndim > 1:
                raise InvalidArgumentError(
                    f"`labels` must be an int or a 1-D sequence of ints; got {labels!r}"
                )
            lab = np.broadcast_to(lab, (n,)) if lab.ndim == 0 else lab
            if lab.shape != (n,):
                raise InvalidArgumentError(
                    f"`labels` must have one label per image ({n}); got {lab.shape[0]}"
                )
            if lab.size and (lab.min() < 0 or lab.max() >= k):
                bad = sorted({int(v) for v in lab[(lab < 0) | (lab >= k)]})
                shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
                raise InvalidArgumentError(f"`labels` must be in [0, {k - 1}]; got {shown}")
            labels = lab.astype(np.int64)
        elif k:
            labels = np.arange(n, dtype=np.int64) % k
        if z is not None:
            z = np.asarray(z)
            if z.dtype.kind not in "biuf":
                raise InvalidArgumentError(f"`z` must be a real array; got dtype {z.dtype}")
            with np.errstate(over="ignore", invalid="ignore"):  # past float32's range: inf, refused by name
                z = z.astype(np.float32)
            want = (n, self.info.latent_size)
            if self.info.latent_size is None or z.shape != want:
                raise InvalidArgumentError(f"`z` must have shape {want}; got {z.shape}")
        rng = check_seed(seed)
        out = np.asarray(self._generate(n, rng=rng, labels=labels, z=z))
        if out.dtype != np.uint8 or out.ndim not in (3, 4) or out.shape[0] != n:
            raise PluginError(
                f"generator {self.info.name!r} returned {out.dtype} {out.shape}; expected uint8 "
                f"(n={n}, H, W[, C])"
            )
        return out

    def _draw(self, n: int, rng: np.random.Generator, labels: np.ndarray | None) -> np.ndarray:
        """The latent vectors ``(n, latent_size)`` that :meth:`generate` uses when no `z` is given: standard
        normal by default. A generator with another prior overrides this (and draws through it in
        ``_generate``), so that :meth:`latent` and :meth:`interpolate` follow it."""
        return rng.standard_normal((n, self.info.latent_size))

    def latent(self, seed, *, label=None, name: str = "seed") -> np.ndarray:
        """The latent vector ``generate(1, seed=seed, labels=label)`` uses: ``(latent_size,)``, drawn from
        ``numpy.random.default_rng(seed)`` (float64 standard normal for the default prior; the generator
        casts it to float32).

        Raises
        ------
        InvalidArgumentError
            If the generator has no ``latent_size`` (it does not take `z`), or `seed` is not None, an int
            >= 0 or a ``numpy.random.Generator`` (the message names it `name`).
        """

        if not self.info.latent_size:
            raise InvalidArgumentError(
                f"generator {self.info.name!r} has no latent vector (no `latent_size`); it cannot interpolate"
            )
        rng = check_seed(seed, name)
        labels = None
        if label is not None or self.info.num_classes:
            labels = np.array([0 if label is None else self._check_label(label)], np.int64)
        return np.asarray(self._draw(1, rng, labels))[0]

    def _check_label(self, label) -> int:
        k = self.info.num_classes
        if not k:
            raise InvalidArgumentError(f"`label` given, but generator {self.info.name!r} is unconditional")
        kind = np.asarray(label).dtype.kind
        if isinstance(label, (bool, np.bool_)) or np.ndim(label) != 0 or kind not in "iu":
            raise InvalidArgumentError(f"`label` must be one int; got {label!r}")
        if not 0 <= int(label) < k:
            raise InvalidArgumentError(f"`label` must be in [0, {k - 1}]; got {int(label)}")
        return int(label)

    def interpolate(
        self, seed_a, seed_b, steps: int = 8, *, label=None, spherical: bool = True
    ) -> np.ndarray:
        """Images along the latent path between the samples of two seeds.

        Parameters
        ----------
        seed_a, seed_b : int
            Seeds of the two ends: the first image is ``generate(1, seed=seed_a)`` and the last
            ``generate(1, seed=seed_b)``, exactly.
        steps : int, optional
            Number of images, 2..:data:`MAX_GENERATE` (default 8), ends included, equally spaced in the
            interpolation parameter.
        label : int, optional
            Class of every image, for conditional models (default 0: the label ``generate(1)`` uses).
        spherical : bool, optional
            Spherical linear interpolation (slerp, default) or a straight line between the two latents.

        Returns
        -------
        images : (steps, H, W) or (steps, H, W, C) ndarray of uint8

        Raises
        ------
        InvalidArgumentError
            If `steps` is out of range, `label` is given to an unconditional model or is out of range, a
            seed is not an int >= 0 (or None, or a ``numpy.random.Generator``), or the generator has no
            latent vector.

        Notes
        -----
        The ends are the latents :meth:`latent` draws (the generator's own prior, standard normal by
        default). Standard-normal latents concentrate near the sphere of radius ``sqrt(latent_size)``; a
        straight line between two of them passes through shorter vectors, which a generator rarely saw in
        training (the middle images look faded). Slerp follows the great circle between them and keeps
        the norm in between the two ends'. The path is computed in float64 from the draws, so its ends
        are bit-identical to the seeds' latents.

        Examples
        --------
        >>> import segen
        >>> gen = segen.get_generator("dcgan-digits")
        >>> path = gen.interpolate(1, 2, steps=5)
        >>> path.shape, path.dtype
        ((5, 16, 16), dtype('uint8'))
        >>> ends = gen.generate(1, seed=1)[0], gen.generate(1, seed=2)[0]
        >>> bool((path[0] == ends[0]).all() and (path[-1] == ends[1]).all())
        True
        """

        steps = check_int(steps, "steps", minimum=2)
        if steps > MAX_GENERATE:
            raise InvalidArgumentError(f"`steps` must be <= {MAX_GENERATE}; got {steps}")
        labels = None
        if label is not None or self.info.num_classes:
            labels = 0 if label is None else self._check_label(label)
        a = self.latent(seed_a, label=labels, name="seed_a")
        b = self.latent(seed_b, label=labels, name="seed_b")
        t = np.linspace(0.0, 1.0, steps)[:, None]
        omega = float(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0)))
        if spherical and omega > 1e-6 and np.pi - omega > 1e-6:
            z = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
        else:  # lerp (also the limit of slerp for (anti)parallel ends)
            z = (1 - t) * a + t * b
        z[0], z[-1] = a, b
        return self.generate(steps, z=z.astype(np.float32), labels=labels)

    @abc.abstractmethod
    def _generate(
        self, n: int, *, rng: np.random.Generator, labels: np.ndarray | None, z: np.ndarray | None
    ) -> np.ndarray:
        """Make `n` uint8 images; `labels` is (n,) int64 for conditional models, `z` checked or None."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name!r}>"
