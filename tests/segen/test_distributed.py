"""segen.distributed: chunked filters and segmentation with Dask equal the in-memory results."""

from __future__ import annotations

import ast
import pathlib
import pickle
import types

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import segen  # noqa: E402
from helpers import MODES, ROOT, run_python  # noqa: E402
from segen import distributed as D  # noqa: E402
from segen import filters as F  # noqa: E402
from segen.errors import InvalidArgumentError, ModelError, SegenError  # noqa: E402

# float32 separable filters: the SIMD lanes a pixel falls on depend on where its row starts, so a chunk
# may differ from the whole image by float rounding (a few ulp of the value range)
TOL = 1e-6

CASES = [
    ("gaussian", dict(sigma=1.5)),
    ("gaussian", dict(sigma=(0.7, 3.0), truncate=2.0)),
    ("gaussian_laplace", dict(sigma=2.0)),
    ("uniform", dict(size=(4, 7))),
    ("laplace", {}),
    ("sobel", {}),
    ("sobel", dict(axis=0)),
    ("scharr", dict(axis=1)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, params", CASES)
def test_chunked_filters_equal_in_memory(rng, name, params, mode):
    img = rng.random((61, 83)).astype(np.float32)
    cval = 0.0 if name == "gaussian_laplace" else 0.25  # see test_bad_parameters...
    # irregular chunks, some thinner than the filters' reach
    x = da.from_array(img, chunks=((5, 30, 26), (40, 3, 40)))
    got = getattr(D, name)(x, mode=mode, cval=cval, **params)
    want = getattr(F, name)(img, mode=mode, cval=cval, **params)
    assert isinstance(got, da.Array)
    got = got.compute()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL * max(1.0, float(np.abs(want).max())))


def test_chunked_colour_image_with_channel_axis_first(astronaut):
    img = astronaut[:100, :90]
    chw = np.moveaxis(img, -1, 0)
    got = D.gaussian(da.from_array(chw, chunks=(1, 33, 33)), 2.0, channel_axis=0).compute()
    want = F.gaussian(img, 2.0)  # uint8 in, float32 out, channels last
    assert got.shape == img.shape
    np.testing.assert_allclose(got, want, atol=TOL * 255)


def test_numpy_input_and_generic_map_overlap(rng):
    img = rng.random((40, 50))
    got = D.map_overlap(F.uniform, img, 2, mode="wrap", kwargs={"size": 5, "mode": "wrap"})
    np.testing.assert_allclose(got.compute(), F.uniform(img, 5, mode="wrap"), atol=1e-12)


def test_nothing_runs_until_compute(rng):
    calls = []

    def op(block, **kw):
        calls.append(block.shape)
        return F.gaussian(block, 1.0)

    x = da.from_array(rng.random((64, 64)).astype(np.float32), chunks=16)
    lazy = D.map_overlap(op, x, 4)
    assert len(calls) == 1  # the parameter probe on a small block only
    lazy.compute()
    assert len(calls) > 1 + 15  # then once per chunk (16 chunks)


def test_bad_parameters_fail_when_the_graph_is_built(rng):
    x = da.from_array(rng.random((20, 20)).astype(np.float32), chunks=10)
    with pytest.raises(InvalidArgumentError, match="sigma"):
        D.gaussian(x, -1.0)
    with pytest.raises(InvalidArgumentError, match="mode"):
        D.sobel(x, mode="bounce")
    with pytest.raises(InvalidArgumentError, match="depth"):
        D.map_overlap(F.laplace, x, -1)
    with pytest.raises(InvalidArgumentError, match="array"):
        D.laplace(da.zeros((2, 3, 4, 5)))
    with pytest.raises(InvalidArgumentError, match="empty"):
        D.laplace(np.zeros((0, 5)))
    with pytest.raises(InvalidArgumentError, match="channel_axis"):
        D.laplace(np.zeros((5, 5, 3)), channel_axis=None)
    with pytest.raises(InvalidArgumentError, match="cval"):
        D.gaussian_laplace(x, 1.0, mode="constant", cval=1.0)
    with pytest.raises(InvalidArgumentError, match="spatial shape"):
        D.map_overlap(lambda b: b[1:], x, 1)


# ---- segmentation ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fcn():
    return segen.get_segmenter("fcn-shapes")


def test_chunked_segmentation_equals_whole_image(fcn):
    img = fcn.sample_input()
    img = np.concatenate([img, img[::-1, ::-1]], axis=0)[:, :120]  # 256 x 120: not a stride multiple
    whole = fcn.segment(img)
    x = da.from_array(img, chunks=(50, 45, 3))
    got = D.segment(x, fcn)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got.compute(), whole)
    # by name: each worker makes its own segmenter
    np.testing.assert_array_equal(D.segment(x, "fcn-shapes").compute(), whole)


