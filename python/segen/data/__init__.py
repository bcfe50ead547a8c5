"""Data sets reproducible from a seed: geometric shapes and texture mosaics (segmentation), handwritten
digits (generation); a user's folder of images and masks (:class:`SegmentationFolder`) and a user's folder
of images for generators (:class:`ImageFolder`, sub-folders = classes).

Both generators return a :class:`SegmentationData`: images, their int32 label images and the class names
(the label value is the index into ``classes``). Image ``i`` of a call depends only on ``seed`` and ``i``
(one child seed per image), so ``shapes(10, seed=0)`` is the first ten images of ``shapes(100, seed=0)``.

Only numpy is needed, except for :func:`textures` and :func:`texture_mosaics`, which read photographs bundled with scikit-image,
and :func:`digits`, which reads scikit-learn's bundled handwritten digits (both imported on first use;
they are part of the ``train`` extra).
"""

from __future__ import annotations

from ._common import SegmentationData
from .digits import DIGITS_SPLIT_SEED, LabelledImages, digits
from .folder import IGNORE_INDEX, FolderScan, SegmentationFolder, to_float
from .image_folder import GENERATOR_SIZES, ImageFolder
from .nuclei import NucleiData, nuclei, nuclei_image
from .shapes import SHAPE_CLASSES, shapes
from .textures import MOSAIC_TEXTURES, TEXTURES, texture_mosaics, textures

__all__ = [
    "DIGITS_SPLIT_SEED",
    "IGNORE_INDEX",
    "FolderScan",
    "GENERATOR_SIZES",
    "ImageFolder",
    "SegmentationFolder",
    "to_float",
    "SHAPE_CLASSES",
    "TEXTURES",
    "MOSAIC_TEXTURES",
    "LabelledImages",
    "NucleiData",
    "SegmentationData",
    "digits",
    "nuclei",
    "nuclei_image",
    "shapes",
    "texture_mosaics",
    "textures",
]
