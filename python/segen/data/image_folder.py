"""A generator's data set on disk: a folder of images, sub-folders = classes (numpy and :mod:`segen.io` only).

Layout
------
::

    DIR/<class>/<name>.<ext>     images of one class per sub-folder (conditional models: class = label)
    DIR/<name>.<ext>             or images directly in DIR: one class (unconditional models only)

Classes are the sub-folders that hold images, sorted by name (label k is the k-th name). Images directly in
DIR are used only when there is no class sub-folder; deeper folders, hidden files and files that are not
images (by suffix, :data:`segen.io.READ_SUFFIXES`) are left out, the latter with a warning.

Size and channels
-----------------
Every image is brought to `size` x `size` by one documented rule: its **short side is resized to `size`**
(area averaging when it shrinks, bilinear when it grows: :func:`segen.transform.resize`), keeping the
aspect ratio, then a `size` x `size` window is cut from the long side: the centre (``crop="center"``,
default; the same pixels every epoch) or a random window drawn from the caller's generator
(``crop="random"``, a cheap augmentation for wide images). Images smaller than `size` are enlarged and
counted in :attr:`ImageFolder.upsampled` (a warning says how many).

`channels` is 1 (grey) or 3 (RGB); by default those of the first image. A grey image becomes RGB by
repeating it, an RGB image grey by its luminance (:func:`segen.color.rgb2gray`); an alpha channel is
dropped; 16-bit and float images are scaled to 8 bit (:func:`segen.data.to_float`). Images are read from
disk when used; decoded, resized images are kept in a cache of at most `cache_mb` megabytes, so a small
set is decoded once and a large one streams with bounded memory.

Bad data
--------
:class:`~segen.errors.DataError` naming the file or folder: a missing or empty folder, a conditional data
set with fewer than two classes, an unreadable or truncated file. With ``skip_bad=True`` an unreadable
file is instead skipped with a :class:`~segen.errors.DataWarning`, counted in :attr:`ImageFolder.skipped`
and never read again. A class sub-folder without images is a warning (the class is left out). Nothing in
the folder is ever written or changed.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import warnings
from collections import OrderedDict

import numpy as np

from ..color import rgb2gray
from ..errors import DataError, DataWarning, ImageReadError, InvalidArgumentError
from ..io import READ_SUFFIXES, imread
from ..transform import resize
from .folder import to_float

__all__ = ["GENERATOR_SIZES", "ImageFolder"]

#: The sides a generator's images may be brought to.
GENERATOR_SIZES = (32, 64, 128)


def _image_files(folder: pathlib.Path) -> tuple[list[pathlib.Path], list[str]]:
    """(image files sorted by name, names of other files) directly in `folder` (hidden files skipped)."""
    files, other = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        if pathlib.Path(entry.name).suffix.lower() in READ_SUFFIXES:
            files.append(pathlib.Path(entry.path))
        else:
            other.append(entry.name)
    return files, other


class ImageFolder:
    """Images in a folder (sub-folders = classes) brought to `size` x `size` (see the module's rules).

    Parameters
    ----------
    root : str or os.PathLike
        The folder.
    size : {32, 64, 128}
        Side of the images :meth:`read` returns.
    channels : {1, 3} or None, optional
        Channels of the returned images; None (default): those of the first image (grey 1, else 3).
    crop : {"center", "random"}, optional
        Which `size` x `size` window of the short-side-resized image is used. Default "center".
    conditional : bool, optional
        The data feed a conditional model: at least two classes are needed. Default False.
    skip_bad : bool, optional
        Skip unreadable files with a warning (counted in :attr:`skipped`) instead of raising. Default False.
    cache_mb : float, optional
        Most megabytes of decoded, resized images kept in memory. Default 512.

    Raises
    ------
    segen.errors.DataError
        If the folder is missing or holds no image, or `conditional` and it has fewer than two classes.
    segen.errors.InvalidArgumentError
        If an argument is out of range.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from segen.io import imwrite
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for k, name in enumerate(["dark", "light"]):
    ...     (root / name).mkdir()
    ...     for i in range(3):
    ...         imwrite(root / name / f"{i}.png", np.full((40, 60), 50 + 150 * k, np.uint8))
    >>> ds = ImageFolder(root, size=32, conditional=True)
    >>> len(ds), ds.classes, ds.channels
    (6, ('dark', 'light'), 1)
    >>> image, label = ds.read(5)
    >>> image.shape, image.dtype, int(image[0, 0]), label
    ((32, 32), dtype('uint8'), 200, 1)
    """

    def __init__(
        self,
        root,
        *,
        size: int,
        channels: int | None = None,
        crop: str = "center",
        conditional: bool = False,
        skip_bad: bool = False,
        cache_mb: float = 512,
    ):
        if isinstance(size, bool) or size not in GENERATOR_SIZES:
            raise InvalidArgumentError(f"`size` must be one of {GENERATOR_SIZES}; got {size!r}")
        if channels is not None and (isinstance(channels, bool) or channels not in (1, 3)):
            raise InvalidArgumentError(f"`channels` must be 1, 3 or None; got {channels!r}")
        if crop not in ("center", "random"):
            raise InvalidArgumentError(f"`crop` must be 'center' or 'random'; got {crop!r}")
        try:
            cache = float(cache_mb)
        except (TypeError, ValueError):
            cache = -1.0
        if not cache >= 0:
            raise InvalidArgumentError(f"`cache_mb` must be a number >= 0; got {cache_mb!r}")
        self.root = pathlib.Path(root)
        self.size, self.crop, self.skip_bad = int(size), crop, bool(skip_bad)
        self._channels = channels
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_bytes, self._cache_max = 0, int(cache * 1e6)
        self._bad: set[int] = set()
        #: Files skipped as unreadable (with `skip_bad`).
        self.skipped: list[str] = []
        #: Number of images read so far that were smaller than `size` and enlarged.
        self.upsampled = 0
        self._warned_small = False
        self.classes, self._files, self._labels = self._scan(conditional)

    # ---- the files -------------------------------------------------------------------------------------

    def _scan(self, conditional: bool):
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such folder (a generator's data set is a folder of images)")
        top, other = _image_files(self.root)
        subs = sorted(
            (
                pathlib.Path(e.path)
                for e in os.scandir(self.root)
                if e.is_dir() and not e.name.startswith(".")
            ),
            key=lambda p: p.name,
        )
        classes, files, labels, empty = [], [], [], []
        for sub in subs:
            found, more = _image_files(sub)
            other += [f"{sub.name}/{n}" for n in more]
            if not found:
                empty.append(sub.name)
                continue
            labels += [len(classes)] * len(found)
            classes.append(sub.name)
            files += found
        if classes and top:
            warnings.warn(
                f"{self.root}: {len(top)} image(s) directly in the folder left out; the classes are its "
                f"sub-folders {classes}",
                DataWarning,
                stacklevel=3,
            )
        if not classes:
            classes, files, labels = [self.root.name or "images"], top, [0] * len(top)
        elif empty:
            warnings.warn(
                f"{self.root}: class folder(s) without images left out: {', '.join(empty)}",
                DataWarning,
                stacklevel=3,
            )
        if other:
            shown = ", ".join(other[:5]) + (" ..." if len(other) > 5 else "")
            warnings.warn(
                f"{self.root}: {len(other)} file(s) ignored, not images segen.io reads: {shown}",
                DataWarning,
                stacklevel=3,
            )
        if not files:
            raise DataError(
                f"{self.root}: no image found (put images in it, or in one sub-folder per class; formats: "
                "segen.io.READ_SUFFIXES)"
            )
        if conditional and len(classes) < 2:
            raise DataError(
                f"{self.root}: a conditional model needs at least two classes (one sub-folder of images "
                f"per class); found {len(classes)}: {classes}"
            )
        return tuple(classes), files, np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._files)

    @property
    def num_classes(self) -> int:
        """Number of classes (1 for a folder without class sub-folders)."""
        return len(self.classes)

    @property
    def labels(self) -> np.ndarray:
        """int64 ``(N,)``: the class of each file (an index into :attr:`classes`)."""
        return self._labels.copy()

    def files(self) -> list[pathlib.Path]:
        """The image files, class by class, sorted by name within each class."""
        return list(self._files)

    def fingerprint(self) -> dict:
        """``{"file_count", "sha256"}``: the number of images and the sha256 of their sorted paths relative
        to the root (one per line), the same on any machine for the same files."""
        rel = sorted(p.relative_to(self.root).as_posix() for p in self._files)
        return {"file_count": len(rel), "sha256": hashlib.sha256("\n".join(rel).encode("utf-8")).hexdigest()}

    @property
    def channels(self) -> int:
        """Channels of the images :meth:`read` returns: 1 (grey) or 3 (RGB)."""
        if self._channels is None:
            for i in range(len(self._files)):
                img = self._decode(i)
                if img is not None:
                    self._channels = 1 if img.ndim == 2 or img.shape[2] in (1, 2) else 3
                    break
            else:
                raise DataError(f"{self.root}: none of the {len(self)} files could be read")
        return self._channels

    # ---- reading ---------------------------------------------------------------------------------------

    def _decode(self, i: int) -> np.ndarray | None:
        """File `i` as segen.io reads it; None when it is bad and skipped (DataError without `skip_bad`)."""
        path = self._files[i]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", category=Warning)  # a concealed-corruption JPEG is bad data
                return imread(path)
        except (ImageReadError, UserWarning, OSError) as exc:
            if not self.skip_bad:
                raise DataError(f"{path}: unreadable ({exc}); fix or remove it, or pass skip_bad") from exc
            self._bad.add(i)
            self.skipped.append(path.relative_to(self.root).as_posix())
            warnings.warn(f"{path}: unreadable, skipped ({exc})", DataWarning, stacklevel=4)
            return None

    def _prepared(self, i: int) -> np.ndarray | None:
        """File `i` decoded, in `channels` channels (uint8) with its short side at `size` (cached)."""
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        channels = self.channels
        img = self._decode(i)
        if img is None:
            return None
        if img.ndim == 3:
            img = img[..., :1] if img.shape[2] in (1, 2) else img[..., :3]  # alpha dropped
            if img.shape[2] == 1:
                img = img[..., 0]
        x = to_float(img)
        if channels == 1 and x.ndim == 3:
            x = rgb2gray(np.ascontiguousarray(x))
        elif channels == 3 and x.ndim == 2:
            x = np.repeat(x[..., None], 3, axis=2)
        h, w = x.shape[:2]
        short = min(h, w)
        if short < self.size:
            self.upsampled += 1
            if not self._warned_small:
                self._warned_small = True
                warnings.warn(
                    f"{self._files[i]}: {h} x {w} is smaller than size {self.size} and is enlarged (so may be "
                    "others: ImageFolder.upsampled counts them)",
                    DataWarning,
                    stacklevel=4,
                )
        shape = (max(self.size, round(h * self.size / short)), max(self.size, round(w * self.size / short)))
        if shape != (h, w):
            x = resize(x, shape, method="area" if short > self.size else "bilinear")
        out = np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
        if out.nbytes <= self._cache_max:
            self._cache[i] = out
            self._cache_bytes += out.nbytes
            while self._cache_bytes > self._cache_max:
                self._cache_bytes -= self._cache.popitem(last=False)[1].nbytes
        return out

    def read(self, i: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, int] | None:
        """Image `i` as uint8 ``(size, size)`` (grey) or ``(size, size, 3)`` and its label; None for a bad file
        skipped with `skip_bad`. `rng` draws the window when ``crop="random"`` (else the centre is used)."""
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(self):
            raise InvalidArgumentError(f"`i` must be an int in [0, {len(self)}); got {i!r}")
        if i in self._bad:
            return None
        img = self._prepared(int(i))
        if img is None:
            return None
        h, w = img.shape[:2]
        if self.crop == "random" and rng is not None:
            r, c = int(rng.integers(0, h - self.size + 1)), int(rng.integers(0, w - self.size + 1))
        else:
            r, c = (h - self.size) // 2, (w - self.size) // 2
        return np.ascontiguousarray(img[r : r + self.size, c : c + self.size]), int(self._labels[i])

    def batch(self, indices, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The images and labels of `indices` stacked: uint8 ``(n, size, size[, 3])`` and int64 ``(n,)``,
        bad files skipped with `skip_bad` left out (so `n` may be less than ``len(indices)``)."""
        got = [g for g in (self.read(int(i), rng) for i in indices) if g is not None]
        shape = (0, self.size, self.size) + ((3,) if self.channels == 3 else ())
        if not got:
            return np.zeros(shape, np.uint8), np.zeros(0, np.int64)
        return np.stack([g[0] for g in got]), np.array([g[1] for g in got], np.int64)
