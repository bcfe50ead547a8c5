"""segen's memory budget: parameter-sized allocations are refused up front with a clear error."""

from __future__ import annotations

import numpy as np
import pytest
import segen
from helpers import run_python
from segen._shared.limits import check_allocation, parse_size
from segen.errors import InvalidArgumentError, ResourceLimitError


@pytest.fixture
def limit():
    yield
    segen.set_memory_limit(None)


def test_default_setter_and_error_types(limit):
    assert segen.get_memory_limit() == 4 << 30
    segen.set_memory_limit("1M")
    assert segen.get_memory_limit() == 1 << 20
    with pytest.raises(
        ResourceLimitError, match=r"`bins`.* 8\.0 MiB, more than segen's memory limit of 1\.0 MiB"
    ):
        check_allocation(8 << 20, "a histogram (`bins`)")
    check_allocation(1 << 20, "exactly the limit")
    err = ResourceLimitError("x")
    assert isinstance(err, ValueError) and isinstance(err, MemoryError) and isinstance(err, segen.SegenError)
    segen.set_memory_limit(None)
    assert segen.get_memory_limit() == 4 << 30
    for bad in ("lots", "-1", "0", ""):
        with pytest.raises(InvalidArgumentError, match="nbytes"):
            segen.set_memory_limit(bad)
    with pytest.raises(ValueError, match="nbytes"):
        segen.set_memory_limit(0)


def test_parse_size():
    assert parse_size("512", "x") == 512
    assert parse_size("2g", "x") == 2 << 30
    assert parse_size("3 GiB", "x") == 3 << 30
    assert parse_size("1T", "x") == 1 << 40


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("SEGEN_MEMORY_LIMIT", "1M")
    out = run_python(
        "import segen, numpy as np\n"
        "print(segen.get_memory_limit())\n"
        "try:\n"
        "    segen.features.color_histogram(np.zeros((2, 2, 3)), bins=64)\n"
        "except segen.ResourceLimitError as e:\n"
        "    print('refused', e)\n"
    )
    lines = out.splitlines()
    assert lines[0] == str(1 << 20)
    assert lines[1].startswith("refused a 64 x 64 x 64 float64 histogram (`bins`) would need 2.0 MiB")


def test_refused_before_allocating(limit):
    # each of these once tried to allocate gigabytes to exabytes from a tiny input
    img = np.zeros((4, 4, 3))
    with pytest.raises(ResourceLimitError, match="`bins`"):
        segen.features.color_histogram(img, bins=(10**6, 10**6, 10**6))
    with pytest.raises(ResourceLimitError, match="`forward_map`"):
        segen.segmentation.relabel_sequential(np.array([[0, 2**40]], np.int64))
    from segen.eval.metrics import segmentation_scores

    with pytest.raises(ResourceLimitError, match="`num_classes`"):
        segmentation_scores(np.zeros((2, 2), int), np.zeros((2, 2), int), 10**6)
