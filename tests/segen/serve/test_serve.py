"""segen serve through the ASGI test client (no port): each endpoint against segen's own in-process results and
scikit-image, and each bad request answered with its 4xx (never a 5xx for a client's mistake)."""

from __future__ import annotations

import base64
import io
import json
import struct
import threading
import time
import types
import zlib

import numpy as np
import pytest
import segen
from helpers import modules_loaded
from segen import plugins, viz
from tiny_models import make_generator_model, make_segmenter_model

pytest.importorskip("fastapi", reason="segen serve needs the serve extra (pip install 'segen[serve]')")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402
from segen.serve import ServeConfig, create_app  # noqa: E402


def png(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def scene(seed: int = 0, shape=(60, 80)) -> np.ndarray:
    """Two bright rectangles on a dark noisy background, RGB uint8."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 40, (*shape, 3), dtype=np.uint8)
    img[8:30, 10:40] = (220, 60, 60)
    img[35:55, 45:75] = (60, 200, 90)
    return img


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(ServeConfig(workers=2))) as c:
        yield c


def segment(client, arr_or_bytes, model="kmeans", **fields):
    data = arr_or_bytes if isinstance(arr_or_bytes, bytes) else png(arr_or_bytes)
    form = {
        "model": model,
        **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()},
    }
    return client.post("/api/segment", files={"image": ("in.png", data, "image/png")}, data=form)


def check_error(r, status: int, *words):
    assert r.status_code == status, r.text
    body = r.json()
    text = body["detail"] if isinstance(body["detail"], str) else json.dumps(body["detail"])
    for w in words:
        assert w in text, (w, text)
    return body


# ---- endpoints -------------------------------------------------------------------------------------------


def test_health_and_version(client):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["workers"] == 2 and h["capacity"] == 10 and h["in_flight"] == 0
    from importlib.metadata import version

    import onnxruntime

    v = client.get("/version").json()
    assert v["segen"] == version("segen") and v["onnxruntime"] == onnxruntime.__version__
    assert v["numpy"] == np.__version__


def test_openapi_describes_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "segen serve"
    assert {
        "/health",
        "/version",
        "/api/models",
        "/api/models/{kind}/{name}",
        "/api/segment",
        "/api/generate",
    } <= set(spec["paths"])
    seg = spec["paths"]["/api/segment"]["post"]
    assert "multipart/form-data" in seg["requestBody"]["content"]
    assert set(seg["responses"]["200"]["content"]) == {"image/png", "application/json"}
    assert "application/json" in spec["paths"]["/api/generate"]["post"]["requestBody"]["content"]
    # no page that would load scripts from a CDN
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_models_lists_what_segen_lists(client):
    m = client.get("/api/models").json()
    assert [r["name"] for r in m["segmenters"]] == list(segen.list_segmenters())
    assert [r["name"] for r in m["generators"]] == list(segen.list_generators())
    rows = {r["name"]: r for r in m["segmenters"]}
    assert {"name": "k", "default": 4, "type": "int"} in rows["kmeans"]["options"]
    assert rows["watershed"]["labels"] == "instances" and rows["kmeans"]["labels"] == "classes"
    assert rows["kmeans"]["qualified_name"] == "builtin:kmeans"


def test_model_info_loads_the_model(client):
    r = client.get("/api/models/generator/cgan-digits").json()
    ref = segen.get_generator("cgan-digits").info
    assert r["info"]["num_classes"] == ref.num_classes == 10
    assert r["info"]["output_size"] == list(ref.output_size)
    assert "file" not in r["info"]  # no path of the server's disk
    assert "losses" not in json.dumps(r["info"])
    check_error(client.get("/api/models/generator/cgan-digit"), 404, "did you mean 'cgan-digits'")
    assert client.get("/api/models/painter/cgan-digits").status_code == 422


def test_segment_labels_equal_the_in_process_segmenter(client):
    img = scene(1)
    r = segment(client, img, "kmeans", options='{"k": 3, "seed": 2}', output="labels")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert float(r.headers["x-segen-elapsed-ms"]) > 0
    ref = segen.get_segmenter("kmeans", k=3, seed=2).segment(img)
    np.testing.assert_array_equal(decode(r.content), ref)


def test_segment_otsu_matches_scikit_image(client):
    from skimage.filters import threshold_otsu

    img = scene(2)[..., 0]  # grey
    labels = decode(segment(client, img, "otsu", output="labels").content)
    np.testing.assert_array_equal(labels, (img > threshold_otsu(img)).astype(np.uint8))


def test_segment_overlay_with_and_without_boundaries(client):
    img = scene(3)
    labels = segen.get_segmenter("otsu").segment(img)
    got = decode(segment(client, img, "otsu", output="overlay", alpha=0.5).content)
    np.testing.assert_array_equal(got, viz.overlay(img, labels, alpha=0.5))
    plain = decode(segment(client, img, "otsu", output="overlay", alpha=0.5, boundaries=False).content)
    colours = viz.label2rgb(labels).astype(np.float64)
    blend = np.where((labels > 0)[..., None], 0.5 * img + 0.5 * colours, img)
    np.testing.assert_allclose(plain, blend, atol=0.51)
    assert (plain != got).any(axis=-1).sum() == viz.boundaries(labels).sum() > 0


def test_segment_mask_and_cutout(client):
    img = scene(4)
    labels = segen.get_segmenter("kmeans", k=3).segment(img)
    mask = decode(segment(client, img, "kmeans", options='{"k": 3}', output="mask").content)
    np.testing.assert_array_equal(mask, np.where(labels > 0, 255, 0))
    sel = decode(segment(client, img, "kmeans", options='{"k": 3}', output="mask", select="2").content)
    np.testing.assert_array_equal(sel, np.where(labels == 2, 255, 0))
    cut = decode(segment(client, img, "kmeans", options='{"k": 3}', output="cutout", select="1,2").content)
    assert cut.shape == (*img.shape[:2], 4)
    np.testing.assert_array_equal(cut[..., :3], img)
    np.testing.assert_array_equal(cut[..., 3], np.where(np.isin(labels, [1, 2]), 255, 0))


def test_segment_stats_match_scikit_image(client):
    from skimage.measure import regionprops

    img = scene(5)
    r = segment(client, img, "watershed", output="stats", include="overlay,mask")
    assert r.status_code == 200
    s = r.json()
    labels = segen.get_segmenter("watershed").segment(img)
    ref = regionprops(labels)
    assert s["labels"] == "instances" and s["width"] == 80 and s["height"] == 60
    assert [g["label"] for g in s["regions"]] == [p.label for p in ref]
    for got, want in zip(s["regions"], ref):
        assert got["area"] == want.area and got["bbox"] == list(want.bbox)
        np.testing.assert_allclose(got["centroid"], want.centroid, atol=1e-3)
        assert got["fraction"] == pytest.approx(want.area / labels.size)
        assert "class" not in got
    overlay = decode(base64.b64decode(s["images"]["overlay"].split(",", 1)[1]))
    np.testing.assert_array_equal(overlay, viz.overlay(img, labels, instances=True))
    assert set(s["images"]) == {"overlay", "mask"}


def test_segment_stats_name_classes_and_colours(client):
    img = scene(6)
    s = segment(client, img, "otsu", output="stats").json()
    assert s["classes"] == ["background", "foreground"]
    (region,) = s["regions"]
    assert region["class"] == "foreground" and region["label"] == 1
    rgb = viz.label2rgb(np.array([[1]], np.int32))[0, 0]
    assert region["color"] == "#%02x%02x%02x" % tuple(rgb)


def test_segment_reads_16_bit_jpeg_and_rgba(client):
    img = scene(7)
    grey16 = (img[..., 0].astype(np.uint16) * 257).astype(np.uint16)
    labels16 = decode(segment(client, png(grey16), "otsu", output="labels").content)
    np.testing.assert_array_equal(labels16, segen.get_segmenter("otsu").segment(grey16))
    rgba = np.dstack([img, np.full(img.shape[:2], 128, np.uint8)])
    got = decode(segment(client, png(rgba), "kmeans", output="labels").content)
    np.testing.assert_array_equal(got, segen.get_segmenter("kmeans").segment(img))  # alpha dropped
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=95)
    jpeg = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    got = decode(segment(client, buf.getvalue(), "otsu", output="labels").content)
    np.testing.assert_array_equal(got, segen.get_segmenter("otsu").segment(jpeg))


def test_segment_reads_webp_and_applies_exif_orientation(client):
    img = scene(8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="WEBP", lossless=True)
    got = decode(segment(client, buf.getvalue(), "otsu", output="labels").content)
    np.testing.assert_array_equal(got, segen.get_segmenter("otsu").segment(img))
    # a phone photo stored sideways: EXIF orientation 6 (rotate 90 degrees clockwise to display)
    stored = np.ascontiguousarray(np.rot90(img, 1))  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, format="PNG", exif=exif)
    got = decode(segment(client, buf.getvalue(), "otsu", output="labels").content)
    assert got.shape == img.shape[:2]  # upright, as displayed
    np.testing.assert_array_equal(got, segen.get_segmenter("otsu").segment(img))


def test_segment_overlay_with_a_legend(client):
    img = scene(9)
    labels = segen.get_segmenter("otsu").segment(img)
    got = decode(segment(client, img, "otsu", output="overlay", legend=True).content)
    want = viz.add_legend(viz.overlay(img, labels), labels, names=("background", "foreground"))
    np.testing.assert_array_equal(got, want)
    assert got.shape[1] > img.shape[1]  # the panel on the right


def test_segment_onnx_model(client):
    img = segen.data.shapes(1, size=64, seed=3).images[0]
    got = decode(segment(client, img, "fcn-shapes", output="labels").content)
    np.testing.assert_array_equal(got, segen.get_segmenter("fcn-shapes").segment(img))


def test_generate_grid_equals_the_in_process_generator(client):
    r = client.post(
        "/api/generate", json={"model": "cgan-digits", "n": 6, "seed": 3, "labels": 7, "scale": 2}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    samples = segen.get_generator("cgan-digits").generate(6, seed=3, labels=7)
    grid = viz.image_grid(samples, columns=3)
    np.testing.assert_array_equal(decode(r.content), np.repeat(np.repeat(grid, 2, axis=0), 2, axis=1))
    again = client.post(
        "/api/generate", json={"model": "cgan-digits", "n": 6, "seed": 3, "labels": 7, "scale": 2}
    )
    assert again.content == r.content
    other = client.post(
        "/api/generate", json={"model": "cgan-digits", "n": 6, "seed": 4, "labels": 7, "scale": 2}
    )
    assert other.content != r.content


def test_generate_individual_images(client):
    r = client.post("/api/generate", json={"model": "dcgan-digits", "n": 3, "seed": 1, "output": "images"})
    body = r.json()
    samples = segen.get_generator("dcgan-digits").generate(3, seed=1)
    assert body["seed"] == 1 and len(body["images"]) == 3
    for uri, want in zip(body["images"], samples):
        assert uri.startswith("data:image/png;base64,")
        np.testing.assert_array_equal(decode(base64.b64decode(uri.split(",", 1)[1])), want)


def test_web_page_and_its_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'src="static/app.js"' in page.text and "http" not in page.text.replace('href="openapi.json"', "")
    for name, kind in (("app.js", "javascript"), ("style.css", "css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert "https://" not in r.text and "http://" not in r.text  # nothing fetched from elsewhere
    assert client.get("/static/../app.py").status_code == 404


# ---- bad requests ------------------------------------------------------------------------------------------


def test_not_an_image(client):
    body = check_error(
        segment(client, b"<!doctype html><html>oops</html>"), 415, "`image`", "looks like HTML"
    )
    assert (
        body["error"] == "not_an_image"
        and "/tmp" not in body["detail"]
        and "segen-serve" not in body["detail"]
    )
    check_error(segment(client, png(scene())[:60]), 415, "`image`")  # truncated
    check_error(segment(client, b""), 400, "`image` is empty")


def test_unknown_model_and_bad_options(client):
    img = scene()
    body = check_error(segment(client, img, "kmean"), 404, "unknown segmenter 'kmean'", "did you mean")
    assert body["error"] == "unknown_model"
    check_error(segment(client, img, "kmeans", options='{"k": 0}'), 400, "`k`", ">= 1")
    check_error(segment(client, img, "kmeans", options='{"kk": 3}'), 400, "has no option `kk`")
    check_error(segment(client, img, "kmeans", options='{"k": "three"}'), 400, "`k`")
    check_error(segment(client, img, "kmeans", options="k=3"), 400, "`options` must be a JSON object")
    check_error(segment(client, img, "kmeans", options="[3]"), 400, "`options` must be a JSON object")
    check_error(segment(client, img, "fcn-shapes", options='{"threads": 64}'), 400, "`threads`", "the server")
    check_error(segment(client, img, "kmeans", select="one"), 400, "`select`")
    check_error(segment(client, img, "kmeans", output="stats", include="labelz"), 400, "`include`")
    check_error(segment(client, img, "kmeans", output="jpeg"), 422, "output")
    check_error(segment(client, img, "kmeans", alpha=1.5), 422, "alpha")
    check_error(client.post("/api/segment", data={"model": "kmeans"}), 422, "image")
    check_error(client.post("/api/segment", files={"image": ("a.png", png(img), "image/png")}), 422, "model")


def test_image_too_small_for_the_model_is_a_client_error(client):
    check_error(segment(client, scene(shape=(3, 3)), "fcn-shapes"), 400)


def test_generate_bad_requests(client):
    def gen(**body):
        return client.post("/api/generate", json={"model": "cgan-digits", **body})

    check_error(gen(model="cgan-digit"), 404, "did you mean")
    check_error(gen(model="dcgan-digits", labels=3), 400, "unconditional")
    check_error(gen(labels=12), 400, "`labels` must be in [0, 9]")
    check_error(gen(labels=[1, 2], n=3), 400, "one label per image")
    check_error(gen(n=257), 400, "`n` must be <= 256")
    check_error(gen(n=0), 422, "n")
    check_error(gen(seed=-1), 422, "seed")
    check_error(gen(scale=33), 422, "scale")
    check_error(gen(colour="red"), 422, "colour")
    check_error(gen(options={"threads": 2}), 400, "`threads`")
    check_error(gen(n=256, scale=32), 413, "output pixels")
    check_error(
        client.post("/api/generate", content=b"{not json", headers={"content-type": "application/json"}), 422
    )
    body = check_error(gen(n=0, scale=0), 422, "n: Input should be greater than or equal to 1", "scale:")
    assert body["error"] == "invalid_request"
    assert check_error(client.get("/nowhere"), 404, "Not Found")["error"] == "not_found"


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG signature and header that declares `width` x `height`, then a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    head = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", head)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_limits_body_and_pixels():
    app = create_app(ServeConfig(max_body_bytes=20_000, max_pixels=50 * 50))
    with TestClient(app) as c:
        big = np.random.default_rng(0).integers(0, 255, (100, 100, 3), dtype=np.uint8)  # ~30 kB PNG
        body = check_error(segment(c, big), 413, "20000 bytes")
        assert body["error"] == "too_large"
        check_error(segment(c, scene(shape=(60, 60))), 413, "`image`", "2500")  # 3600 pixels > 2500
        check_error(segment(c, _bomb_png(100_000, 100_000)), 413, "`image`")  # header-only bomb
        ok = segment(c, scene(shape=(40, 40)), "otsu", output="labels")
        assert ok.status_code == 200

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(30):
                yield b"x" * 1000

        r = c.post(
            "/api/segment", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
        )
        check_error(r, 413, "20000 bytes")


def test_models_option_limits_what_is_served():
    with TestClient(create_app(ServeConfig(models=("otsu", "cgan-digits")))) as c:
        m = c.get("/api/models").json()
        assert [r["name"] for r in m["segmenters"]] == ["otsu"]
        assert [r["name"] for r in m["generators"]] == ["cgan-digits"]
        check_error(segment(c, scene(), "kmeans"), 404, "not served", "'otsu'")
        assert segment(c, scene(), "otsu").status_code == 200
    with pytest.raises(segen.UnknownModelError, match="no-such-model"):
        create_app(ServeConfig(models=("no-such-model",)))


def test_a_model_path_from_a_client_is_never_loaded(client, tmp_path):
    """segen.get_segmenter takes a model file's path; the server does not: a client names served models only."""
    seg, gen = make_segmenter_model(tmp_path, "mine"), make_generator_model(tmp_path, "g")
    before = client.get("/health").json()["models_loaded"]
    body = check_error(segment(client, scene(), str(seg)), 404, "unknown segmenter")
    assert body["error"] == "unknown_model"
    check_error(client.post("/api/generate", json={"model": str(gen)}), 404, "unknown generator")
    check_error(client.get("/api/models/segmenter/" + seg.name), 404)
    assert client.get("/health").json()["models_loaded"] == before


def test_user_model_folder_models_are_served_without_their_paths(user_model_dir):
    make_segmenter_model(user_model_dir, "my-seg")
    make_generator_model(user_model_dir, "my-gen")
    img = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))  # dark left half, bright right half
    with TestClient(create_app(ServeConfig(models=("my-seg", "my-gen", "otsu")))) as c:
        models = c.get("/api/models")
        rows = {r["name"]: r for r in models.json()["segmenters"] + models.json()["generators"]}
        assert rows["my-seg"]["plugin"] == "user-models"
        assert rows["my-seg"]["summary"] == "tiny test segmenter: bright pixels (user model)"
        info = c.get("/api/models/segmenter/my-seg")
        assert info.status_code == 200 and info.json()["info"]["classes"] == ["background", "bright"]
        r = segment(c, img, "my-seg", output="labels")
        assert r.status_code == 200, r.text
        want = segen.get_segmenter("my-seg").segment(img)
        assert 0 < want.sum() < want.size
        np.testing.assert_array_equal(decode(r.content), want)
        r = c.post("/api/generate", json={"model": "my-gen", "n": 3, "seed": 2})
        assert r.status_code == 200, r.text
        grid = viz.image_grid(segen.get_generator("my-gen").generate(3, seed=2))
        np.testing.assert_array_equal(decode(r.content), grid)
        for text in (models.text, info.text, c.get("/health").text):
            assert str(user_model_dir) not in text  # the server's file paths stay on the server


