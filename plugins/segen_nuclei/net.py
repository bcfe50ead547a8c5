"""The nuclei network in PyTorch (training and export only; inference runs the exported ONNX file).

A light U-Net: `depth` max-pooled stages of two 3x3 convolutions (batch norm, ReLU), nearest-neighbour
up-sampling and *additive* skip connections (half the decoder cost of concatenation), channels
``width * 2**i`` capped at ``4 * width``. Its output is three logits per pixel: background, nucleus
interior, nucleus boundary. Input height and width must be multiples of ``2 ** depth``.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class NucleiNet(nn.Module):
    """Image ``(N, 1, H, W)`` (percentile-normalised) -> logits ``(N, 3, H, W)``.

    Parameters
    ----------
    depth : int
        Number of down-samplings (>= 1).
    width : int
        Channels of the first stage (>= 2).
    """

    def __init__(self, *, depth: int = 3, width: int = 8):
        super().__init__()
        if depth < 1 or width < 2:
            raise ValueError(f"`depth` must be >= 1 and `width` >= 2; got {depth}, {width}")
        self.depth, self.width = depth, width
        ch = [width * min(2**i, 4) for i in range(depth + 1)]
        self.enc = nn.ModuleList(
            [nn.Sequential(_conv(cin, c), _conv(c, c)) for cin, c in zip([1] + ch[:-1], ch)]
        )
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.lift = nn.ModuleList([nn.Conv2d(ch[i + 1], ch[i], 1) for i in range(depth)])
        self.dec = nn.ModuleList([nn.Sequential(_conv(c, c), _conv(c, c)) for c in ch[:-1]])
        self.head = nn.Conv2d(ch[0], 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.enc):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for i in reversed(range(self.depth)):
            x = self.dec[i](self.lift[i](self.up(x)) + skips.pop())
        return self.head(x)
