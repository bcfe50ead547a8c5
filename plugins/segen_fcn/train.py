"""``segen train fcn``: the FCN-8s-style net recipe (imports torch; needs the ``train`` extra)."""

from __future__ import annotations

from segen.training import data_name, segmenter_recipe

from .net import FCN, stride


def train(
    output,
    *,
    dataset: str = "shapes",
    stages: int = 4,
    width: int = 16,
    skips: int = 3,
    decoder: int = 0,
    upsample: str = "bilinear",
    **options,
) -> dict:
    """Train a FCN-8s-style net on ``shapes`` or ``textures`` and write ``<name>.onnx``, ``<name>.json``,
    ``<name>_val.png`` (validation predictions: image, truth, prediction), a checkpoint and, with `int8`,
    ``<name>-int8.onnx`` + JSON (static QDQ quantization) into `output`.

    `decoder` and `upsample` choose the decoder (see :class:`segen_fcn.net.FCN`). The other `options`
    (``epochs=30, seed=0, size=64, n_train=1200, n_val=200, n_test=200, batch_size=16, lr=3e-3,
    patience=6, name, int8=True, progress=True, threads, resume``) are those of
    :func:`segen.training.segmenter_recipe`: the data are generated from `seed` (train and validation) and
    `seed` + 1000 (held-out test; for textures also from the held-out part of each photograph); `size` must
    be a multiple of ``2 ** stages``; `threads` sets torch's threads while training (None: torch's
    default). With `resume`, training continues from ``<name>.last.pt`` in `output` (written after every
    epoch) with the same arguments; the command in the JSON stays the one that trains from scratch, and
    ``history.resumed_after_epoch`` says where it resumed. Returns the metadata written to the JSON file.
    """
    arch = {"stages": stages, "width": width, "skips": skips, "decoder": decoder, "upsample": upsample}
    return segmenter_recipe(
        output,
        recipe="fcn",
        dataset=dataset,
        net=FCN,
        arch=arch,
        stride=stride(stages),
        stride_rule="2**stages",
        summary=f"FCN-8s-style net (stages {stages}, width {width}) trained on {data_name(options, dataset)}",
        architecture={"type": "fcn", "stages": stages, "width": width, "convs": 2, **arch},
        **options,
    )