@pytest.fixture
def gated_plugin():
    """A segmenter that waits for `gate` (and counts how often its factory ran), and one that fails."""
    mod = types.ModuleType("gated")
    gate = threading.Event()
    made = []

    @segen.hookimpl
    def register_segmenters(register):
        def gated(*, k: int = 1):
            made.append(k)

            def run(img, k):
                gate.wait(10)
                return np.full(img.shape[:2], k, np.int32)

            return segen.FunctionSegmenter(run, name="gated", options={"k": k})

        def broken():
            def run(img):
                raise RuntimeError("the model crashed")

            return segen.FunctionSegmenter(run, name="broken")

        register("gated", gated, summary="waits for the test")
        register("broken", broken, summary="raises")

    mod.register_segmenters = register_segmenters
    plugins.register_plugin(mod, "gated")
    yield types.SimpleNamespace(gate=gate, made=made)
    gate.set()
    plugins.unregister_plugin("gated")


def _wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_a_full_queue_answers_503_with_retry_after(gated_plugin):
    app = create_app(ServeConfig(workers=1, queue=1))
    with TestClient(app) as c:
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(segment(c, scene(), "gated"))) for _ in range(2)
        ]
        for t in threads:
            t.start()
        _wait_for(lambda: app.state.queue.in_flight == 2)  # one running, one waiting
        r = segment(c, scene(), "gated")
        body = check_error(r, 503, "busy")
        assert r.headers["retry-after"] == "1" and body["error"] == "busy"
        assert c.get("/health").json()["in_flight"] == 2  # health is answered while busy
        gated_plugin.gate.set()
        for t in threads:
            t.join(10)
        assert [x.status_code for x in results] == [200, 200]
        _wait_for(lambda: app.state.queue.in_flight == 0)
        assert segment(c, scene(), "gated").status_code == 200


