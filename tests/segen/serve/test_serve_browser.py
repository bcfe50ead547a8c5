"""The segen serve web page in a real headless browser (Debian's Chromium + chromedriver, driven by selenium)
against a real ``segen serve`` process on a free localhost port: upload an image and see the overlay and the
legend, make a mistake and see the message, generate samples. A screenshot is written to
``$SEGEN_TEST_ARTIFACTS`` (default: pytest's tmp folder). In CI (``CI=true``) missing pieces fail the test;
elsewhere they skip it."""

from __future__ import annotations

import base64
import io
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import segen
from segen import viz

pytestmark = pytest.mark.slow  # a browser and a server process: ~6 s

IN_CI = os.environ.get("CI", "").lower() == "true"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _need(ok: bool, why: str) -> None:
    if not ok:
        if IN_CI:
            pytest.fail(f"the browser test must run in CI: {why}")
        pytest.skip(why)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A ``segen serve`` process on a free port; its URL."""
    _need(all(__import__("importlib").util.find_spec(m) for m in ("fastapi", "uvicorn")), "no serve extra")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("serve") / "server.log"
    cmd = [sys.executable, "-m", "segen", "serve", "--port", str(port), "--models", "otsu,kmeans,cgan-digits"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail(f"segen serve did not start: {log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    _need(
        BROWSER is not None and DRIVER is not None,
        "chromium / chromedriver not installed (apt: chromium chromium-driver)",
    )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need(False, "selenium not installed (test extra)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def artifacts(tmp_path) -> pathlib.Path:
    folder = pathlib.Path(os.environ.get("SEGEN_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _data_url_image(src: str) -> np.ndarray:
    from PIL import Image

    assert src.startswith("data:image/png;base64,"), src[:40]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))


def test_segment_and_generate_in_the_page(server, browser, artifacts, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    rng = np.random.default_rng(0)
    img = rng.integers(0, 50, (120, 160, 3), dtype=np.uint8)
    img[20:70, 30:100] = (230, 80, 70)
    img[80:110, 90:150] = (90, 200, 240)
    path = tmp_path / "scene.png"
    Image.fromarray(img).save(path)

    browser.get(server)
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true")
    assert browser.find_element(By.ID, "version").text == f"v{segen.__version__}"
    options = [o.text for o in Select(browser.find_element(By.ID, "segmenter")).options]
    assert options == ["kmeans", "otsu"]

    # segment: upload, pick otsu, see the overlay and a legend naming the class
    Select(browser.find_element(By.ID, "segmenter")).select_by_value("otsu")
    browser.find_element(By.ID, "image-input").send_keys(str(path))
    browser.find_element(By.ID, "segment-button").click()
    result = browser.find_element(By.ID, "segment-result")
    _wait(browser, lambda d: result.get_attribute("data-state") == "done")
    _wait(
        browser,
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", result),
    )
    assert browser.execute_script("return arguments[0].naturalWidth", result) == 160
    labels = segen.get_segmenter("otsu").segment(img)
    np.testing.assert_array_equal(_data_url_image(result.get_attribute("src")), viz.overlay(img, labels))
    legend = browser.find_element(By.ID, "legend")
    assert legend.is_displayed() and "foreground" in legend.text
    assert f"{100 * (labels > 0).mean():.1f} %" in legend.text

    # the mask view shows the mask the API gives
    Select(browser.find_element(By.ID, "view")).select_by_value("mask")
    np.testing.assert_array_equal(_data_url_image(result.get_attribute("src")), np.where(labels > 0, 255, 0))

    # a bad option: the server's message is shown, nothing breaks
    Select(browser.find_element(By.ID, "segmenter")).select_by_value("kmeans")
    k = browser.find_element(By.CSS_SELECTOR, "#segmenter-options input[data-option='k']")
    k.clear()
    k.send_keys("0")
    browser.find_element(By.ID, "segment-button").click()
    error = browser.find_element(By.ID, "segment-error")
    _wait(browser, lambda d: error.is_displayed())
    assert "`k` must be >= 1" in error.text

    # generate: a conditional generator shows the labels field; the grid appears
    Select(browser.find_element(By.ID, "generator")).select_by_value("cgan-digits")
    _wait(browser, lambda d: d.find_element(By.ID, "labels-field").is_displayed())
    for field, value in (("n", "8"), ("seed", "5"), ("labels", "3"), ("scale", "4")):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    browser.find_element(By.ID, "generate-button").click()
    samples = browser.find_element(By.ID, "generate-result")
    _wait(browser, lambda d: samples.get_attribute("data-state") == "done")
    _wait(
        browser,
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", samples),
    )
    grid = viz.image_grid(segen.get_generator("cgan-digits").generate(8, seed=5, labels=3))
    size = browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", samples)
    assert size == [grid.shape[1] * 4, grid.shape[0] * 4]
    assert "8 samples, seed 5" in browser.find_element(By.ID, "generate-caption").text

    Select(browser.find_element(By.ID, "segmenter")).select_by_value("otsu")
    browser.find_element(By.ID, "segment-button").click()
    _wait(browser, lambda d: not d.find_element(By.ID, "segment-error").is_displayed())
    Select(browser.find_element(By.ID, "view")).select_by_value("overlay")
    shot = artifacts / "serve_page.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
