"""segen.viz: display scaling, label colours, boundaries, overlays, image grids and contact sheets, checked
against hand-made references."""

from __future__ import annotations

import numpy as np
import pytest
from segen.errors import InvalidArgumentError
from segen.viz import boundaries, contact_sheet, image_grid, label2rgb, overlay, to_uint8

# ---- to_uint8 ----------------------------------------------------------------------------------------------


def test_to_uint8_bool_and_uint8():
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(to_uint8(mask), [[255, 0], [0, 255]])
    assert to_uint8(mask).dtype == np.uint8
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert to_uint8(img) is img  # already for display: not rescaled, not copied


def test_to_uint8_min_max_without_percentile():
    a = np.arange(201, dtype=np.float64) * 0.5 - 10  # -10 .. 90
    expected = np.round(np.arange(201) / 200 * 255).astype(np.uint8)
    np.testing.assert_array_equal(to_uint8(a, percentile=0), expected)
    np.testing.assert_array_equal(to_uint8(np.arange(201, dtype=np.uint16), percentile=0), expected)


def test_to_uint8_is_robust_to_outliers():
    a = np.concatenate([np.linspace(0, 1, 1000), [1e9]])
    out = to_uint8(a)  # default: 0.5 .. 99.5 percentiles
    lo, hi = np.percentile(a, [0.5, 99.5])
    assert hi < 2  # the outlier does not stretch the range
    np.testing.assert_array_equal(out, np.round(np.clip((a - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8))
    assert out[-1] == 255 and out[0] == 0 and 120 <= out[500] <= 135


def test_to_uint8_non_finite_and_constant():
    a = np.array([0.0, np.nan, 1.0, np.inf, -np.inf, 0.5])
    np.testing.assert_array_equal(to_uint8(a, percentile=0), [0, 0, 255, 255, 0, 128])
    assert not to_uint8(np.full((2, 2), np.nan)).any()
    np.testing.assert_array_equal(to_uint8(np.full((3, 3), 7.0)), np.zeros((3, 3), np.uint8))


# ---- label2rgb ---------------------------------------------------------------------------------------------


def test_label2rgb_counts_match_a_hand_count():
    labels = np.array(
        [
            [0, 0, 1, 1, 1],
            [2, 2, 1, 3, 3],
            [2, 0, 0, 3, 7],
        ],
        np.int32,
    )
    rgb = label2rgb(labels)
    assert rgb.shape == (3, 5, 3) and rgb.dtype == np.uint8
    colours, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
    by_colour = {tuple(c): int(n) for c, n in zip(colours, counts)}
    # background: black, 4 pixels; labels 1, 2, 3: 4, 3, 3 pixels; label 7: 1 pixel; 5 colours in all
    assert by_colour[(0, 0, 0)] == 4
    assert sorted(by_colour.values()) == [1, 3, 3, 4, 4]
    for value, n in ((1, 4), (2, 3), (3, 3), (7, 1)):
        (colour,) = {tuple(c) for c in rgb[labels == value]}
        assert colour != (0, 0, 0) and by_colour[colour] == n


def test_label2rgb_colours_are_fixed_per_label_and_distinct():
    labels = np.arange(60, dtype=np.int32).reshape(6, 10)
    rgb = label2rgb(labels)
    assert len({tuple(c) for c in rgb.reshape(-1, 3)}) == 60  # 60 different colours
    # a label's colour does not depend on the other labels in the image
    for value in (1, 5, 59):
        np.testing.assert_array_equal(label2rgb(np.array([[value]]))[0, 0], rgb.reshape(-1, 3)[value])
    np.testing.assert_array_equal(label2rgb(labels.astype(np.uint16)), rgb)


def test_label2rgb_negative_bool_and_empty():
    np.testing.assert_array_equal(label2rgb(np.array([[-3, 0]])), np.zeros((1, 2, 3), np.uint8))
    mask = np.array([[True, False]])
    np.testing.assert_array_equal(label2rgb(mask), label2rgb(mask.astype(np.int32)))
    assert label2rgb(np.zeros((0, 4), np.int32)).shape == (0, 4, 3)


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 2), np.float32), np.zeros((2, 2, 2), np.int32), np.zeros(4, int)]
)
def test_label2rgb_refuses_non_label_images(bad):
    with pytest.raises(InvalidArgumentError, match="`labels` must be a 2-D integer array"):
        label2rgb(bad)


# ---- boundaries --------------------------------------------------------------------------------------------