def test_timeout_answers_504_and_frees_the_slot_when_the_work_ends(gated_plugin):
    app = create_app(ServeConfig(workers=1, queue=0, timeout=0.3))
    with TestClient(app) as c:
        check_error(segment(c, scene(), "gated"), 504, "timeout (0.3 s)")
        check_error(segment(c, scene(), "gated"), 503, "busy")  # the timed-out work still holds the worker
        gated_plugin.gate.set()
        _wait_for(lambda: app.state.queue.in_flight == 0)
        assert segment(c, scene(), "gated", output="labels").status_code == 200


def test_model_made_once_and_reused(gated_plugin):
    gated_plugin.gate.set()
    app = create_app(ServeConfig(workers=2, max_models=2))
    with TestClient(app) as c:
        for _ in range(3):
            assert segment(c, scene(), "gated", output="labels").status_code == 200
        assert gated_plugin.made == [1]
        for k in (2, 3, 2):
            labels = decode(
                segment(c, scene(), "gated", options=json.dumps({"k": k}), output="labels").content
            )
            assert (labels == k).all()
        assert gated_plugin.made == [1, 2, 3]  # k=2 again: still loaded
        loaded = [m["options"] for m in c.get("/health").json()["models_loaded"]]
        assert loaded == [{"k": 3}, {"k": 2}]  # max_models=2: the least recently used ({}) was dropped


