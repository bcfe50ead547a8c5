"""segen-nuclei: instance segmentation of fluorescence nuclei (issue 12).

A light U-Net predicts background / interior / boundary per pixel; a seeded watershed in segen's C++ core
turns that into instances (int32, 0 = background, 1..K nuclei). The shipped ``unet-nuclei`` model (and its
``-int8`` variant) was trained with ``segen train nuclei`` on synthetic images only
(:func:`segen.data.nuclei`); its sidecar records the command, the seed and held-out scores.

Input: a grey image of any bit depth and contrast (uint8, uint16 or float; normalised per image so that
its 1st and 99.8th percentiles map to 0 and 1, as recorded in the sidecar). RGB(A) images are made grey
(:func:`segen.color.rgb2gray`, alpha dropped); other channel counts, NaN or infinite pixels and images
smaller than 8 x 8 are an :class:`~segen.InvalidArgumentError` naming `image`. A flat (e.g. all-zero)
image gives no objects.
"""

from __future__ import annotations

import segen
from segen.plugins import lazy, register_shipped_models

MODELS = {"unet-nuclei": "nuclei instances (fluorescence): light U-Net + seeded watershed"}


def _make(path, **options):
    from .segmenter import NucleiSegmenter  # numpy, onnxruntime and the C++ core: only when a model is made

    return NucleiSegmenter(path, **options)


@segen.hookimpl
def register_segmenters(register):
    register_shipped_models(register, __name__, MODELS, make=_make, labels="instances")


@segen.hookimpl
def register_model_loaders(register):
    # models `segen train nuclei` writes (sidecar "loader": "segen-nuclei"), by path or from a user model
    # folder: the network with its seeded-watershed post-processing
    register("segen-nuclei", _make, summary="nuclei network + seeded watershed (instances)")


@segen.hookimpl
def register_trainers(register):
    register(
        "nuclei",
        lazy(f"{__name__}.train:train"),
        extra="train",
        summary="train the nuclei instance segmenter on synthetic fluorescence images",
    )
