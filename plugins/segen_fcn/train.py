"""``segen train fcn``: the FCN-8s-style net recipe (imports torch; needs the ``train`` extra)."""

from __future__ import annotations


def train(
    output,
    *,
    dataset: str = "shapes",
    epochs: int = 30,
    seed: int = 0,
    size: int = 64,
    stages: int = 4,
    width: int = 16,
    skips: int = 3,
    decoder: int = 0,
    upsample: str = "bilinear",
    n_train: int = 1200,
    n_val: int = 200,
    n_test: int = 200,
    batch_size: int = 16,
    lr: float = 3e-3,
    patience: int = 6,
    name: str | None = None,
    int8: bool = True,
    progress: bool = True,
    threads: int | None = None,
    resume: bool = False,
) -> dict:
    """Train a FCN-8s-style net on ``shapes`` or ``textures`` and write ``<name>.onnx``, ``<name>.json``,
    ``<name>_val.png`` (validation predictions: image, truth, prediction), a checkpoint and, with `int8`,
    ``<name>-int8.onnx`` + JSON (static QDQ quantization) into `output`.

    The data are generated from `seed` (train and validation) and `seed` + 1000 (held-out test; for
    textures also from the held-out part of each photograph). `size` must be a multiple of ``2 ** stages``.
    `decoder` and `upsample` choose the decoder (see :class:`segen_fcn.net.FCN`); `threads` sets torch's
    threads while training (None: torch's default). With `resume`, training continues from
    ``<name>.last.pt`` in `output` (written after every epoch) with the same arguments; the command in the
    JSON stays the one that trains from scratch, and ``history.resumed_after_epoch`` says where it resumed.
    Returns the metadata written to the JSON file.
    """
    from segen import training

    from .net import FCN, stride

    params = dict(  # noqa: C408 - keyword names, recorded in the metadata
        dataset=dataset,
        epochs=epochs,
        seed=seed,
        size=size,
        stages=stages,
        width=width,
        skips=skips,
        decoder=decoder,
        upsample=upsample,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
    )
    if threads is not None:  # recorded only when given: it is part of the exact command
        params["threads"] = threads
    s = stride(stages)
    if size % s:
        raise ValueError(f"`size` must be a multiple of the stride 2**stages = {s}; got {size}")
    return training.run_recipe(
        output,
        recipe="fcn",
        params=params,
        build_model=lambda channels, n_classes: FCN(
            channels, n_classes, stages=stages, width=width, skips=skips, decoder=decoder, upsample=upsample
        ),
        stride=s,
        summary=f"FCN-8s-style net (stages {stages}, width {width}) trained on {dataset}",
        architecture={
            "type": "fcn",
            "stages": stages,
            "width": width,
            "convs": 2,
            "skips": skips,
            "decoder": decoder,
            "upsample": upsample,
        },
        name=name,
        int8=int8,
        progress=progress,
        threads=threads,
        resume=resume,
    )