def test_a_model_failure_is_a_500_naming_it(gated_plugin):
    app = create_app(ServeConfig())
    with TestClient(app) as c:
        body = check_error(segment(c, scene(), "broken"), 500, "RuntimeError", "the model crashed")
        assert body["error"] == "server_error"
        assert c.get("/health").json()["status"] == "ok"


def test_concurrent_requests_give_the_serial_results(client):
    imgs = [scene(s) for s in range(6)]
    want = [segen.get_segmenter("kmeans", k=3).segment(i) for i in imgs]
    got = [None] * len(imgs)

    def post(i):
        got[i] = segment(client, imgs[i], "kmeans", options='{"k": 3}', output="labels")

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(imgs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r, w in zip(got, want):
        assert r.status_code == 200
        np.testing.assert_array_equal(decode(r.content), w)


# ---- the command ---------------------------------------------------------------------------------------------


def test_segen_help_does_not_load_the_web_stack():
    heavy = ("fastapi", "starlette", "uvicorn", "pydantic", "numpy")
    assert modules_loaded("from segen.cli import main; main(['--help'])", heavy) == []
    assert modules_loaded("from segen.cli import main; main(['serve', '--help'])", heavy) == []


def test_serve_command_errors(capsys):
    from segen.cli import main

    assert main(["serve", "--models", "otsu,no-such-model", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "'no-such-model' is no segmenter nor generator" in err and err.count("\n") == 1
    assert main(["serve", "--max-body", "lots"]) == 2
    assert "--max-body" in capsys.readouterr().err
    assert main(["serve", "--workers", "0"]) == 2