def test_boundaries_by_hand():
    labels = np.array(
        [
            [1, 1, 2],
            [1, 1, 2],
            [3, 3, 3],
        ]
    )
    expected = np.array(
        [
            [0, 1, 0],  # (0, 1): right neighbour is 2
            [1, 1, 1],  # each has a lower or right neighbour of another label
            [0, 0, 0],  # last row: no lower neighbour, right neighbours equal
        ],
        bool,
    )
    np.testing.assert_array_equal(boundaries(labels), expected)
    assert not boundaries(np.full((4, 4), 5)).any()
    assert boundaries(labels).dtype == np.bool_


# ---- overlay -----------------------------------------------------------------------------------------------


def test_overlay_blends_foreground_and_draws_boundaries():
    grey = (np.arange(36, dtype=np.uint8) * 7).reshape(6, 6)
    labels = np.zeros((6, 6), np.int32)
    labels[1:4, 1:4] = 2
    alpha = 0.25
    out = overlay(grey, labels, alpha=alpha, boundary_color=(10, 20, 30))
    assert out.shape == (6, 6, 3) and out.dtype == np.uint8

    base = np.repeat(grey[..., None], 3, axis=2).astype(np.float64)
    colour = label2rgb(labels)[2, 2].astype(np.float64)
    edge = boundaries(labels)
    inside = (labels > 0) & ~edge
    outside = (labels == 0) & ~edge
    np.testing.assert_array_equal(out[outside], grey[outside][:, None].repeat(3, axis=1))  # untouched
    want = np.round((1 - alpha) * base + alpha * colour)
    np.testing.assert_allclose(out[inside], want[inside], atol=1)  # float32 blend, rounded
    assert (out[edge] == (10, 20, 30)).all() and edge.sum() == 3 * 3 + 3 - 1  # hand count of the border


def test_overlay_rgb_rgba_and_float_images():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((5, 7, 1), 9, np.uint8)], axis=2)
    labels = np.zeros((5, 7), np.int32)
    labels[:, 4:] = 1
    np.testing.assert_array_equal(overlay(rgba, labels), overlay(rgb, labels))  # alpha channel dropped
    # no labels: the image itself (floats go through to_uint8's scaling)
    np.testing.assert_array_equal(overlay(rgb, np.zeros((5, 7), np.int32)), rgb)
    f = np.linspace(0, 1, 35).reshape(5, 7)
    np.testing.assert_array_equal(overlay(f, np.zeros((5, 7), np.int32))[..., 1], to_uint8(f))
    # alpha 1: the label colour itself inside the region
    out = overlay(rgb, labels, alpha=1.0)
    np.testing.assert_array_equal(out[1:4, 5], np.repeat(label2rgb(labels)[:1, 5], 3, axis=0))


def test_overlay_refuses_mismatched_labels():
    with pytest.raises(
        InvalidArgumentError, match=r"`labels` must have the image's shape \(4, 4\); got \(4, 5\)"
    ):
        overlay(np.zeros((4, 4)), np.zeros((4, 5), np.int32))


# ---- image_grid --------------------------------------------------------------------------------------------


def _stack(n, h, w, c=None):
    shape = (n, h, w) if c is None else (n, h, w, c)
    return (np.arange(np.prod(shape)) % 251).astype(np.uint8).reshape(shape)


@pytest.mark.parametrize(
    "n, columns, rows_cols", [(1, None, (1, 1)), (5, None, (2, 3)), (9, None, (3, 3)), (7, 2, (4, 2))]
)
def test_image_grid_shape_and_tiles(n, columns, rows_cols):
    h, w, pad = 4, 6, 2
    imgs = _stack(n, h, w)
    grid = image_grid(imgs, columns=columns, pad=pad)
    rows, cols = rows_cols
    assert grid.shape == (rows * (h + pad) + pad, cols * (w + pad) + pad) and grid.dtype == np.uint8
    covered = np.zeros(grid.shape, bool)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        np.testing.assert_array_equal(grid[y : y + h, x : x + w], imgs[i])
        covered[y : y + h, x : x + w] = True
    assert (grid[~covered] == 255).all()  # padding and empty cells are white


def test_image_grid_colour_and_float_stacks():
    imgs = _stack(3, 5, 5, 3)
    grid = image_grid(imgs, columns=3, pad=0)
    assert grid.shape == (5, 15, 3)
    np.testing.assert_array_equal(grid[:, 5:10], imgs[1])
    floats = np.stack([np.linspace(0, 1, 16).reshape(4, 4), np.linspace(0, 2, 16).reshape(4, 4)])
    grid = image_grid(floats, columns=2, pad=1)
    # each image is scaled on its own
    np.testing.assert_array_equal(grid[1:5, 1:5], to_uint8(floats[0]))
    np.testing.assert_array_equal(grid[1:5, 6:10], to_uint8(floats[1]))
    np.testing.assert_array_equal(grid[1:5, 1:5], grid[1:5, 6:10])


