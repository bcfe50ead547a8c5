"""A segmentation data set on disk: a folder of images and label masks (numpy and :mod:`segen.io` only).

Layout
------
::

    DIR/images/<stem>.<ext>      the images: any format segen.io reads (PNG, JPEG, TIFF)
    DIR/masks/<stem>.<ext>       one label mask per image, same stem (the extension may differ)
    DIR/classes.json             optional: class names (and colours)

or the same ``images/`` + ``masks/`` pair inside ``DIR/train/``, ``DIR/val/`` and ``DIR/test/``. Without
those sub-folders the files are split by a seeded permutation (`val_fraction`, `test_fraction`, `seed`);
with ``train/`` but no ``val/`` (or ``test/``), the missing split is drawn from ``train/`` the same way.
Which file went where is in :meth:`SegmentationFolder.split_record`.

Masks
-----
A mask is a label image: pixel value ``k`` in ``0 .. K-1`` is class ``k``, and 255
(:data:`IGNORE_INDEX`) marks pixels that are not scored or trained on. 8-bit or 16-bit grey PNG/TIFF
(lossless; a JPEG mask is read but its compression artefacts become wrong labels). An RGB mask is
accepted only when ``classes.json`` gives every class a colour: each pixel's colour is looked up (an
unknown colour is an error naming the file). The mask must have the image's height and width.

``classes.json`` is a list of classes, or ``{"classes": [...]}``; a class is a name or
``{"name": ..., "colour": [r, g, b]}`` (``"color"`` also accepted). Without it the classes are
``class0 .. class{K-1}`` with K from `num_classes`, else one more than the largest mask value found.

Images
------
As :func:`segen.io.imread` gives them: grey ``(H, W)``, RGB(A) ``(H, W, C)``, ``uint8``, ``uint16``
(16-bit files keep their 16 bits), ``bool`` or float. :meth:`SegmentationFolder.read` brings each image to
the data set's `channels` (1 or 3; by default those of the first image): a grey image becomes RGB by
repeating it, an RGB image becomes grey by its luminance (:func:`segen.color.rgb2gray`, float32), an alpha
channel is dropped. :func:`to_float` scales any of them to float32 in [0, 1] (integers by their dtype's
maximum: 255 for 8 bit, 65535 for 16 bit; floats as stored).

Bad data
--------
Problems raise :class:`~segen.errors.DataError` naming the file: an empty folder, an image without a
mask, two files with one stem, an image and mask of different sizes, mask values beyond the classes, an
unreadable or truncated file. With ``skip_bad=True`` a bad pair is skipped with a
:class:`~segen.errors.DataWarning` instead, and counted in :attr:`SegmentationFolder.skipped` (a missing
mask or a bad file found when reading). A mask without an image and a class absent from the validation
split (:meth:`SegmentationFolder.scan`) are warnings. Nothing in the folder is ever written or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import warnings
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..color import rgb2gray
from ..errors import DataError, DataWarning, ImageReadError, InvalidArgumentError
from ..io import SUPPORTED_FORMATS, imread

__all__ = ["IGNORE_INDEX", "SPLITS", "FolderScan", "SegmentationFolder", "to_float"]

#: Mask value of pixels that are neither trained on nor scored.
IGNORE_INDEX = 255

#: The splits of a data set folder.
SPLITS = ("train", "val", "test")

#: Largest classes.json read (bytes): it holds names and colours only.
_MAX_CLASSES_JSON = 1 << 20


def to_float(image: np.ndarray) -> np.ndarray:
    """Scale an image to float32 in [0, 1]: integers by their dtype's maximum, bool to 0/1, floats as stored.

    Parameters
    ----------
    image : ndarray
        An image as :func:`segen.io.imread` returns it.

    Returns
    -------
    image : ndarray of float32
        Same shape.

    Examples
    --------
    >>> import numpy as np
    >>> to_float(np.array([0, 255], np.uint8)), to_float(np.array([65535], np.uint16))
    (array([0., 1.], dtype=float32), array([1.], dtype=float32))
    """
    arr = np.asarray(image)
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        return arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    raise InvalidArgumentError(f"`image` must be an integer, bool or float array; got dtype {arr.dtype}")


@dataclass
class FolderScan:
    """What :meth:`SegmentationFolder.scan` found in the masks of each split.

    Attributes
    ----------
    pixels : dict of str to (K,) ndarray of int64
        Pixels of each class per split (ignored pixels not counted).
    images : dict of str to (K,) ndarray of int64
        Number of masks in which each class appears, per split.
    ignored : dict of str to int
        Pixels marked :data:`IGNORE_INDEX`, per split.
    """

    pixels: dict = field(default_factory=dict)
    images: dict = field(default_factory=dict)
    ignored: dict = field(default_factory=dict)

    def class_weights(self, split: str = "train", *, power: float = 0.5) -> np.ndarray:
        """Loss weights from the label frequencies of `split`: ``(median frequency / frequency) ** power``
        over the classes present (absent classes get weight 0), float32 ``(K,)``."""
        counts = self.pixels[split].astype(np.float64)
        freq = counts / max(counts.sum(), 1.0)
        present = freq > 0
        weights = np.zeros_like(freq)
        if present.any():
            weights[present] = (np.median(freq[present]) / freq[present]) ** power
        return weights.astype(np.float32)


def _read_classes(path: pathlib.Path) -> tuple[tuple[str, ...], tuple | None]:
    """(names, colours or None) from classes.json."""
    if path.stat().st_size > _MAX_CLASSES_JSON:
        raise DataError(f"{path}: larger than {_MAX_CLASSES_JSON} bytes; it should hold class names only")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(spec, dict):
        spec = spec.get("classes")
    if not isinstance(spec, list) or not spec:
        raise DataError(
            f'{path}: expected a non-empty list of classes (or {{"classes": [...]}}); got {spec!r:.80}'
        )
    if len(spec) > IGNORE_INDEX:
        raise DataError(f"{path}: at most {IGNORE_INDEX} classes (255 is the ignore label); got {len(spec)}")
    names, colours = [], []
    for k, entry in enumerate(spec):
        if isinstance(entry, str):
            names.append(entry)
            colours.append(None)
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise DataError(
                f"{path}: class {k} must be a name or {{'name': ..., 'colour': [r, g, b]}}; got {entry!r:.80}"
            )
        colour = entry.get("colour", entry.get("color"))
        if colour is not None:
            ok = isinstance(colour, list) and len(colour) == 3
            if not ok or not all(isinstance(c, int) and 0 <= c <= 255 for c in colour):
                raise DataError(
                    f"{path}: colour of class {entry['name']!r} must be [r, g, b] in 0..255; got {colour!r}"
                )
            colour = tuple(colour)
        names.append(entry["name"])
        colours.append(colour)
    if len(set(names)) != len(names):
        raise DataError(f"{path}: class names must be unique; got {names}")
    have = [c is not None for c in colours]
    if any(have) and not all(have):
        raise DataError(f"{path}: give a colour to every class or to none")
    if all(have) and len(set(colours)) != len(colours):
        raise DataError(f"{path}: class colours must be unique")
    return tuple(names), (tuple(colours) if all(have) else None)


def _listing(folder: pathlib.Path) -> dict[str, pathlib.Path]:
    """stem -> file of the images segen.io reads in `folder` (hidden files skipped; others warned of)."""
    if not folder.is_dir():
        raise DataError(f"{folder}: missing (a data-set folder has images/ and masks/ side by side)")
    found: dict[str, pathlib.Path] = {}
    other = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.is_dir():
            continue
        p = pathlib.Path(entry.path)
        if p.suffix.lower() not in SUPPORTED_FORMATS:
            other.append(entry.name)
            continue
        if p.stem in found:
            raise DataError(
                f"{folder}: two files with the stem {p.stem!r}: {found[p.stem].name} and {p.name}"
            )
        found[p.stem] = p
    if other:
        shown = ", ".join(other[:5]) + (" ..." if len(other) > 5 else "")
        warnings.warn(
            f"{folder}: {len(other)} file(s) ignored, not PNG/JPEG/TIFF: {shown}", DataWarning, stacklevel=4
        )
    return found


def _fraction(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be a number in [0, 1); got {value!r}") from None
    if not 0.0 <= v < 1.0:
        raise InvalidArgumentError(f"`{name}` must be in [0, 1); got {value!r}")
    return v


class SegmentationFolder:
    """Images and label masks in a folder (see the module's layout), split into train, val and test.

    Parameters
    ----------
    root : str or os.PathLike
        The data-set folder.
    split : {"train", "val", "test"} or None, optional
        The split that ``len()``, iteration and integer :meth:`read` use; None (default): every file.
    seed : int, optional
        Seed of the split when the folder has no train/val/test sub-folders. Default 0.
    val_fraction, test_fraction : float, optional
        Fractions of the files drawn for validation and test (at least one file each when the fraction is
        not 0 and there are 3 files or more). Default 0.1 each.
    num_classes : int, optional
        Number of classes K when there is no classes.json (else it must agree with it).
    channels : {1, 3}, optional
        Channels :meth:`read` gives every image; default: those of the first image (grey 1, else 3).
    skip_bad : bool, optional
        Skip bad pairs with a :class:`~segen.errors.DataWarning` (counted in :attr:`skipped`) instead of
        raising :class:`~segen.errors.DataError`. Default False.

    Raises
    ------
    segen.errors.DataError
        If the folder is empty, an image has no mask (unless `skip_bad`), two files share a stem, or
        classes.json is malformed.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from segen.io import imwrite
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for d in ("images", "masks"):
    ...     (root / d).mkdir()
    >>> for i in range(10):
    ...     imwrite(root / "images" / f"{i}.png", np.full((8, 8), 20 * i, np.uint8))
    ...     imwrite(root / "masks" / f"{i}.png", np.eye(8, dtype=np.uint8))
    >>> ds = SegmentationFolder(root, seed=0)
    >>> [len(ds.files(s)) for s in ("train", "val", "test")], ds.num_classes
    ([8, 1, 1], 2)
    >>> image, mask = ds.read(0)
    >>> image.shape, mask.dtype
    ((8, 8), dtype('int32'))
    """

    def __init__(
        self,
        root,
        *,
        split: str | None = None,
        seed: int = 0,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        num_classes: int | None = None,
        channels: int | None = None,
        skip_bad: bool = False,
    ):
        self.root = pathlib.Path(os.fspath(root))
        if not self.root.is_dir():
            raise DataError(f"{self.root}: not a folder (expected images/ and masks/ inside)")
        if split is not None and split not in SPLITS:
            raise InvalidArgumentError(f"`split` must be one of {SPLITS} or None; got {split!r}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise InvalidArgumentError(f"`seed` must be an int >= 0; got {seed!r}")
        if channels not in (None, 1, 3):
            raise InvalidArgumentError(f"`channels` must be 1, 3 or None; got {channels!r}")
        if num_classes is not None and not (
            isinstance(num_classes, (int, np.integer)) and 1 <= num_classes <= IGNORE_INDEX
        ):
            raise InvalidArgumentError(
                f"`num_classes` must be an int in 1..{IGNORE_INDEX}; got {num_classes!r}"
            )
        self.split, self.seed, self.skip_bad = split, int(seed), bool(skip_bad)
        self.val_fraction = _fraction(val_fraction, "val_fraction")
        self.test_fraction = _fraction(test_fraction, "test_fraction")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise InvalidArgumentError(
                f"`val_fraction` + `test_fraction` must be < 1; got {self.val_fraction} + {self.test_fraction}"
            )
        #: (path, reason) of every pair skipped so far (with `skip_bad`).
        self.skipped: list[tuple[str, str]] = []
        self._channels = channels
        self._colours = None
        cj = self.root / "classes.json"
        if cj.is_file():
            names, self._colours = _read_classes(cj)
            if num_classes is not None and num_classes != len(names):
                raise DataError(f"{cj}: {len(names)} classes, but `num_classes` is {num_classes}")
            self._classes: tuple[str, ...] | None = names
        elif num_classes is not None:
            self._classes = tuple(f"class{k}" for k in range(num_classes))
        else:
            self._classes = None  # from the masks, on first use
        self._splits, self._layout = self._find_files()
        self._scan: FolderScan | None = None

    # ---- files ---------------------------------------------------------------------------------------

    def _pairs(self, base: pathlib.Path) -> list[tuple[pathlib.Path, pathlib.Path]]:
        images, masks = _listing(base / "images"), _listing(base / "masks")
        missing = [p for s, p in images.items() if s not in masks]
        if missing:
            shown = ", ".join(p.name for p in missing[:5]) + (" ..." if len(missing) > 5 else "")
            msg = f"{base / 'masks'}: no mask for {len(missing)} image(s): {shown} (a mask has its image's stem)"
            if not self.skip_bad:
                raise DataError(msg)
            warnings.warn(msg + "; skipped (skip_bad)", DataWarning, stacklevel=4)
            self.skipped.extend((str(p), "no mask") for p in missing)
        orphans = [p.name for s, p in masks.items() if s not in images]
        if orphans:
            shown = ", ".join(orphans[:5]) + (" ..." if len(orphans) > 5 else "")
            warnings.warn(
                f"{base / 'masks'}: {len(orphans)} mask(s) without an image, ignored: {shown}",
                DataWarning,
                stacklevel=4,
            )
        return [(p, masks[s]) for s, p in images.items() if s in masks]

    def _draw(self, pairs: list, fractions: dict[str, float]) -> dict[str, list]:
        """Seeded split of `pairs` into 'train' and the splits of `fractions`."""
        n = len(pairs)
        order = np.random.default_rng(self.seed).permutation(n)
        out, start = {}, 0
        for name, frac in fractions.items():
            k = int(round(n * frac))
            if frac > 0 and n >= 3:
                k = max(k, 1)
            out[name] = sorted(pairs[i] for i in order[start : start + k])
            start += k
        out["train"] = sorted(pairs[i] for i in order[start:])
        return out

    def _find_files(self) -> tuple[dict[str, list], str]:
        present = [s for s in SPLITS if (self.root / s).is_dir()]
        if not present:
            pairs = self._pairs(self.root)
            if not pairs:
                raise DataError(f"{self.root}: no image with a mask in images/ and masks/")
            split = self._draw(pairs, {"val": self.val_fraction, "test": self.test_fraction})
            return split, "seeded"
        if "train" not in present:
            raise DataError(f"{self.root}: has {'/, '.join(present)}/ but no train/ folder")
        split = {s: self._pairs(self.root / s) for s in present}
        if not split["train"]:
            raise DataError(f"{self.root / 'train'}: no image with a mask in images/ and masks/")
        missing = {
            s: f for s, f in (("val", self.val_fraction), ("test", self.test_fraction)) if s not in split
        }
        if missing:
            split.update(self._draw(split["train"], missing))
        return split, "folders" if not missing else "folders+seeded"

    def files(self, split: str | None = None) -> list[tuple[pathlib.Path, pathlib.Path]]:
        """(image path, mask path) of `split` ("train", "val", "test"; None: the object's `split`, and
        every file when that is None too), in a fixed order (sorted)."""
        split = self.split if split is None else split
        if split is None:
            return [p for s in SPLITS for p in self._splits[s]]
        if split not in SPLITS:
            raise InvalidArgumentError(f"`split` must be one of {SPLITS} or None; got {split!r}")
        return list(self._splits[split])

    def __len__(self) -> int:
        return len(self.files())

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(image, mask) of each file of the object's split, read one at a time (bad pairs skipped with
        `skip_bad`)."""
        for pair in self.files():
            got = self.read_or_skip(pair)
            if got is not None:
                yield got

    def _rel(self, path: pathlib.Path) -> str:
        return path.relative_to(self.root).as_posix()

    def fingerprint(self) -> dict:
        """``{"file_count", "sha256"}``: the number of image and mask files and the sha256 of their
        sorted paths relative to the root (one per line), the same on any machine for the same files."""
        rel = sorted(self._rel(p) for s in SPLITS for pair in self._splits[s] for p in pair)
        digest = hashlib.sha256("\n".join(rel).encode("utf-8")).hexdigest()
        return {"file_count": len(rel), "sha256": digest}

    def split_record(self) -> dict:
        """How the files were split: layout ("folders", "seeded" or "folders+seeded"), seed, fractions
        and the image files (relative paths) of each split."""
        return {
            "layout": self._layout,
            "seed": self.seed,
            "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction,
            **{s: [self._rel(img) for img, _ in self._splits[s]] for s in SPLITS},
        }

    # ---- classes -------------------------------------------------------------------------------------

    @property
    def ignore_index(self) -> int:
        """The mask value of ignored pixels (255)."""
        return IGNORE_INDEX

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names (classes.json, else ``class0 ..``; without either, found by :meth:`scan`)."""
        if self._classes is None:
            self.scan()
        return self._classes

    @property
    def num_classes(self) -> int:
        """K, the number of classes."""
        return len(self.classes)

    @property
    def colours(self) -> tuple | None:
        """The classes' (r, g, b) colours from classes.json, or None."""
        return self._colours

    @property
    def channels(self) -> int:
        """Channels of the images :meth:`read` returns: 1 (grey) or 3 (RGB)."""
        if self._channels is None:
            first = self.files("train")[0][0]
            img = self._imread(first)
            self._channels = 1 if img.ndim == 2 or img.shape[2] in (1, 2) else 3
        return self._channels

    # ---- reading -------------------------------------------------------------------------------------

    def _imread(self, path: pathlib.Path) -> np.ndarray:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", category=Warning)  # a concealed-corruption JPEG is bad data
                return imread(path)
        except (ImageReadError, UserWarning) as exc:
            raise DataError(f"{path}: unreadable ({exc})") from exc

    def _mask_values(self, mask: np.ndarray, path: pathlib.Path) -> np.ndarray:
        """An int32 (H, W) label image from a mask file's array (colours looked up)."""
        if mask.ndim == 3:
            if self._colours is None or mask.shape[2] not in (3, 4):
                raise DataError(
                    f"{path}: the mask has {mask.shape[2]} channels; write (H, W) label masks (class index per "
                    "pixel) or give every class a colour in classes.json"
                )
            if mask.dtype != np.uint8:
                raise DataError(f"{path}: a colour mask must be 8-bit; got {mask.dtype}")
            rgb = mask[..., :3].astype(np.int32)
            code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
            keys = np.array([(r << 16) | (g << 8) | b for r, g, b in self._colours], np.int32)
            order = np.argsort(keys)
            pos = np.searchsorted(keys[order], code).clip(0, len(keys) - 1)
            hit = keys[order][pos] == code
            if not hit.all():
                r, c = np.argwhere(~hit)[0]
                raise DataError(
                    f"{path}: colour {tuple(int(v) for v in rgb[r, c])} at (row {r}, col {c}) is none of the "
                    "classes' colours in classes.json"
                )
            return order[pos].astype(np.int32)
        if mask.dtype == np.bool_:
            return mask.astype(np.int32)
        if mask.dtype.kind not in "iu":
            raise DataError(f"{path}: a mask must hold integer labels; got dtype {mask.dtype}")
        if mask.size and (int(mask.min()) < 0 or int(mask.max()) > np.iinfo(np.int32).max):
            raise DataError(f"{path}: mask values must be 0..K-1 or {IGNORE_INDEX}; got {int(mask.min())}")
        return mask.astype(np.int32)

    def _check_labels(self, mask: np.ndarray, path: pathlib.Path) -> None:
        if self._classes is None:
            return
        k = len(self._classes)
        bad = (mask >= k) & (mask != IGNORE_INDEX)
        if bad.any():
            values = np.unique(mask[bad])
            shown = ", ".join(str(v) for v in values[:8]) + (" ..." if len(values) > 8 else "")
            raise DataError(
                f"{path}: mask values {shown} are beyond the {k} classes (0..{k - 1}; {IGNORE_INDEX} = ignore)"
            )

    def _fit_channels(self, image: np.ndarray) -> np.ndarray:
        want = self.channels
        if image.ndim == 3 and image.shape[2] in (2, 4):  # grey+alpha, RGBA: drop alpha
            image = image[..., :1] if image.shape[2] == 2 else image[..., :3]
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        if image.ndim == 3 and image.shape[2] != 3:
            raise DataError(f"images must be grey or RGB(A); got {image.shape[2]} channels")
        if want == 3 and image.ndim == 2:
            return np.repeat(image[..., None], 3, axis=2)
        if want == 1 and image.ndim == 3:
            return rgb2gray(image if image.dtype.kind in "uf" else to_float(image))
        return image

    def read(self, item) -> tuple[np.ndarray, np.ndarray]:
        """Read one pair: `item` an index into :meth:`files` (of the object's split) or an
        ``(image path, mask path)`` pair.

        Returns
        -------
        image : (H, W) or (H, W, 3) ndarray
            At the data set's `channels` (dtype as read, float32 after an RGB-to-grey conversion).
        mask : (H, W) ndarray of int32
            Class indices, :data:`IGNORE_INDEX` where ignored.

        Raises
        ------
        segen.errors.DataError
            Naming the file: unreadable or truncated, a size mismatch, values beyond the classes, a colour
            mask without class colours (`skip_bad` does not apply here: :meth:`read` reads what it is
            asked).
        """
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            files = self.files()
            if not -len(files) <= item < len(files):
                raise IndexError(f"`item` {item} out of range for {len(files)} files")
            item = files[item]
        try:
            img_path, mask_path = (pathlib.Path(os.fspath(p)) for p in item)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"`item` must be an index or an (image, mask) pair; got {item!r}"
            ) from None
        image = self._imread(img_path)
        mask = self._mask_values(self._imread(mask_path), mask_path)
        if image.shape[:2] != mask.shape:
            raise DataError(
                f"{mask_path}: mask is {mask.shape[0]}x{mask.shape[1]} but its image {img_path.name} is "
                f"{image.shape[0]}x{image.shape[1]} (height x width)"
            )
        self._check_labels(mask, mask_path)
        try:
            image = self._fit_channels(image)
        except DataError as exc:
            raise DataError(f"{img_path}: {exc}") from None
        return image, mask

    def read_or_skip(self, pair) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`read`, or None (warned and counted) for a bad pair when `skip_bad`."""
        try:
            return self.read(pair)
        except DataError as exc:
            if not self.skip_bad:
                raise
            self.skipped.append((str(pair[0]), str(exc)))
            warnings.warn(f"skipped (skip_bad): {exc}", DataWarning, stacklevel=3)
            return None

    def scan(self, *, progress: bool = False) -> FolderScan:
        """Read every mask once (cached): class counts per split, the classes when no classes.json or
        `num_classes` declared them, and a :class:`~segen.errors.DataWarning` for each class absent from
        the validation split. Only the masks are decoded (not the images); bad masks raise
        :class:`~segen.errors.DataError` (or are skipped with `skip_bad`, and then left out of training).

        `progress` shows a tqdm bar.
        """
        if self._scan is not None:
            return self._scan
        found: dict[str, list] = {}
        top = -1
        pairs = [(s, p) for s in SPLITS for p in self._splits[s]]
        if progress:
            from tqdm.auto import tqdm

            pairs = tqdm(pairs, desc="scanning masks", leave=False)
        bad = set()
        for s, (img, mpath) in pairs:
            try:
                mask = self._mask_values(self._imread(mpath), mpath)
                self._check_labels(mask, mpath)
            except DataError as exc:
                if not self.skip_bad:
                    raise
                self.skipped.append((str(img), str(exc)))
                warnings.warn(f"skipped (skip_bad): {exc}", DataWarning, stacklevel=2)
                bad.add(img)
                continue
            valid = mask[mask != IGNORE_INDEX]
            if valid.size and int(valid.max()) > IGNORE_INDEX:
                raise DataError(f"{mpath}: mask value {int(valid.max())} > {IGNORE_INDEX}; labels are 0..254")
            counts = np.bincount(valid.ravel(), minlength=1) if valid.size else np.zeros(1, np.int64)
            top = max(top, len(counts) - 1 if valid.size else -1)
            found.setdefault(s, []).append((counts, int(mask.size - valid.size)))
        if bad:
            self._splits = {s: [p for p in v if p[0] not in bad] for s, v in self._splits.items()}
            if not self._splits["train"]:
                raise DataError(f"{self.root}: every training pair was bad (skip_bad skipped {len(bad)})")
        if self._classes is None:
            if top < 0:
                raise DataError(
                    f"{self.root}: every mask pixel is {IGNORE_INDEX} (ignore); no class to learn"
                )
            self._classes = tuple(f"class{k}" for k in range(top + 1))
        k = len(self._classes)
        result = FolderScan()
        for s in SPLITS:
            rows = found.get(s, [])
            pix = np.zeros(k, np.int64)
            imgs = np.zeros(k, np.int64)
            for counts, _ in rows:
                pix[: len(counts)] += counts
                imgs[: len(counts)] += counts > 0
            result.pixels[s], result.images[s] = pix, imgs
            result.ignored[s] = sum(ign for _, ign in rows)
        if self._splits["val"]:
            absent = [self._classes[c] for c in range(k) if result.pixels["val"][c] == 0]
            if absent:
                warnings.warn(
                    f"{self.root}: class(es) {', '.join(absent)} absent from the validation split "
                    f"({len(self._splits['val'])} images): their IoU cannot be measured there",
                    DataWarning,
                    stacklevel=2,
                )
        self._scan = result
        return result

    def __repr__(self) -> str:
        counts = ", ".join(f"{s} {len(self._splits[s])}" for s in SPLITS)
        return f"SegmentationFolder({str(self.root)!r}, {self._layout}: {counts})"
