"""Declared options of training recipes: what ``segen train NAME --help`` lists and the CLI checks.

A plugin registers a trainer with ``options={"epochs": TrainOption(30, "passes over the data"), ...}``;
the command line then refuses an option the recipe does not declare, converts each value to the type of
its default (or the declared `type`), and lists them all with their defaults. The recipe function keeps
its own keyword defaults (the Python API); the declared ones must agree with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgumentError

__all__ = ["SEGMENTER_OPTIONS", "TrainOption", "convert_option"]


@dataclass(frozen=True)
class TrainOption:
    """One recipe option: its `default`, a one-line `help`, and its `type` (default: the default's type;
    give it when the default is None)."""

    default: object
    help: str
    type: type | None = None
    choices: tuple = ()

    @property
    def kind(self) -> type:
        return self.type or (type(self.default) if self.default is not None else str)


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def convert_option(name: str, spec: TrainOption, value):
    """`value` (a command-line string, or already typed) as the option's type; InvalidArgumentError
    naming ``--name`` when it does not convert or is not one of the choices."""
    kind = spec.kind
    flag = f"--{name.replace('_', '-')}"
    if isinstance(value, str) and value.lower() in ("none", "null") and spec.default is None:
        return None
    try:
        if kind is bool:
            if isinstance(value, bool):
                out = value
            elif str(value).lower() in _TRUE | _FALSE:
                out = str(value).lower() in _TRUE
            else:
                raise ValueError
        elif kind is int:
            out = int(str(value), 10) if not isinstance(value, int) else value
        elif kind is float:
            out = float(value)
        else:
            out = str(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{flag}` must be {kind.__name__}; got {value!r}") from None
    if spec.choices and out not in spec.choices:
        raise InvalidArgumentError(
            f"`{flag}` must be one of {', '.join(map(str, spec.choices))}; got {value!r}"
        )
    return out


def _o(default, help, type=None, choices=()):
    return TrainOption(default, help, type, tuple(choices))


#: The options every segmenter recipe (``segen train unet|fcn``) shares; the recipe adds its network's.
SEGMENTER_OPTIONS = {
    "data": _o(
        None, "folder of images/ + masks/ (optional classes.json, train/ val/ test/) to train on", str
    ),
    "dataset": _o("textures", "built-in data set when no --data is given", choices=("shapes", "textures")),
    "epochs": _o(30, "passes over the training data"),
    "seed": _o(0, "seed of the weights, the split, the crops and the augmentation"),
    "size": _o(64, "side of the square training crops (a multiple of the network's stride)"),
    "n_train": _o(1200, "built-in data: training images"),
    "n_val": _o(200, "built-in data: validation images"),
    "n_test": _o(200, "built-in data: held-out test images"),
    "val_fraction": _o(0.1, "--data without val/: fraction of the files drawn for validation"),
    "test_fraction": _o(0.1, "--data without test/: fraction of the files drawn for the held-out test"),
    "skip_bad": _o(False, "--data: skip unreadable or inconsistent pairs (counted) instead of stopping"),
    "workers": _o(0, "--data: DataLoader worker processes reading images (0: in the training process)"),
    "crops_per_image": _o(
        None,
        "--data: crops cut from each image read (divides --batch-size; default: 1 per 16 crop areas of the "
        "mean training image, at most half a batch)",
        int,
    ),
    "batch_size": _o(16, "images (crops) per optimisation step"),
    "lr": _o(3e-3, "peak learning rate of Adam's one-cycle schedule"),
    "patience": _o(6, "stop after this many epochs without a better validation mIoU"),
    "class_weights": _o(True, "weight the cross-entropy by inverse label frequency (sqrt of median/freq)"),
    "flips": _o(True, "augment with random flips and rotations by 90 degrees"),
    "scale": _o(1.25, "--data: random crop scale in [1/scale, scale] (1: none)"),
    "photometric": _o(True, "augment brightness, contrast, gamma, noise, blur, equalisation"),
    "brightness": _o(0.1, "photometric: offset up to +-this"),
    "contrast": _o(0.5, "photometric: contrast factor in [1-c, 1/(1-c)]"),
    "gamma": _o(2.2, "photometric: gamma in [1/g, g]"),
    "noise": _o(0.06, "photometric: Gaussian noise sigma up to this"),
    "blur": _o(1.0, "photometric: Gaussian blur sigma up to this (pixels)"),
    "equalize": _o(0.2, "photometric: probability of histogram equalisation"),
    "device": _o("auto", "auto (CUDA when torch sees a GPU), cpu or cuda", choices=("auto", "cpu", "cuda")),
    "threads": _o(None, "torch CPU threads while training (default: torch's)", int),
    "name": _o(None, "file name of the model (default: <recipe>-<data folder or data set>)", str),
    "int8": _o(True, "also write <name>-int8.onnx (static QDQ quantization)"),
    "progress": _o(True, "show progress bars"),
    "resume": _o(False, "continue from <name>.last.pt in the output folder"),
}
