"""ModelInfo: what a segmenter or generator does, expects and comes from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import InvalidArgumentError

#: What a segmenter's label values mean (:attr:`ModelInfo.labels`).
LABEL_KINDS = ("classes", "instances")

_PROVENANCE_KEYS = ("training", "segen_version", "sha256", "source", "license", "authors")


@dataclass(frozen=True)
class ModelInfo:
    """Description of a segmenter or generator: what it does, what it expects, where it comes from.

    For ONNX models it is built from the model's metadata (:meth:`from_metadata`); classical methods fill
    in `options` with their parameters.
    """

    name: str
    task: str  #: "segmentation" or "generation"
    summary: str = ""
    classes: tuple[str, ...] = ()  #: segmentation: class names, index = label value (0 = background)
    #: segmentation: what a label value means — "classes" (a class index; the default) or "instances" (each
    #: object its own id, 0 = background; ids say nothing about the kind of object)
    labels: str = ""
    input_size: tuple[int, int] | None = None  #: (H, W) the model runs at (inputs are resized to it)
    channels: int | None = None  #: 1 (grey) or 3 (RGB) input / output channels
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    latent_size: int | None = None  #: generation: length of the latent vector z
    num_classes: int | None = None  #: generation: number of conditioning labels (None: unconditional)
    output_size: tuple[int, int] | None = None  #: generation: (H, W) of a sample
    metrics: dict = field(default_factory=dict)  #: measured on held-out data
    provenance: dict = field(default_factory=dict)  #: training data, epochs, seed, segen version, sha256
    options: dict = field(default_factory=dict)  #: the parameters this instance was made with
    file: str | None = None  #: the model file, if any

    def __post_init__(self):
        if self.task == "segmentation":
            kind = self.labels or "classes"
            if kind not in LABEL_KINDS:
                raise InvalidArgumentError(
                    f"`labels` of segmenter {self.name!r} must be one of {', '.join(map(repr, LABEL_KINDS))}; "
                    f"got {self.labels!r}"
                )
            object.__setattr__(self, "labels", kind)
        elif self.labels:
            raise InvalidArgumentError(
                f"`labels` is for segmenters only; got {self.labels!r} for a {self.task}"
            )

    @property
    def instances(self) -> bool:
        """True for an instance segmenter: each object its own label, 0 = background."""
        return self.labels == "instances"

    @classmethod
    def from_metadata(cls, meta: dict, *, name: str | None = None, file=None) -> ModelInfo:
        """Build from a model's metadata dict (see :mod:`segen.onnx`)."""

        def pair(v):
            return tuple(int(x) for x in v) if v is not None else None

        def floats(v):
            if v is None:
                return None
            return tuple(float(x) for x in (v if isinstance(v, (list, tuple)) else [v]))

        return cls(
            name=name or str(meta.get("name", "")),
            task=meta["task"],
            summary=str(meta.get("summary", "")),
            classes=tuple(str(c) for c in meta.get("classes", ())),
            labels=str(meta.get("labels", "")),
            input_size=pair(meta.get("input_size")),
            channels=meta.get("channels"),
            mean=floats(meta.get("mean")),
            std=floats(meta.get("std")),
            latent_size=meta.get("latent_size"),
            num_classes=meta.get("num_classes"),
            output_size=pair(meta.get("output_size")),
            metrics=dict(meta.get("metrics", {})),
            provenance={k: meta[k] for k in _PROVENANCE_KEYS if k in meta},
            file=None if file is None else str(file),
        )

    def as_dict(self) -> dict:
        """JSON-ready dict without the empty fields."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if v not in (None, (), {}, "")
        }
