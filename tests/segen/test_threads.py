import numpy as np
import pytest
import segen
from helpers import num_threads


def test_thread_knob_round_trip():
    with num_threads(1):
        assert segen.get_num_threads() == 1
    with num_threads(3):
        assert segen.get_num_threads() == 3


def test_zero_or_none_restores_default(monkeypatch):
    with num_threads(1):
        segen.set_num_threads(None)
        assert segen.get_num_threads() >= 1


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_thread_count(bad):
    with pytest.raises((ValueError, TypeError), match="`n`"):
        segen.set_num_threads(bad)


def test_threads_in_parallel_from_python():
    # Two Python threads calling into the core at once (the GIL is released) give the serial answer.
    from concurrent.futures import ThreadPoolExecutor

    img = np.random.default_rng(0).random((512, 512)).astype(np.float32)
    want = segen.transform.flip(img, axis=None)
    with ThreadPoolExecutor(4) as ex:
        for got in ex.map(lambda _: segen.transform.flip(img, axis=None), range(16)):
            np.testing.assert_array_equal(got, want)
