"""The FCN in PyTorch (imported by training and export only; inference runs the exported ONNX file).

Stride rule: the encoder halves the resolution `stages` times, so heights and widths must be multiples of
``2 ** stages`` (:func:`stride`). The segmenter pads other sizes (reflect) up to the next multiple and crops
the labels back.
"""

from __future__ import annotations

import torch
from torch import nn


def stride(stages: int) -> int:
    """The multiple that input heights and widths must be: ``2 ** stages``."""
    return 2**stages


def _stage(cin: int, cout: int, convs: int) -> nn.Sequential:
    layers = []
    for k in range(convs):
        layers += [
            nn.Conv2d(cin if k == 0 else cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def _up(channels: int, factor: int, mode: str = "bilinear") -> nn.ConvTranspose2d:
    """Learnable x`factor` up-sampling by a transposed convolution that gives exactly f times the size.

    ``"bilinear"``: kernel 2f, stride f, padding f/2, initialised as per-channel bilinear interpolation (as
    in FCN), so training starts from a smooth up-sampling. ``"nearest"``: kernel f, stride f (the kernels
    do not overlap: cheaper), initialised as nearest-neighbour replication.
    """
    if mode == "nearest":
        up = nn.ConvTranspose2d(channels, channels, factor, stride=factor, bias=False)
        ramp = torch.ones(factor)
    else:
        up = nn.ConvTranspose2d(
            channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False
        )
        centre = factor - 0.5
        ramp = 1 - torch.abs(torch.arange(2 * factor, dtype=torch.float32) - centre) / factor
    with torch.no_grad():
        up.weight.zero_()
        for c in range(channels):
            up.weight[c, c] = ramp[:, None] * ramp[None, :]
    return up


class FCN(nn.Module):
    """Fully convolutional network in the FCN-8s pattern.

    A VGG-like encoder of `stages` stages (convs + 2x2 max-pool, channels ``width * 2 ** min(i, 3)``);
    1x1 convolutions score the last `skips` stages (with the default 3: strides ``2**(stages-2)``,
    ``2**(stages-1)``, ``2**stages``, the FCN-8s pattern); the decoder up-samples the coarsest score x2
    with a transposed convolution, adds the next finer score (a skip), repeats down to the finest scored
    stage, and up-samples the sum to full resolution with a last transposed convolution
    (x ``2**(stages-skips+1)``). More skips give finer boundaries: ``stages`` + 1 also scores the
    full-resolution features of the first stage (before its pool), and no final up-sampling remains.

    With `decoder` = 0 (the classic FCN) the scores are class logits and the decoder is linear. With
    `decoder` = D > 0 the 1x1 convolutions project each scored stage to D channels instead, each
    x2 transposed convolution works on D channels and is followed, after the skip is added, by a ReLU
    (a non-linear decoder that can sharpen boundaries from the fine skips), and a last 1x1 convolution
    gives the class logits. Skips are still added, never concatenated, and there are no convolution
    blocks in the decoder: an FCN, not a U-Net.

    Parameters
    ----------
    in_channels : int
        Image channels.
    num_classes : int
        One logit per class.
    stages : int
        Encoder stages (>= 3); the stride is ``2 ** stages``.
    width : int
        Channels of the first stage.
    convs : int
        3x3 convolutions per stage.
    skips : int
        Number of scored feature maps, 2..`stages` + 1 (3 = FCN-8s).
    decoder : int
        Decoder channels (0: class scores, the classic linear FCN decoder).
    upsample : {"bilinear", "nearest"}
        Kernel and initialisation of the transposed convolutions (:func:`_up`).
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        *,
        stages: int = 4,
        width: int = 16,
        convs: int = 2,
        skips: int = 3,
        decoder: int = 0,
        upsample: str = "bilinear",
    ):
        super().__init__()
        if stages < 3 or width < 1 or convs < 1 or not 2 <= skips <= stages + 1 or decoder < 0:
            raise ValueError(
                f"need `stages` >= 3, `width` >= 1, `convs` >= 1, 2 <= `skips` <= `stages` + 1, "
                f"`decoder` >= 0; got {stages}, {width}, {convs}, {skips}, {decoder}"
            )
        if upsample not in ("bilinear", "nearest"):
            raise ValueError(f"`upsample` must be 'bilinear' or 'nearest'; got {upsample!r}")
        self.stages, self.skips, self.decoder = stages, skips, decoder
        ch = [width * 2 ** min(i, 3) for i in range(stages)]
        self.encoder = nn.ModuleList(
            [_stage(in_channels if i == 0 else ch[i - 1], ch[i], convs) for i in range(stages)]
        )
        # feature maps at strides 1 (stage 0 before its pool), 2, 4, ..., 2**stages; the last `skips`
        # are scored
        fch = [ch[0]] + ch
        d = decoder or num_classes
        self.score = nn.ModuleList([nn.Conv2d(fch[i], d, 1) for i in range(stages + 1 - skips, stages + 1)])
        self.up2 = nn.ModuleList([_up(d, 2, upsample) for _ in range(skips - 1)])
        factor = 2 ** (stages - skips + 1)
        self.up_final = _up(d, factor, upsample) if factor > 1 else nn.Identity()
        self.head = nn.Conv2d(d, num_classes, 1) if decoder else nn.Identity()

    @property
    def stride(self) -> int:
        return stride(self.stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for i, stage in enumerate(self.encoder):
            x = stage[:-1](x)
            if i == 0:
                feats.append(x)  # stride 1, before the pool
            x = stage[-1](x)
            feats.append(x)
        scores = [score(f) for score, f in zip(self.score, feats[-self.skips :])]
        y = scores[-1]
        if self.decoder:
            y = torch.relu(y)
        for up, finer in zip(self.up2, reversed(scores[:-1])):
            y = up(y) + finer
            if self.decoder:
                y = torch.relu(y)
        return self.head(self.up_final(y))
