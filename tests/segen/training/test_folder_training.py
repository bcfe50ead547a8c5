"""``segen train unet|fcn --data DIR``: training on a folder of images + masks written by the test."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import onnxruntime as ort  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from segen.cli import cli  # noqa: E402
from segen.errors import DataError  # noqa: E402
from segen.io import imread as segen_io_read  # noqa: E402
from segen.io import imwrite  # noqa: E402
from segen.training import augment  # noqa: E402
from segen_unet.train import train as train_unet  # noqa: E402
from skimage.exposure import equalize_hist  # noqa: E402


def _folder(root, n=24, seed=0):
    """Bright discs (class 1) and dark squares (class 2) on a mid-grey noisy background, sizes vary."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        h, w = rng.integers(28, 44, 2)
        mask = np.zeros((h, w), np.uint8)
        rr, cc = np.mgrid[:h, :w]
        r, c = rng.integers(8, h - 8), rng.integers(8, w - 8)
        mask[(rr - r) ** 2 + (cc - c) ** 2 < 36] = 1
        r2, c2 = rng.integers(0, h - 8), rng.integers(0, w - 8)
        mask[r2 : r2 + 7, c2 : c2 + 7] = 2
        img = np.choose(mask, [120, 220, 30]) + rng.normal(0, 12, (h, w))
        imwrite(root / "images" / f"im{i:02d}.png", np.clip(img, 0, 255).astype(np.uint8))
        imwrite(root / "masks" / f"im{i:02d}.png", mask)
    (root / "classes.json").write_text(json.dumps(["background", "disc", "square"]))


KW = dict(
    depth=2,
    width=8,
    size=24,
    epochs=3,
    batch_size=4,
    lr=1e-2,
    photometric=False,
    progress=False,
    threads=1,
    device="cpu",
)


