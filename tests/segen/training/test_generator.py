"""segen.gen_training: generator export, parity, sidecar JSON (tiny torch models; needs the train extra)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from segen.onnx import OnnxGenerator  # noqa: E402
from segen.training import generator as gen_training  # noqa: E402


class Tiny(torch.nn.Module):
    def __init__(self, latent=8, classes=None):
        super().__init__()
        self.embed = torch.nn.Embedding(classes, latent) if classes else None
        self.fc = torch.nn.Linear(latent, 4 * 4 * 4)
        self.up = torch.nn.ConvTranspose2d(4, 1, 4, 2, 1)

    def forward(self, z, labels=None):
        if self.embed is not None:
            z = z * self.embed(labels)
        return torch.tanh(self.up(self.fc(z).view(-1, 4, 4, 4)))


@pytest.mark.parametrize("classes", [None, 3])
def test_export_parity_json_and_load(tmp_path, classes):
    torch.manual_seed(0)
    model = Tiny(classes=classes)
    path = tmp_path / "tiny.onnx"
    gen_training.export_generator(
        model, path, latent_size=8, num_classes=classes, props={"task": "generation"}
    )
    assert gen_training.generator_parity(model, path, latent_size=8, num_classes=classes) <= 1e-5
    meta = gen_training.write_generator_json(
        path,
        name="tiny",
        summary="t",
        latent_size=8,
        num_classes=classes,
        image_size=8,
        architecture={"type": "tiny"},
        training={"seed": 0},
        metrics={},
        parameters=1,
    )
    assert meta["sha256"] and (tmp_path / "tiny.json").is_file()
    gen = OnnxGenerator(path)
    z = np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32)
    labels = None if classes is None else [0, 1, 2, 0, 1]
    out = gen.generate(5, z=z, labels=labels)
    with torch.no_grad():
        args = (torch.from_numpy(z),) + (() if classes is None else (torch.tensor(labels),))
        ref = model(*args).numpy()[:, 0]
    want = np.round(np.clip((ref + 1) / 2, 0, 1) * 255)
    assert out.shape == (5, 8, 8) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - want).max() <= 1  # float rounding at .5 only
    np.testing.assert_array_equal(
        gen.generate(5, seed=3, labels=labels), gen.generate(5, seed=3, labels=labels)
    )


def test_to_tensor_and_checkpoint_roundtrip(tmp_path):
    imgs = np.array([[[0, 255], [51, 102]]], np.uint8)
    t = gen_training.to_tensor(imgs)
    assert t.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(t.numpy().ravel(), [-1, 1, -0.6, -0.2], atol=1e-6)
    np.testing.assert_allclose(
        gen_training.to_tensor(imgs, (0, 1)).numpy().ravel(), [0, 1, 0.2, 0.4], atol=1e-6
    )
    a, b = Tiny(), Tiny()
    opt = torch.optim.Adam(a.parameters())
    gen_training.save_checkpoint(tmp_path / "c.pt", epoch=4, g=a, opt_g=opt)
    assert gen_training.load_checkpoint(tmp_path / "c.pt", g=b) == 4
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