@pytest.mark.parametrize(
    "bad", [np.zeros((0, 4, 4), np.uint8), np.zeros((4, 4), np.uint8), np.zeros((1, 2, 3, 4, 5))]
)
def test_image_grid_refuses_non_stacks(bad):
    with pytest.raises(InvalidArgumentError, match="`images` must be a non-empty"):
        image_grid(bad)


# ---- contact_sheet -----------------------------------------------------------------------------------------

CAPTION = 18  # pixels under each tile for its title (viz.contact_sheet)


def _cell(r, c, tile):
    return 8 + r * (tile + CAPTION + 8), 8 + c * (tile + 8)


def test_contact_sheet_layout_and_tiles():
    tile = 16
    rng = np.random.default_rng(1)
    imgs = [rng.integers(0, 256, (tile, tile), dtype=np.uint8) for _ in range(5)]
    imgs[3] = rng.integers(0, 256, (tile, tile, 3), dtype=np.uint8)
    sheet = contact_sheet(imgs, columns=3, tile=tile)
    assert sheet.shape == (2 * (tile + CAPTION + 8) + 8, 3 * (tile + 8) + 8, 3) and sheet.dtype == np.uint8
    covered = np.zeros(sheet.shape[:2], bool)
    for i, img in enumerate(imgs):
        y, x = _cell(*divmod(i, 3), tile)
        want = img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
        np.testing.assert_array_equal(sheet[y : y + tile, x : x + tile], want)  # same size: pixel for pixel
        covered[y : y + tile, x : x + tile] = True
    assert (sheet[~covered] == 255).all()  # white elsewhere: no titles given


def test_contact_sheet_enlarges_by_nearest_and_keeps_the_aspect():
    tile = 16
    small = np.array([[0, 255], [255, 0]], np.uint8)  # enlarged 8x
    wide = np.full((4, 8), 100, np.uint8)  # 16 wide, 8 high, centred vertically
    sheet = contact_sheet([small, wide], columns=2, tile=tile)
    y, x = _cell(0, 0, tile)
    np.testing.assert_array_equal(
        sheet[y : y + tile, x : x + tile, 0], np.kron(small, np.ones((8, 8), np.uint8))
    )
    y, x = _cell(0, 1, tile)
    cell = sheet[y : y + tile, x : x + tile, 0]
    assert (cell[4:12] == 100).all() and (cell[:4] == 255).all() and (cell[12:] == 255).all()


def test_contact_sheet_shrinks_by_averaging():
    checker = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)  # 1-pixel lines
    sheet = contact_sheet([checker], columns=1, tile=16)
    y, x = _cell(0, 0, 16)
    cell = sheet[y : y + 16, x : x + 16].astype(int)
    assert (abs(cell - 127.5) <= 1).all()  # box-averaged grey, not aliased to black or white


def test_contact_sheet_titles_and_scaling():
    tile = 32
    f = np.linspace(0, 1, tile * tile).reshape(tile, tile)
    one_channel = (f[..., None] * 255).astype(np.uint8)
    sheet = contact_sheet([f, one_channel], ["first", ""], columns=2, tile=tile)
    y, x = _cell(0, 0, tile)
    np.testing.assert_array_equal(sheet[y : y + tile, x : x + tile, 0], to_uint8(f))  # floats scaled
    y2, x2 = _cell(0, 1, tile)
    np.testing.assert_array_equal(sheet[y2 : y2 + tile, x2 : x2 + tile, 1], one_channel[..., 0])
    caption = sheet[y + tile : y + tile + CAPTION, x : x + tile + 8]
    assert (caption < 128).any()  # the title is drawn in black under its tile
    assert (sheet[y2 + tile : y2 + tile + CAPTION, x2 : x2 + tile] == 255).all()  # empty title: nothing


def test_label2rgb_sparse_huge_labels():
    # a table per label value up to 2**31 - 1 once needed 48 GiB; colours depend only on the value
    big = np.array([[0, 2**31 - 1], [5, 5]])
    out = label2rgb(big)
    np.testing.assert_array_equal(out[1, 0], label2rgb(np.array([[5]]))[0, 0])
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() != [0, 0, 0]
    np.testing.assert_array_equal(
        label2rgb(np.array([[0, 1, 2, 3]])), label2rgb(np.array([[0, 1, 2, 3]]) + 0)
    )