def test_segment_needs_a_dense_segmenter():
    with pytest.raises(InvalidArgumentError, match="dense"):
        D.segment(np.zeros((32, 32)), segen.get_segmenter("otsu"))
    with pytest.raises(InvalidArgumentError, match="options"):
        D.segment(np.zeros((32, 32)), segen.get_segmenter("otsu"), tile=64)


def test_segmenters_pickle_and_recheck_their_file(fcn, tmp_path):
    img = fcn.sample_input()
    clone = pickle.loads(pickle.dumps(fcn))
    np.testing.assert_array_equal(clone.segment(img), fcn.segment(img))
    # a worker whose copy of the file differs refuses it
    import shutil

    src = fcn.model.path
    for f in (src, src.with_suffix(".json")):
        shutil.copy(f, tmp_path)
    blob = pickle.dumps(type(fcn)(tmp_path / src.name))
    data = (tmp_path / src.name).read_bytes()
    (tmp_path / src.name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ModelError, match="sha256"):
        pickle.loads(blob)


def test_segment_files_reports_bad_files_and_writes_atomically(fcn, tmp_path):
    from segen import io

    distributed = pytest.importorskip("dask.distributed")
    img = fcn.sample_input()
    good = [tmp_path / "a.png", tmp_path / "b.png"]
    io.imwrite(good[0], img)
    io.imwrite(good[1], img[::-1])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"<html>not an image</html>")
    out = tmp_path / "out"
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as c:
        report = D.segment_files([good[0], broken, good[1]], "fcn-shapes", out, client=c)
    assert [r["error"] is None for r in report] == [True, False, True]
    assert "broken.png" in report[1]["input"] and report[1]["output"] is None
    np.testing.assert_array_equal(io.imread(report[0]["output"]), fcn.segment(img))
    np.testing.assert_array_equal(io.imread(report[2]["output"]), fcn.segment(img[::-1]))
    assert sorted(p.name for p in out.iterdir()) == ["a_labels.png", "b_labels.png"]  # no temporary files
    # without a client: Dask's local threads, same result
    again = D.segment_files(good, fcn, tmp_path / "out2")
    assert all(r["error"] is None for r in again)
    with pytest.raises(InvalidArgumentError, match="paths"):
        D.segment_files([], "fcn-shapes", out)


def test_version_skew_is_refused(tmp_path):
    with pytest.raises(SegenError, match="version skew"):
        D._segment_one(str(tmp_path / "x.png"), str(tmp_path / "x_labels.png"), "otsu", {}, "0.0.0-other")


def test_segment_files_never_writes_two_inputs_to_one_file(tmp_path):
    from segen import io

    img = (np.arange(48 * 64) % 251).astype(np.uint8).reshape(48, 64)
    (tmp_path / "sub").mkdir()
    paths = [tmp_path / "a.png", tmp_path / "sub" / "a.png", tmp_path / "A.tif", tmp_path / "a-2.png"]
    for k, p in enumerate(paths):
        io.imwrite(p, np.roll(img, 7 * k, axis=1))
    report = D.segment_files(paths, "threshold", tmp_path / "out", level=0.5)
    outputs = [pathlib.Path(r["output"]).name for r in report]
    assert outputs == ["a_labels.png", "a-2_labels.png", "A-3_labels.png", "a-2-2_labels.png"]
    assert len({o.lower() for o in outputs}) == 4  # distinct on case-insensitive file systems too
    seg = segen.get_segmenter("threshold", level=0.5)
    for p, r in zip(paths, report):  # each output is its own input's labels
        np.testing.assert_array_equal(io.imread(r["output"]), seg.segment(io.imread(p)))


