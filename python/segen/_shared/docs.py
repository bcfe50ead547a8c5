"""One wording for the parameters many functions share, filled into their numpydoc docstrings.

A docstring line that is only ``%(name)s`` is replaced by the entry ``name`` of :data:`PARAMETERS`,
indented like the placeholder (in the spirit of scipy's ``docfiller``); ``help()``, Sphinx and the
doctests see the filled text.
"""

from __future__ import annotations

import re

__all__ = ["PARAMETERS", "fill_doc"]

#: name -> numpydoc text (first line unindented, the description indented by four spaces).
PARAMETERS = {
    "image": """image : (H, W) or (H, W, C) ndarray
    Input image; channels are filtered independently.""",
    "mode": """mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
    Border extension (for 'constant', pixels outside the image are `cval`).""",
    "cval": """cval : float, optional
    Value outside the image with ``mode='constant'``.""",
    "channel_axis": """channel_axis : int or None, optional
    The axis of a 3-D image holding the channels (default -1); a 2-D image is grey.""",
    "filtered": """out : ndarray
    Same shape as `image`; float64 for float64 input, float32 otherwise.""",
    "rgb_channel_axis": """channel_axis : int, optional
    The axis that holds the channels (default -1, the last).""",
    "rgb_out": """out : ndarray, optional
    Preallocated result (C-contiguous, the result's shape with channels last and its dtype, not
    overlapping `image`), filled and returned; needs ``channel_axis=-1``.""",
    "onnx_model": """path : str or os.PathLike, optional
    The ``.onnx`` file (default: the class attribute ``model_path``).
threads : int, optional
    ONNX Runtime intra-op threads (default :func:`segen.get_num_threads`).
providers : sequence of str, optional
    Execution providers (default CPU).""",
    "onnx_sample": """sample : callable, optional
    ``sample()`` gives an image of the kind the model was made for, returned by ``sample_input()``
    (the demo segments it); shipped models draw one from their training data set.""",
    "rgb_raises": """ValueError
    If `image` is empty, not 3-D, or does not have 3 channels.
TypeError
    If `image` has a complex, signed-integer or other unsupported dtype.""",
    "instances": """pred, true : array_like of int or bool
    Instance label images of the same shape: 0 is background, every other value one object (values
    need not be consecutive).""",
    "instances_raises": """InvalidArgumentError
    If the shapes differ, a label is negative, or a threshold is outside [0, 1] (`thresholds` empty).
DTypeError
    If `pred` or `true` is not an integer (or bool) array, or a threshold is not a number.""",
}

_PLACEHOLDER = re.compile(r"^( *)%\((\w+)\)s$")


def fill_doc(func):
    """Decorator: fill the ``%(name)s`` lines of `func`'s docstring from :data:`PARAMETERS`.

    Examples
    --------
    >>> @fill_doc
    ... def f(image):
    ...     '''Parameters
    ...     ----------
    ...     %(image)s
    ...     '''
    >>> print(f.__doc__.splitlines()[3].strip())
    Input image; channels are filtered independently.
    """
    lines = []
    for line in (func.__doc__ or "").split("\n"):
        m = _PLACEHOLDER.match(line)
        if m is None:
            lines.append(line)
            continue
        indent, name = m.groups()
        lines += [indent + part if part else part for part in PARAMETERS[name].split("\n")]
    func.__doc__ = "\n".join(lines)
    return func
