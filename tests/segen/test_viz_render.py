"""segen.viz results for people: masks, cut-outs, overlay options, legends and render()."""

from __future__ import annotations

import numpy as np
import pytest
from segen import io, viz
from segen.errors import InvalidArgumentError


@pytest.fixture
def scene(rng):
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    labels = np.zeros((40, 60), np.int32)
    labels[5:20, 5:25] = 1
    labels[22:35, 10:50] = 2
    labels[2:12, 40:58] = 5
    return image, labels


def test_mask_is_the_foreground_or_the_chosen_classes(scene):
    _, labels = scene
    np.testing.assert_array_equal(viz.mask(labels), labels > 0)
    np.testing.assert_array_equal(viz.mask(labels, foreground=2), labels == 2)
    np.testing.assert_array_equal(viz.mask(labels, foreground=[1, 5, 7]), np.isin(labels, [1, 5]))
    for bad in ([], -1, [1.5], "cat"):
        with pytest.raises((ValueError, TypeError), match="`foreground`"):
            viz.mask(labels, foreground=bad)


def test_cutout_alpha_equals_the_mask_and_keeps_the_colours(scene, tmp_path):
    image, labels = scene
    out = viz.cutout(image, labels, foreground=[2, 5])
    assert out.shape == (40, 60, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 3], np.isin(labels, [2, 5]) * 255)
    np.testing.assert_array_equal(out[..., :3], image)
    # written and read back through a format with alpha, the transparency survives exactly
    io.imwrite(tmp_path / "cut.webp", out)
    np.testing.assert_array_equal(io.imread(tmp_path / "cut.webp"), out)
    # grey images are repeated into RGB; an RGBA image's own transparency is kept where lower
    grey = viz.cutout(image[..., 0], labels)
    np.testing.assert_array_equal(grey[..., 1], image[..., 0])
    rgba = np.concatenate([image, np.full((40, 60, 1), 100, np.uint8)], axis=-1)
    np.testing.assert_array_equal(viz.cutout(rgba, labels)[..., 3], np.where(labels > 0, 100, 0))


def test_overlay_without_boundaries_is_the_plain_blend(scene):
    image, labels = scene
    colours = viz.label2rgb(labels).astype(float)
    blend = np.where((labels > 0)[..., None], 0.7 * image + 0.3 * colours, image)
    plain = viz.overlay(image, labels, alpha=0.3, boundary_color=None)
    np.testing.assert_allclose(plain, blend, atol=0.51)  # float32 arithmetic, rounded
    lined = viz.overlay(image, labels, alpha=0.3)
    edge = viz.boundaries(labels)
    assert (lined[edge] == (255, 255, 0)).all()
    np.testing.assert_array_equal(lined[~edge], plain[~edge])
    np.testing.assert_array_equal(viz.overlay(image, labels, alpha=0, boundary_color=None), image)


def test_legend_shows_each_class_colour_beside_the_picture(scene):
    image, labels = scene
    picture = viz.overlay(image, labels)
    out = viz.add_legend(picture, labels, names=["background", "cat", "dog"])
    h, w = picture.shape[:2]
    assert out.shape[1] > w and out.shape[0] >= h
    np.testing.assert_array_equal(out[:h, :w], picture)  # the picture is not drawn over
    panel = out[:, w:].reshape(-1, 3)
    for value in (1, 2, 5):  # a swatch of each class colour, as label2rgb colours it
        colour = viz.label2rgb(np.array([[value]]))[0, 0]
        assert (panel == colour).all(axis=1).sum() >= 25, value
    absent = viz.label2rgb(np.array([[3]]))[0, 0]
    assert (panel == absent).all(axis=1).sum() == 0
    assert (panel.max(axis=1) < 80).sum() > 20  # dark text was written


