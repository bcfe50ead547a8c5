"""segen's built-in plugin: the classical segmenters of the core, registered through the same hook as any
plugin (plugin name ``builtin``, so ``builtin:kmeans`` always names segen's own k-means).

Every factory validates its options when it is called (``segen.get_segmenter("kmeans", k=0)`` fails at
once, naming `k`) and imports the compiled core only then: registering costs nothing.
"""

from __future__ import annotations

from ..errors import DTypeError, InvalidArgumentError
from .hookspecs import hookimpl
from .shipped import lazy

__all__ = [
    "register_segmenters",
    "kmeans",
    "kmeans_texture",
    "otsu",
    "multiotsu",
    "threshold",
    "watershed",
    "foreground_kmeans",
]


def FunctionSegmenter(*args, **kwargs):  # noqa: N802 - numpy and the bases are imported on first use only
    from ..models import FunctionSegmenter as cls

    return cls(*args, **kwargs)


def _int(value, name, minimum):
    from .._shared.validation import check_int

    return check_int(value, name, minimum=minimum)


def _choice(value, name, allowed):

    if value not in allowed:
        raise InvalidArgumentError(f"`{name}` must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _bool(value, name):
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise DTypeError(f"`{name}` must be a bool; got {type(value).__name__}")
    return bool(value)


def _grey(image):
    import numpy as np

    if image.ndim == 3:
        from ..color import rgb2gray

        if image.shape[2] == 4:
            image = np.ascontiguousarray(image[..., :3])
        return rgb2gray(image)
    return image


def kmeans(*, k: int = 4, color_space: str = "lab", position_weight: float = 0.0, seed: int = 0):
    """k-means colour segmentation: k segments of similar colour (CIE Lab by default)."""
    k = _int(k, "k", 1)
    seed = _int(seed, "seed", 0)
    _choice(color_space, "color_space", ("lab", "rgb"))
    from .._shared.validation import check_positive

    pw = check_positive(position_weight, "position_weight", allow_zero=True)
    features = ("color", "position") if pw > 0 else ("color",)

    def run(image, *, k, color_space, position_weight, seed):
        from ..segmentation import kmeans_segment

        return kmeans_segment(
            image, k, features=features, color_space=color_space, position_weight=position_weight, seed=seed
        )

    return FunctionSegmenter(
        run,
        name="kmeans",
        summary=kmeans.__doc__.splitlines()[0],
        options=dict(k=k, color_space=color_space, position_weight=pw, seed=seed),
    )


def kmeans_texture(*, k: int = 3, position_weight: float = 1.0, seed: int = 0):
    """Gabor-texture k-means: k regions of similar texture (Gabor energies and LBP, k-means, majority vote)."""
    k = _int(k, "k", 1)
    seed = _int(seed, "seed", 0)
    from .._shared.validation import check_positive

    pw = check_positive(position_weight, "position_weight", allow_zero=True)

    def run(image, *, k, position_weight, seed):
        # the same path as segen.segmentation.texture_segment, with its defaults for everything else
        from ..segmentation import texture_segment

        return texture_segment(image, k, position_weight=position_weight, seed=seed)

    return FunctionSegmenter(
        run,
        name="kmeans-texture",
        summary=kmeans_texture.__doc__.splitlines()[0],
        options=dict(k=k, position_weight=pw, seed=seed),
    )


def otsu(*, bright: bool = True):
    """Otsu foreground: 1 where the grey level is above Otsu's threshold (below with bright=False)."""
    bright = _bool(bright, "bright")

    def run(image, *, bright):
        from ..segmentation import foreground_otsu

        return foreground_otsu(_grey(image), bright=bright)

    return FunctionSegmenter(
        run,
        name="otsu",
        summary=otsu.__doc__.splitlines()[0],
        class_names=("background", "foreground"),
        options=dict(bright=bright),
    )


def multiotsu(*, classes: int = 3):
    """Multi-Otsu grey levels: labels 1..classes from classes - 1 Otsu thresholds."""
    classes = _int(classes, "classes", 2)
    if classes > 3:
        raise InvalidArgumentError(f"`classes` must be 2 or 3; got {classes}")

    def run(image, *, classes):
        import numpy as np

        from ..segmentation import threshold_multiotsu

        grey = _grey(image)
        return (np.digitize(grey, threshold_multiotsu(grey, classes=classes), right=True) + 1).astype(
            np.int32
        )

    return FunctionSegmenter(
        run, name="multiotsu", summary=multiotsu.__doc__.splitlines()[0], options=dict(classes=classes)
    )


def threshold(*, level: float = 0.5):
    """Fixed threshold: 1 where the grey level exceeds `level` (a fraction of the dtype's range)."""
    from .._shared.validation import check_real

    level = check_real(level, "level")
    if not 0 <= level <= 1:
        raise InvalidArgumentError(f"`level` must be in [0, 1] (a fraction of the value range); got {level}")

    def run(image, *, level):
        import numpy as np

        grey = _grey(image)
        top = np.iinfo(grey.dtype).max if grey.dtype.kind in "iu" else 1.0
        return grey > level * top

    return FunctionSegmenter(
        run,
        name="threshold",
        summary=threshold.__doc__.splitlines()[0],
        class_names=("background", "foreground"),
        options=dict(level=level),
    )


def watershed(
    *,
    min_distance: int = 7,
    max_size: int = 30,
    bright: bool = True,
    smooth: float = 0.0,
    threshold: str = "otsu",
):
    """Watershed instance segmentation: touching round objects (cells, coins) split one label each."""
    _choice(threshold, "threshold", ("otsu", "local"))  # 'local' keeps dim objects on uneven backgrounds
    md = _int(min_distance, "min_distance", 1)
    ms = _int(max_size, "max_size", 0)
    bright = _bool(bright, "bright")
    from .._shared.validation import check_positive

    smooth = check_positive(smooth, "smooth", allow_zero=True)

    def run(image, **options):
        from ..segmentation import segment_touching_objects

        return segment_touching_objects(_grey(image), **options)

    def sample():
        from .._shared.samples import cells

        return cells()

    return FunctionSegmenter(
        run,
        name="watershed",
        summary=watershed.__doc__.splitlines()[0],
        sample=sample,
        instances=True,
        options=dict(min_distance=md, max_size=ms, bright=bright, smooth=smooth, threshold=threshold),
    )


def foreground_kmeans(*, color_space: str = "lab", seed: int = 0):
    """2-means foreground: the colour cluster that does not own the image border."""
    seed = _int(seed, "seed", 0)
    _choice(color_space, "color_space", ("lab", "rgb"))

    def run(image, **options):
        from ..segmentation import foreground_kmeans as fg

        return fg(image, **options)

    return FunctionSegmenter(
        run,
        name="foreground-kmeans",
        summary=foreground_kmeans.__doc__.splitlines()[0],
        class_names=("background", "foreground"),
        options=dict(color_space=color_space, seed=seed),
    )


@hookimpl
def register_segmenters(register):
    register("kmeans", kmeans, aliases=("kmeans-color",))
    register("kmeans-texture", kmeans_texture, aliases=("texture", "gabor-kmeans"))
    register("otsu", otsu, aliases=("foreground-otsu",))
    register("multiotsu", multiotsu)
    register("threshold", threshold)
    register("watershed", watershed, aliases=("instances",), labels="instances")
    register("foreground-kmeans", foreground_kmeans)


@hookimpl
def register_trainers(register):
    judge = lazy("segen.training.judge:train")  # torch only when the recipe runs
    register("judge", judge, extra="train", summary="train the digit classifier that scores generators")
