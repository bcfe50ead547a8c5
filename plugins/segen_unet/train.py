"""``segen train unet``: the U-Net recipe (imports torch; needs the ``train`` extra)."""

from __future__ import annotations


def train(
    output,
    *,
    dataset: str = "textures",
    epochs: int = 30,
    seed: int = 0,
    size: int = 64,
    depth: int = 3,
    width: int = 16,
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
    """Train a U-Net on ``shapes`` or ``textures`` and write ``<name>.onnx``, ``<name>.json``,
    ``<name>_val.png`` (validation predictions: image, truth, prediction), a checkpoint and, with `int8`,
    ``<name>-int8.onnx`` + JSON (static QDQ quantization) into `output`.

    The data are generated from `seed` (train and validation) and `seed` + 1000 (held-out test; for
    textures also from the held-out part of each photograph). `size` must be a multiple of ``2 ** depth``.
    `threads` sets torch's threads while training (None: torch's default); with `resume`, training goes on
    from ``<name>.last.pt`` in `output` with the same arguments (see :func:`segen.training.run_recipe`).
    Returns the metadata written to the JSON file.
    """
    from segen import training

    from .net import UNet, stride

    params = dict(  # noqa: C408 - keyword names, recorded in the metadata
        dataset=dataset,
        epochs=epochs,
        seed=seed,
        size=size,
        depth=depth,
        width=width,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
    )
    if threads is not None:  # recorded only when given: it is part of the exact command
        params["threads"] = threads
    s = stride(depth)
    if size % s:
        raise ValueError(f"`size` must be a multiple of the stride 2**depth = {s}; got {size}")
    return training.run_recipe(
        output,
        recipe="unet",
        params=params,
        build_model=lambda channels, n_classes: UNet(channels, n_classes, depth=depth, width=width),
        stride=s,
        summary=f"U-Net (depth {depth}, width {width}) trained on {dataset}",
        architecture={"type": "unet", "depth": depth, "width": width, "skips": True},
        name=name,
        int8=int8,
        progress=progress,
        threads=threads,
        resume=resume,
    )