def test_legend_grows_downwards_and_caps_its_rows():
    labels = np.arange(1, 101, dtype=np.int32).reshape(10, 10)  # 100 classes on a tiny image
    out = viz.add_legend(np.zeros((10, 10, 3), np.uint8), labels)
    assert out.shape[0] > 10  # rows below the picture's height: white under the picture
    assert (out[10:, :10] == 255).all()
    shown = {v for v in range(1, 101) if (out == viz.label2rgb(np.array([[v]]))[0, 0]).all(-1).sum() > 20}
    assert len(shown) == viz.LEGEND_ROWS - 1  # the rest counted in one row


def test_render_kinds(scene):
    image, labels = scene
    out = {kind: viz.render(image, labels, kind) for kind in viz.RENDER_KINDS}
    assert out["labels"].dtype == np.int32
    np.testing.assert_array_equal(out["labels"], labels)
    np.testing.assert_array_equal(out["mask"], (labels > 0) * 255)
    assert out["mask"].dtype == np.uint8
    np.testing.assert_array_equal(out["cutout"], viz.cutout(image, labels))
    np.testing.assert_array_equal(out["overlay"], viz.overlay(image, labels))
    no_lines = viz.render(image, labels, boundaries=False, alpha=0.6)
    np.testing.assert_array_equal(no_lines, viz.overlay(image, labels, alpha=0.6, boundary_color=None))
    with_legend = viz.render(image, labels, legend=True, names=["", "a", "b"])
    assert with_legend.shape[1] > 60
    inst = viz.render(image, labels, legend=True, instances=True)
    np.testing.assert_array_equal(inst[:, :60], viz.overlay(image, labels, instances=True))
    with pytest.raises(InvalidArgumentError, match="`kind` must be one of 'labels'"):
        viz.render(image, labels, "outline")
    with pytest.raises(InvalidArgumentError, match="`alpha`"):
        viz.render(image, labels, alpha=2)
    with pytest.raises(InvalidArgumentError, match="`labels` must have the image's shape"):
        viz.render(image, labels[:10], "cutout")
    for names in ("cat", np.array(5), 3):
        with pytest.raises(TypeError, match="`names` must be a sequence of class names"):
            viz.render(image, labels, legend=True, names=names)


# ---- confusion_picture (segen evaluate --picture, issue 11) ----------------------------------------------


def _cells_of(picture, colour):
    return int(np.all(picture == np.array(colour, np.uint8), axis=-1).sum())


def test_confusion_picture_shades_each_cell_by_its_rows_share():
    cell = 40
    full = (24, 64, 140)  # 100 % of a row: the darkest blue
    half = tuple(int(round(255 - 0.5 * (255 - b))) for b in full)
    pic = viz.confusion_picture(np.array([[1, 1, 0], [0, 7, 0]]), ["a", "b"], cell=cell)
    assert pic.dtype == np.uint8 and pic.ndim == 3 and pic.shape[2] == 3
    # two cells of 50 % in row a, one of 100 % in row b (text and borders cover part of each cell)
    assert 2 * 0.5 * cell**2 < _cells_of(pic, half) <= 2 * cell**2
    assert 0.5 * cell**2 < _cells_of(pic, full) <= cell**2
    # a third column is "unmatched": the picture is wider than that of the square matrix
    square = viz.confusion_picture(np.array([[1, 1], [0, 7]]), ["a", "b"], cell=cell)
    assert pic.shape[1] - square.shape[1] == cell and pic.shape[0] >= square.shape[0]


def test_confusion_picture_bad_input():
    with pytest.raises(InvalidArgumentError, match=r"\(K, K \+ 1\)"):
        viz.confusion_picture(np.zeros((2, 4), int))
    with pytest.raises(InvalidArgumentError, match="counts"):
        viz.confusion_picture(np.zeros((2, 2)))
    with pytest.raises(InvalidArgumentError, match="64"):
        viz.confusion_picture(np.zeros((65, 65), int))
    with pytest.raises(InvalidArgumentError, match="cell"):
        viz.confusion_picture(np.zeros((2, 2), int), cell=4)