_KILLED = """
import sys, pathlib, numpy as np, dask, distributed
from helpers import DyingSegmenter
from segen import distributed as D, io
if __name__ == "__main__":
    tmp = pathlib.Path(sys.argv[1])
    io.imwrite(tmp / "ok.png", np.zeros((8, 8), np.uint8))
    io.imwrite(tmp / "dies.png", np.full((8, 8), 255, np.uint8))
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
            with distributed.Client(cluster) as client:
                report = D.segment_files([tmp / "ok.png", tmp / "dies.png"], DyingSegmenter(), tmp / "o", client=client)
    print([(pathlib.Path(r["input"]).name, (r["error"] or "ok").split(":")[0]) for r in report])
"""


def test_segment_files_reports_a_file_whose_worker_died(tmp_path):
    pytest.importorskip("dask.distributed")
    last = run_python(_KILLED, str(tmp_path), env_path=str(ROOT / "tests")).strip().splitlines()[-1]
    report = dict(ast.literal_eval(last))  # [(name, "ok" or the exception's type)], printed above
    assert report["dies.png"] == "KilledWorker"  # the call returned a report instead of raising
    assert report["ok.png"] in ("ok", "KilledWorker")  # lost too if it was queued on the dying worker


def test_a_task_whose_worker_died_is_reported_not_raised():
    KilledWorker = pytest.importorskip("distributed").KilledWorker

    class Lost:
        def result(self):
            raise KilledWorker("segment-123", types.SimpleNamespace(address="tcp://127.0.0.1:1"), 3)

    class Skewed:
        def result(self):
            raise SegenError("segen version skew: client 0.1.0, worker 0.0.9")

    path, out, error = D._gather_one("big.tif", Lost())
    assert (path, out) == ("big.tif", None) and error.startswith("KilledWorker")
    with pytest.raises(SegenError, match="version skew"):
        D._gather_one("a.png", Skewed())


def test_local_cluster_client_sets_one_segen_thread_per_task(rng):
    pytest.importorskip("dask.distributed")
    with D.client(n_workers=2, threads_per_worker=1, dashboard_address=":0") as c:
        threads = c.run(segen.get_num_threads)
        assert sorted(threads.values()) == [max(1, (__import__("os").cpu_count() or 1) // 2)] * 2
        img = rng.random((50, 60)).astype(np.float32)
        got = c.compute(D.gaussian(da.from_array(img, chunks=20), 1.0), sync=True)
        np.testing.assert_allclose(got, F.gaussian(img, 1.0), atol=TOL)
    with pytest.raises(InvalidArgumentError, match="local cluster"):
        D.client("tcp://127.0.0.1:1", n_workers=2)


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "wrap", "constant"])
def test_gaussian_sigma_far_larger_than_the_image(mode):
    # sigma 1000 on 64 x 48 once spent minutes building a graph, then failed ("chunks do not add up")
    import time

    img = np.random.default_rng(1).random((64, 48)).astype(np.float32)
    start = time.perf_counter()
    for sigma in (1000, (20, 1000), 13):  # both axes, one axis, a halo larger than a chunk
        arr = da.from_array(img, chunks=16)
        got = segen.distributed.gaussian(arr, sigma=sigma, mode=mode).compute()
        np.testing.assert_allclose(
            got, segen.filters.gaussian(img, sigma=sigma, mode=mode), rtol=1e-5, atol=1e-6
        )
    assert time.perf_counter() - start < 30
