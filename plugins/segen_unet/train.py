"""``segen train unet``: the U-Net recipe (imports torch; needs the ``train`` extra)."""

from __future__ import annotations

from segen.training import data_name, segmenter_recipe

from .net import UNet, stride


def train(output, *, dataset: str = "textures", depth: int = 3, width: int = 16, **options) -> dict:
    """Train a U-Net on ``shapes`` or ``textures`` and write ``<name>.onnx``, ``<name>.json``,
    ``<name>_val.png`` (validation predictions: image, truth, prediction), a checkpoint and, with `int8`,
    ``<name>-int8.onnx`` + JSON (static QDQ quantization) into `output`.

    The other `options` (``epochs=30, seed=0, size=64, n_train=1200, n_val=200, n_test=200,
    batch_size=16, lr=3e-3, patience=6, name, int8=True, progress=True, threads, resume``) are those of
    :func:`segen.training.segmenter_recipe`: the data are generated from `seed` (train and validation) and
    `seed` + 1000 (held-out test; for textures also from the held-out part of each photograph); `size` must
    be a multiple of ``2 ** depth``; `threads` sets torch's threads while training (None: torch's
    default); with `resume`, training goes on from ``<name>.last.pt`` in `output` with the same arguments.
    Returns the metadata written to the JSON file.
    """
    return segmenter_recipe(
        output,
        recipe="unet",
        dataset=dataset,
        net=UNet,
        arch={"depth": depth, "width": width},
        stride=stride(depth),
        stride_rule="2**depth",
        summary=f"U-Net (depth {depth}, width {width}) trained on {data_name(options, dataset)}",
        architecture={"type": "unet", "depth": depth, "width": width, "skips": True},
        **options,
    )
