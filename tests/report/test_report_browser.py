"""report.html in headless Chromium: every figure renders, no console errors, no requests.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (CI installs them); skips
with the reason when they are absent. A full-page screenshot is saved in the test's tmp dir.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster_opt.report import ReportData, write_report

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium is not installed: apt-get install -y chromium chromium-driver",
)

FIGURE_BOXES = """
return Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const s = f.querySelector('svg'), r = s.getBoundingClientRect();
  const marks = s.querySelectorAll('path,image').length;
  return {name: f.dataset.figure, width: r.width, height: r.height, marks: marks};
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: webdriver.Chrome, path: Path) -> None:
    driver.get_log("browser")  # drop messages of earlier pages
    driver.get(path.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def _errors(driver: webdriver.Chrome) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def test_figures_render(browser, full_data, tmp_path):
    path = write_report(tmp_path / "report.html", full_data)
    _open(browser, path)
    boxes = browser.execute_script(FIGURE_BOXES)
    assert [b["name"] for b in boxes] == ["utilisation", "pareto", "waves", "islands"]
    for box in boxes:
        assert box["width"] > 100 and box["height"] > 100, box
        assert box["marks"] > 10, box
    assert _errors(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.execute_script("return document.querySelectorAll('main section').length") == 7
    # the page fits the window width: nothing but the terms table may scroll sideways
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, height + 120)
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_partial_report_opens_cleanly(browser, small_cluster, tmp_path):
    path = write_report(tmp_path / "report.html", ReportData(title="drain r12", cluster=small_cluster))
    _open(browser, path)
    boxes = browser.execute_script(FIGURE_BOXES)
    assert [b["name"] for b in boxes] == ["utilisation"] and boxes[0]["height"] > 100
    assert browser.execute_script("return document.querySelectorAll('p.missing').length") >= 4
    assert _errors(browser) == []
    browser.save_screenshot(str(tmp_path / "partial.png"))
