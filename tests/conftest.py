"""Shared fixtures: real photographs from scikit-image's bundled data, random arrays, a user model folder."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def camera() -> np.ndarray:
    """512x512 uint8 grey photograph."""
    from skimage import data

    return data.camera()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """512x512x3 uint8 RGB photograph."""
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """400x600x3 uint8 RGB photograph."""
    from skimage import data

    return data.coffee()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def user_model_dir(tmp_path, monkeypatch):
    """An empty user model folder (``SEGEN_MODEL_DIR``; the real per-user folder kept out), with the plugins
    registered afresh when the test first looks a model up, and again after it."""
    from segen import plugins

    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("SEGEN_MODEL_DIR", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    plugins.reset()
    yield folder
    monkeypatch.delenv("SEGEN_MODEL_DIR")
    plugins.reset()
