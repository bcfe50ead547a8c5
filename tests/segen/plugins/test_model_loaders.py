"""Model loaders (``register_model_loaders``): a sidecar's ``loader`` names the plugin code that makes the
model when it is given by its path or kept in a user model folder."""

from __future__ import annotations

import json
import shutil
import types

import numpy as np
import pytest
import segen
from click.testing import CliRunner
from helpers import ROOT
from segen import plugins
from segen.cli import cli
from segen.errors import ModelError, PluginError
from tiny_models import make_segmenter_model


@pytest.fixture
def acme_loader():
    """A plugin whose loader makes the tiny segmenter with its labels shifted by 10 (so its use shows)."""
    calls = []
    mod = types.ModuleType("acme_loader_plugin")

    @segen.hookimpl
    def register_model_loaders(register):
        def load(path, **options):
            calls.append((str(path), options))
            inner = segen.onnx.OnnxSegmenter(path)
            return segen.FunctionSegmenter(lambda img: inner.segment(img) + 10, name="acme")

        register("acme", load, summary="the tests' loader")
        register("acme-broken", lambda path, **options: object(), summary="returns no segmenter")

        def leave(path, **options):
            raise SystemExit(3)

        register("acme-exit", leave, summary="ends the program")

    mod.register_model_loaders = register_model_loaders
    plugins.register_plugin(mod, "acme")  # loads the plugins: a user model folder is listed now
    yield calls
    plugins.unregister_plugin("acme")


def _with_loader(path, loader):
    side = path.with_suffix(".json")
    side.write_text(json.dumps({**json.loads(side.read_text()), "loader": loader}))
    return path


@pytest.fixture
def folder_model(user_model_dir):
    """A tiny segmenter whose sidecar names the loader "acme", in the user model folder before the plugins
    load."""
    return _with_loader(make_segmenter_model(user_model_dir, "mine"), "acme")


def test_a_sidecar_loader_makes_the_model_by_path_and_from_the_user_folder(folder_model, acme_loader):
    img = np.full((16, 16), 0.9, np.float32)
    path = folder_model
    assert (segen.get_segmenter(str(path), threads=1).segment(img) == 11).all()
    assert acme_loader[-1] == (str(path), {"threads": 1})
    assert "mine" in segen.list_segmenters()
    assert (segen.get_segmenter("mine").segment(img) == 11).all()
    report = {p["name"]: p for p in plugins.plugin_report()}
    assert report["acme"]["provides"] == {"loaders": ["acme", "acme-broken", "acme-exit"]}


def test_a_loader_no_plugin_registers_or_a_bad_result_is_a_model_error(acme_loader, tmp_path):
    path = _with_loader(make_segmenter_model(tmp_path, "mine"), "nowhere")
    with pytest.raises(ModelError, match="model loader 'nowhere' .* no installed plugin registers"):
        segen.get_segmenter(str(path))
    _with_loader(path, "acme-broken")
    with pytest.raises(ModelError, match="returned object, which has no segment"):
        segen.get_segmenter(str(path))
    _with_loader(path, "acme-exit")
    with pytest.raises(PluginError, match="model loader 'acme:acme-exit' .*mine.onnx.* raised SystemExit"):
        segen.get_segmenter(str(path))
    _with_loader(path, 3)
    with pytest.raises(ModelError, match="`loader` must be a string"):
        segen.get_segmenter(str(path))


def test_a_nuclei_model_by_path_and_from_the_user_folder_keeps_its_watershed(tmp_path, user_model_dir):
    shipped = ROOT / "plugins" / "segen_nuclei" / "models"
    for name in ("unet-nuclei-int8.onnx", "unet-nuclei-int8.json"):
        shutil.copy(shipped / name, user_model_dir / name.replace("unet-nuclei", "my-nuclei"))
    img = segen.data.nuclei(1, size=96, seed=3).images[0]
    want = segen.get_segmenter("unet-nuclei-int8").segment(img)
    assert want.max() > 3  # instances, from the watershed
    by_path = segen.get_segmenter(str(user_model_dir / "my-nuclei-int8.onnx"))
    np.testing.assert_array_equal(by_path.segment(img), want)
    assert "my-nuclei-int8" in segen.list_segmenters()
    assert segen.get_segmenter("my-nuclei-int8").instances  # and `segen list` marks it "(instances)"
    listed = CliRunner().invoke(cli, ["list"]).output.splitlines()
    assert "(instances)" in next(line for line in listed if line.strip().startswith("my-nuclei-int8 "))
    np.testing.assert_array_equal(segen.get_segmenter("my-nuclei-int8").segment(img), want)
    # without the loader the watershed cannot be found: refused, not a dense segmenter's wrong labels
    side = user_model_dir / "my-nuclei-int8.json"
    meta = json.loads(side.read_text())
    del meta["loader"]
    side.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="names no `loader`"):
        segen.get_segmenter(str(user_model_dir / "my-nuclei-int8.onnx"))
