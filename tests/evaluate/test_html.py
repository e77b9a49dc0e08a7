"""The evaluation report renders in a real browser: tables, inline images, no console errors."""

import os
import shutil

import pytest


def chromium_or_skip():
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.environ.get("REQUIRE_CHROMIUM"):
        pytest.fail(
            "REQUIRE_CHROMIUM is set but chromium/chromedriver are missing; "
            ".ci/run installs Debian's chromium and chromium-driver"
        )
    pytest.skip(
        "headless Chromium is not installed (Debian: apt-get install chromium chromium-driver; .ci/run does this)"
    )


def test_report_renders_in_headless_chromium(tiny_trained, tmp_path):
    browser, driver_path = chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from pipeline.evaluate.run import evaluate

    model, data = tiny_trained
    out = evaluate(model, data, tmp_path / "report")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        drv.set_window_size(1280, 2000)
        drv.get((out / "report.html").as_uri())
        assert drv.title == "Evaluation report"
        images = drv.execute_script("return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
        assert len(images) >= 5 and all(ok and width > 100 for _, ok, width in images), images
        assert {"stance confusion matrix", "reliability diagram"} <= {alt for alt, _, _ in images}
        tables = drv.execute_script("return document.querySelectorAll('table').length")
        rows = drv.execute_script("return document.querySelectorAll('table.passages tr').length")
        assert tables >= 5 and rows > 20
        text = drv.execute_script("return document.body.innerText")
        assert "The author favors" in text and "Side-swap audit" in text
        errors = [e for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        drv.save_screenshot(str(tmp_path / "report.png"))
    finally:
        drv.quit()


def test_an_article_card_shows_a_learned_verdicts_probabilities_and_a_threshold_verdict_none():
    from pipeline.evaluate.html import _article_card

    v = {
        "doc_id": "d1",
        "title": "T",
        "author_favors": "A",
        "author_favors_confidence": 0.7,
        "author_favors_probs": {"A": 0.6, "B": 0.1, "neutral": 0.3},
        "more_credible": None,
        "more_credible_confidence": 0.8,
        "more_credible_probs": None,
        "author_favors_evidence": [],
        "more_credible_evidence": [],
        "quoted_sources": [],
    }
    card = _article_card(v, {}, [])
    assert "The author favors A (confidence 0.700; probabilities A 0.600, B 0.100, neutral 0.300)" in card
    assert "neither side’s account more credible (confidence 0.800)." in card
