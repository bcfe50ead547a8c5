"""Training and export of the U-Net / FCN plugins (needs torch: skipped where it is absent)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from segen import data as datasets  # noqa: E402
from segen import training  # noqa: E402
from segen.errors import ModelError  # noqa: E402
from segen.training import segmenter as segmenter_module  # noqa: E402
from segen_fcn.net import FCN  # noqa: E402
from segen_unet.net import UNet  # noqa: E402


def _nets():
    torch.manual_seed(0)
    return [
        UNet(3, 5, depth=2, width=4),
        FCN(3, 5, stages=3, width=4, convs=1),
        FCN(3, 5, stages=3, width=4, convs=1, skips=4, decoder=8, upsample="nearest"),
    ]


NETS = {"ids": ["unet", "fcn", "fcn-decoder"], "argvalues": [0, 1, 2]}


@pytest.mark.parametrize("make", **NETS)
def test_tiny_model_loss_falls(make):
    torch.manual_seed(0)
    net = _nets()[make]
    data = datasets.shapes(4, size=32, seed=0)
    x = torch.from_numpy(training.prepare(data.images, 3))
    y = torch.from_numpy(data.labels.astype(np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        logits = net(x)
        loss = torch.nn.functional.cross_entropy(logits, y) + training.dice_loss(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_dice_loss_perfect_and_wrong():
    y = torch.tensor([[[0, 1], [1, 0]]])
    good = torch.nn.functional.one_hot(y, 2).permute(0, 3, 1, 2).float() * 50
    assert training.dice_loss(good, y).item() < 1e-3
    # all wrong: no overlap, each class has |P| + |T| = 4 pixels, smoothed by eps=1: 1 - 1/5
    assert training.dice_loss(-good, y).item() == pytest.approx(0.8, abs=1e-4)


@pytest.mark.parametrize("make", **NETS)
def test_onnx_parity_at_several_sizes(tmp_path, make):
    net = _nets()[make].eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    path = tmp_path / "m.onnx"
    training.export_onnx(net, path, channels=3, size=32, props={"stride": net.stride})
    diff = training.parity(net, path, [(1, 32, 32), (2, 48, 64), (1, 16, 80)], channels=3)
    assert diff <= 1e-4
    import onnx

    props = {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props}
    assert props == {"segen.stride": net.stride}


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_fcn_upsampling_starts_as_interpolation(mode):
    from segen_fcn.net import _up

    x = torch.arange(12.0).reshape(1, 1, 3, 4).repeat(1, 2, 1, 1)
    x[:, 1] *= -1  # the channels are up-sampled separately
    with torch.no_grad():
        y = _up(2, 2, mode)(x)
    assert y.shape == (1, 2, 6, 8)
    if mode == "nearest":
        ref = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    else:  # bilinear at half-pixel centres, inside the border
        ref = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        y, ref = y[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1]
    torch.testing.assert_close(y, ref)


def test_fcn_decoder_width_and_arguments():
    net = FCN(3, 5, stages=3, width=4, skips=4, decoder=8)
    assert [s.out_channels for s in net.score] == [8] * 4 and net.head.out_channels == 5
    assert net(torch.zeros(2, 3, 16, 24)).shape == (2, 5, 16, 24)
    with pytest.raises(ValueError, match="upsample"):
        FCN(3, 5, upsample="cubic")
    with pytest.raises(ValueError, match="decoder"):
        FCN(3, 5, decoder=-1)


def test_narrow_convs_stay_float(tmp_path):
    import onnx

    net = FCN(3, 5, stages=3, width=8, convs=1, skips=4, decoder=8, upsample="nearest").eval()
    path = tmp_path / "m.onnx"
    training.export_onnx(net, path, channels=3, size=32)
    model = onnx.load(str(path))
    names = training.narrow_convs(model)
    by_name = {n.name: n for n in model.graph.node}
    # the 3-channel input convolution and the 8 -> 5 class head; not the 8-channel ones
    assert by_name[names[0]].input[0] == "image"
    assert len(names) == 2 and by_name[names[1]].output[0] == "logits"
    assert len(training.narrow_convs(model, min_channels=4)) == 1
    assert len(training.narrow_convs(model, min_channels=1000)) == sum(
        n.op_type in ("Conv", "ConvTranspose") for n in model.graph.node
    )


def test_stride_rule():
    assert UNet(1, 2, depth=3).stride == 8 and FCN(1, 2, stages=4).stride == 16
    with pytest.raises(ValueError, match="depth"):
        UNet(1, 2, depth=0)
    with pytest.raises(ValueError, match="stages"):
        FCN(1, 2, stages=2)


def test_train_recipe_writes_a_usable_model(tmp_path):
    from segen.onnx import DenseSegmenter
    from segen_fcn.train import train

    meta = train(
        tmp_path,
        dataset="shapes",
        epochs=2,
        size=32,
        stages=3,
        width=4,
        n_train=16,
        n_val=8,
        n_test=8,
        batch_size=8,
        progress=False,
    )
    for suffix in (".onnx", ".json", "_val.png", ".ckpt.pt", "-int8.onnx", "-int8.json"):
        assert (tmp_path / f"fcn-shapes{suffix}").is_file()
    on_disk = json.loads((tmp_path / "fcn-shapes.json").read_text())
    assert on_disk["sha256"] == meta["sha256"] and on_disk["stride"] == 8
    assert on_disk["training"]["command"].startswith("segen train fcn --dataset shapes --epochs 2")
    assert on_disk["metrics"]["onnx_parity_max_abs_diff"] <= 1e-4
    assert len(on_disk["history"]) and on_disk["classes"] == list(datasets.SHAPE_CLASSES)
    q = json.loads((tmp_path / "fcn-shapes-int8.json").read_text())
    # width 4: the narrow first stage and the 5-class scores stay float, the 8- and 16-channel convs are int8
    assert q["quantization"]["format"] == "QDQ" and "/encoder.0.0/Conv" in q["quantization"]["float_nodes"]
    assert "/encoder.2.3/Conv" not in q["quantization"]["float_nodes"]
    # resuming a finished run trains no more and writes the same model
    small = dict(size=32, stages=3, width=4, n_train=16, n_val=8, n_test=8, batch_size=8)  # noqa: C408
    again = train(tmp_path, dataset="shapes", epochs=2, progress=False, int8=False, resume=True, **small)
    assert again["history"]["resumed_after_epoch"] == 2
    assert again["metrics"]["held_out"] == meta["metrics"]["held_out"]
    assert again["training"] == meta["training"]
    seg = DenseSegmenter(tmp_path / "fcn-shapes.onnx")
    img = datasets.shapes(1, size=40, seed=3).images[0]  # 40 is not a multiple of the stride 8: padded
    labels = seg.segment(img)
    assert labels.shape == (40, 40) and labels.dtype == np.int32
    assert labels.min() >= 0 and labels.max() < 5
    # a corrupted model file is refused by its sha256
    data = bytearray((tmp_path / "fcn-shapes.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "fcn-shapes.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        DenseSegmenter(tmp_path / "fcn-shapes.onnx")


def test_train_recipe_checks_size(tmp_path):
    from segen_unet.train import train

    with pytest.raises(ValueError, match="size"):
        train(tmp_path, dataset="shapes", epochs=1, size=36, depth=3, progress=False)


def test_train_cli(tmp_path):
    from click.testing import CliRunner
    from segen.cli import cli

    res = CliRunner().invoke(
        cli,
        [
            "train",
            "unet",
            "--dataset",
            "shapes",
            "--epochs",
            "1",
            "--size",
            "32",
            "--depth",
            "2",
            "--width",
            "4",
            "--n-train",
            "8",
            "--n-val",
            "4",
            "--n-test",
            "4",
            "--progress",
            "false",
            "--int8",
            "false",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "unet-shapes.json").read_text())
    assert meta["architecture"] == {"type": "unet", "depth": 2, "width": 4, "skips": True}


def test_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path, monkeypatch):
    data = datasets.shapes(24, size=32, seed=0)
    tr = datasets.SegmentationData(data.images[:16], data.labels[:16], data.classes)
    va = datasets.SegmentationData(data.images[16:], data.labels[16:], data.classes)
    kw = dict(  # noqa: C408
        channels=3, epochs=3, seed=0, batch_size=8, patience=10, progress=False, threads=1
    )

    def make():
        torch.manual_seed(0)
        return FCN(3, 5, stages=3, width=4, convs=1, skips=4, decoder=4)

    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    ref = make()
    h_ref = training.train_segmenter(ref, tr, va, out=tmp_path / "a", name="m", **kw)
    assert "resumed_after_epoch" not in h_ref and (tmp_path / "a" / "m.last.pt").is_file()

    real, calls = segmenter_module._augment, []

    def interrupted(*args):  # two steps per epoch: stop in the first step of the second epoch
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(segmenter_module, "_augment", interrupted)
    with pytest.raises(KeyboardInterrupt):
        training.train_segmenter(make(), tr, va, out=tmp_path / "b", name="m", **kw)
    monkeypatch.setattr(segmenter_module, "_augment", real)
    with pytest.raises(ValueError, match="settings differ"):
        other = {**kw, "lr": 1e-2}
        training.train_segmenter(make(), tr, va, out=tmp_path / "b", name="m", resume=True, **other)
    net = make()
    h = training.train_segmenter(net, tr, va, out=tmp_path / "b", name="m", resume=True, **kw)
    assert h["resumed_after_epoch"] == 1
    assert h["loss"] == h_ref["loss"] and h["val_miou"] == h_ref["val_miou"]
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(net.state_dict()[key], value, rtol=0, atol=0)