def test_train_on_a_folder(tmp_path):
    _folder(tmp_path / "data")
    meta = train_unet(tmp_path / "out", data=str(tmp_path / "data"), **KW)
    hist = meta["history"]
    assert hist["loss_last"] < hist["loss_first"]
    assert hist["val_miou_best"] > 1 / 3 + 0.1  # above chance for 3 classes
    assert meta["classes"] == ["background", "disc", "square"]
    t = meta["training"]
    assert t["data_fingerprint"]["file_count"] == 48 and len(t["data_fingerprint"]["sha256"]) == 64
    assert t["split"]["train"] + t["split"]["val"] + t["split"]["test"] == 24
    assert t["command"].startswith("segen train unet --data ")
    held = meta["metrics"]["held_out"]
    assert held["images"] == t["split"]["test"] and held["pixel_accuracy"] > 0.5
    out = tmp_path / "out"
    name = meta["name"]
    for suffix in (".onnx", ".json", "-int8.onnx", "-int8.json", "_val.png", "_split.json", ".ckpt.pt"):
        assert (out / f"{name}{suffix}").is_file(), suffix
    # ONNX equals torch on an image of another size (dynamic sizes)
    from segen_unet.net import UNet

    net = UNet(1, 3, depth=2, width=8)
    net.load_state_dict(torch.load(out / f"{name}.ckpt.pt", weights_only=True))
    net.eval()
    x = np.random.default_rng(0).normal(size=(1, 1, 36, 44)).astype(np.float32)
    sess = ort.InferenceSession(str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    assert np.abs(sess.run(None, {"image": x})[0] - ref).max() <= 1e-4
    # the same seed gives the same model on the same device
    again = train_unet(tmp_path / "out2", data=str(tmp_path / "data"), int8=False, **KW)
    assert again["history"]["loss_last"] == hist["loss_last"]


def test_bad_folder_stops_with_the_file_or_skips(tmp_path):
    _folder(tmp_path / "data", n=12)
    p = tmp_path / "data" / "images" / "im03.png"
    p.write_bytes(p.read_bytes()[:50])
    with pytest.raises(DataError, match=r"im03\.png: unreadable"):
        train_unet(tmp_path / "out", data=str(tmp_path / "data"), **{**KW, "epochs": 1, "int8": False})
    with pytest.warns(UserWarning, match="im03.png"):
        meta = train_unet(
            tmp_path / "out", data=str(tmp_path / "data"), skip_bad=True, **{**KW, "epochs": 1, "int8": False}
        )
    assert meta["training"]["skipped"] >= 1


def test_cli_help_lists_options_and_refuses_unknown(tmp_path):
    r = CliRunner().invoke(cli, ["train", "unet", "--help"])
    assert r.exit_code == 0
    for opt in ("--data", "--epochs", "--photometric", "--device", "--depth", "[default: 30]"):
        assert opt in r.output
    r = CliRunner().invoke(cli, ["train", "fcn", "--help"])
    assert "--stages" in r.output and "--depth" not in r.output
    r = CliRunner().invoke(cli, ["train", "unet", "--epoch", "3", "-o", str(tmp_path)])
    assert r.exit_code == 2 and "unknown option --epoch" in r.output
    r = CliRunner().invoke(cli, ["train", "unet", "--epochs", "three", "-o", str(tmp_path)])
    assert r.exit_code == 2 and "--epochs" in r.output


def test_cli_trains_on_a_folder_and_lists_what_it_wrote(tmp_path):
    _folder(tmp_path / "data", n=12)
    args = ["train", "unet", "--data", str(tmp_path / "data"), "-o", str(tmp_path / "o"), "--epochs", "1"]
    args += ["--depth", "2", "--width", "4", "--size", "24", "--progress", "false", "--int8", "false"]
    r = CliRunner().invoke(cli, args + ["--device", "cpu", "--threads", "1"])
    assert r.exit_code == 0, r.output
    assert "wrote:" in r.output and "unet-data.onnx" in r.output and "held-out: pixel_accuracy" in r.output
    # a second run into the same folder rewrites the files: they are listed again, an unrelated one is not
    (tmp_path / "o" / "notes.txt").write_text("mine")
    r = CliRunner().invoke(cli, args + ["--device", "cpu", "--threads", "1"])
    assert r.exit_code == 0 and "unet-data.onnx" in r.output and "notes.txt" not in r.output


def test_photometric_augmentation_and_equalize_match_references():
    x = torch.rand(1, 40, 50, generator=torch.Generator().manual_seed(0)) ** 2
    ref = equalize_hist(x.numpy()[0], nbins=256)
    got = augment.equalize(x)[0].numpy()
    assert np.abs(got - ref).mean() < 4e-3 and np.abs(got - ref).max() < 0.03  # skimage bins [min, max]
    aug = augment.Augmentation()
    batch = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    a = augment.photometric(batch, aug, torch.Generator().manual_seed(2))
    b = augment.photometric(batch, aug, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, batch) and a.min() >= 0 and a.max() <= 1
    img = np.arange(30 * 20, dtype=np.float32).reshape(30, 20, 1)
    mask = np.arange(30 * 20).reshape(30, 20) % 7
    xc, yc = augment.random_crop(img, mask, 16, np.random.default_rng(0), scale=1.0, ignore=255)
    # without scaling the crop is a window of the image and its mask, aligned
    np.testing.assert_array_equal(yc.numpy(), (xc[0].numpy().astype(int)) % 7)
    xs, ys = augment.random_crop(
        img[:10, :10], mask[:10, :10], 16, np.random.default_rng(0), scale=1.0, ignore=255
    )
    assert xs.shape == (1, 16, 16) and (ys == 255).sum() == 16 * 16 - 100


def test_crops_are_cut_before_the_float_conversion():
    """A window of an 8- or 16-bit image converted alone equals the window of the image converted whole."""
    from segen.data import to_float

    rng = np.random.default_rng(3)
    for dtype in (np.uint8, np.uint16):
        img = rng.integers(0, np.iinfo(dtype).max, (50, 40, 1), endpoint=True).astype(dtype)
        mask = rng.integers(0, 3, (50, 40))
        for scale in (1.0, 1.5):
            a = augment.random_crop(img, mask, 32, np.random.default_rng(7), scale=scale, ignore=255)
            b = augment.random_crop(
                to_float(img), mask, 32, np.random.default_rng(7), scale=scale, ignore=255
            )
            assert a[0].dtype == torch.float32 and torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_crops_per_image_share_a_decode_and_a_batch(tmp_path):
    from segen.data import SegmentationFolder
    from segen.training.folder import FolderCrops, FolderSource

    _folder(tmp_path / "data", n=10)
    folder = SegmentationFolder(tmp_path / "data", val_fraction=0.0, test_fraction=0.0)
    one = FolderCrops(folder, "train", size=16, scale=1.25, seed=0)
    src = FolderSource(folder, size=16, stride=4, scale=1.25, seed=0, crops_per_image=2)
    batches = src.batches(0, 4, torch.Generator().manual_seed(0))
    assert len(batches) == 5  # 10 images, 2 per batch of 4 crops
    got = list(batches)
    assert [len(y) for _, y in got] == [4] * 5
    for (x, y), items in zip(got, batches.batches):
        for k, (epoch, i) in enumerate(items):
            # the first crop of each image is the one a single-crop run cuts; the second is another window
            x1, y1 = one[(epoch, i)][0]
            assert torch.equal(x[2 * k], x1) and torch.equal(y[2 * k], y1)
            assert not torch.equal(x[2 * k + 1], x1)
    assert src.settings()["crops_per_image"] == 2
    with pytest.raises(ValueError, match="crops_per_image"):
        src.batches(0, 5, torch.Generator())
    with pytest.raises(ValueError, match="crops_per_image"):
        train_unet(tmp_path / "out", data=str(tmp_path / "data"), crops_per_image=3, **KW)


@pytest.mark.parametrize(
    ("side", "size", "batch", "expected"),
    [
        (512, 64, 16, 4),  # 64 crop areas: one crop per 16
        (1024, 64, 16, 8),  # 256 crop areas, but at most half a batch
        (512, 128, 16, 1),  # up to 8x the crop's side... 16 crop areas: 1
        (40, 24, 4, 1),  # images barely larger than a crop
        (512, 64, 6, 3),  # 4 does not divide 6: the next divisor below
    ],
)
def test_automatic_crops_per_image(tmp_path, side, size, batch, expected):
    from segen.data import SegmentationFolder
    from segen.training.folder import auto_crops_per_image

    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(3):
        imwrite(root / "images" / f"im{i}.png", np.zeros((side, side), np.uint8))
        mask = np.zeros((side, side), np.uint8)
        mask[: side // 2] = 1
        mask[:3, :3] = 255  # ignored pixels count as image area too
        imwrite(root / "masks" / f"im{i}.png", mask)
    folder = SegmentationFolder(root, val_fraction=0.0, test_fraction=0.0)
    assert auto_crops_per_image(folder, size, batch) == expected


def test_the_automatic_crop_count_is_recorded_and_an_explicit_one_is_part_of_the_command(tmp_path):
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):  # 136² images, 24² crops: 32 crop areas, 2 crops per image read by default
        mask = (rng.random((136, 136)) < 0.5).astype(np.uint8)
        imwrite(root / "images" / f"im{i}.png", (mask * 200 + 20).astype(np.uint8))
        imwrite(root / "masks" / f"im{i}.png", mask)
    kw = {**KW, "epochs": 1, "int8": False}
    auto = train_unet(tmp_path / "a", data=str(root), **kw)
    assert "crops-per-image" not in auto["training"]["command"]
    assert auto["training"]["crops_per_image"] == 2
    one = train_unet(tmp_path / "b", data=str(root), crops_per_image=1, **kw)
    assert "--crops-per-image 1" in one["training"]["command"]
    assert one["training"]["crops_per_image"] == 1


def test_cuda_runs_use_deterministic_kernels():
    from segen.training.loop import deterministic_kernels

    cudnn = torch.backends.cudnn
    before = cudnn.deterministic, cudnn.benchmark
    cudnn.benchmark = True
    try:
        with deterministic_kernels(torch.device("cuda")):
            assert cudnn.deterministic and not cudnn.benchmark
        assert (cudnn.deterministic, cudnn.benchmark) == (before[0], True)
        with deterministic_kernels(torch.device("cpu")):
            assert (cudnn.deterministic, cudnn.benchmark) == (before[0], True)
    finally:
        cudnn.deterministic, cudnn.benchmark = before


def test_fcn_on_an_rgb_folder_with_several_crops_per_image(tmp_path):
    from segen_fcn.net import FCN
    from segen_fcn.train import train as train_fcn

    _folder(tmp_path / "grey", n=12)
    root = tmp_path / "rgb"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    tint = np.array([1.0, 0.8, 0.5])
    for p in sorted((tmp_path / "grey" / "images").iterdir()):
        grey = segen_io_read(p)
        imwrite(root / "images" / p.name, (grey[..., None] * tint).astype(np.uint8))
        (root / "masks" / p.name).write_bytes((tmp_path / "grey" / "masks" / p.name).read_bytes())
    kw = {**KW, "epochs": 2, "size": 16, "crops_per_image": 2, "int8": False}
    del kw["depth"], kw["width"]
    meta = train_fcn(tmp_path / "out", data=str(root), stages=3, width=4, **kw)
    assert meta["channels"] == 3 and meta["classes"] == ["class0", "class1", "class2"]
    assert "--crops-per-image 2" in meta["training"]["command"]
    net = FCN(3, 3, stages=3, width=4)
    net.load_state_dict(torch.load(tmp_path / "out" / f"{meta['name']}.ckpt.pt", weights_only=True))
    net.eval()
    x = np.random.default_rng(1).normal(size=(1, 3, 24, 40)).astype(np.float32)
    sess = ort.InferenceSession(
        str(tmp_path / "out" / f"{meta['name']}.onnx"), providers=["CPUExecutionProvider"]
    )
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    assert np.abs(sess.run(None, {"image": x})[0] - ref).max() <= 1e-4


def test_resumed_folder_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, monkeypatch):
    """Crops drawn from (seed, epoch, file) and the batch generator saved in the checkpoint: a run stopped
    in its second epoch and resumed ends with the same weights, photometric augmentation included."""
    from segen import training
    from segen.data import SegmentationFolder
    from segen.training import segmenter as segmenter_module
    from segen.training.folder import FolderSource
    from segen_unet.net import UNet

    _folder(tmp_path / "data", n=12)

    def run(out, **kw):
        folder = SegmentationFolder(tmp_path / "data", val_fraction=0.25, test_fraction=0.0)
        src = FolderSource(folder, size=16, stride=4, scale=1.25, seed=0, crops_per_image=2)
        torch.manual_seed(0)
        net = UNet(1, 3, depth=2, width=4)
        hist = training.train_segmenter(
            net,
            src,
            epochs=3,
            seed=0,
            batch_size=4,
            out=out,
            name="m",
            progress=False,
            threads=1,
            augment=augment.Augmentation(),
            device="cpu",
            **kw,
        )
        return net, hist

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    ref, h_ref = run(tmp_path / "a")
    real, calls = segmenter_module._augment, []

    def interrupted(*args):  # 9 training files, 2 crops each, batches of 4: 5 steps per epoch
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(segmenter_module, "_augment", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b")
    monkeypatch.setattr(segmenter_module, "_augment", real)
    net, h = run(tmp_path / "b", resume=True)
    assert h["resumed_after_epoch"] == 1
    assert h["loss"] == h_ref["loss"] and h["val_miou"] == h_ref["val_miou"]
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(net.state_dict()[key], value, rtol=0, atol=0)
