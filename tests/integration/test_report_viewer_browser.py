"""The report viewer as a person uses it: headless Chromium logs in on Airflow's login page, opens
the Review report tab of a finished post_loan_review run, and sees the report with its charts drawn
inside the Airflow UI; then the same report straight from the plugin URL with the browser's login.
Screenshots: the test's tmp folder and .local/e2e/ (git-ignored), to look at.

Needs Debian's chromium and chromium-driver (.ci/ensure-services installs them for make test):
skipped when they are missing, failed when CI=true."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from report_viewer_server import PROJECT_ROOT, REVIEW_DATE

pytestmark = pytest.mark.airflow

CHROMIUM = Path(os.environ.get("PLR_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("PLR_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOT_DIR = PROJECT_ROOT / ".local" / "e2e"
WAIT_SECONDS = 60


@pytest.fixture
def browser(tmp_path):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        problem = f"headless Chromium is not installed ({', '.join(missing)}): apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1440,1100", "--lang=en-US", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    # the driver given by path: Selenium Manager would try to download one
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER),
                                              log_output=str(tmp_path / "chromedriver.log")), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.25).until(condition, message=f"waiting for {what}")


def log_in(driver, server, user: str) -> None:
    """Through the SimpleAuthManager's login page, as a person types it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(f"{server.base_url}/")
    username = wait_for(driver, ec.visibility_of_element_located((By.NAME, "username")), "the login form")
    username.send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(server.passwords[user])
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, lambda d: "/auth/" not in d.current_url and d.get_cookie("_token"), "the login to finish")


def check_report_drawn(driver) -> dict:
    """The report in the current frame: its title and headline, and its charts drawn (each SVG
    chart has a size on the page and bars with a size)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    headline = wait_for(driver, ec.visibility_of_element_located((By.TAG_NAME, "h1")), "the report's headline")
    assert headline.text.strip(), "the report's headline is empty"
    title = driver.execute_script("return document.title")  # the frame's own (driver.title is the top page's)
    assert REVIEW_DATE in title, title
    charts = [svg for svg in driver.find_elements(By.CSS_SELECTOR, "svg[role=img]") if svg.is_displayed()]
    assert len(charts) >= 3, f"{len(charts)} charts drawn"
    for chart in charts:
        assert chart.rect["width"] > 0 and chart.rect["height"] > 0, chart.get_attribute("aria-label")
    bars = [bar for chart in charts for bar in chart.find_elements(By.TAG_NAME, "rect")]
    drawn = [bar for bar in bars if bar.rect["width"] > 0 and bar.rect["height"] > 0]
    assert len(drawn) >= len(charts), f"only {len(drawn)} of {len(bars)} bars have a size"
    return {"headline": headline.text, "charts": len(charts), "bars": len(drawn)}


def save(driver, tmp_path, name: str) -> Path:
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT_DIR / name)
    return shot


def test_a_reviewer_logs_in_and_reads_the_runs_report_in_the_airflow_ui(browser, report_viewer_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    server = report_viewer_server
    log_in(browser, server, "reviewer")
    run_page = f"{server.base_url}/dags/post_loan_review/runs/{quote(server.finished_run_id, safe='')}"
    browser.get(run_page)
    tab = wait_for(browser, ec.element_to_be_clickable((By.XPATH, "//*[normalize-space()='Review report']")),
                   "the run's Review report tab")
    tab.click()
    frame = wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title='Review report']")),
                     "the report's frame")
    assert browser.current_url.endswith("/plugin/review-report"), browser.current_url
    wait_for(browser, ec.frame_to_be_available_and_switch_to_it(frame), "the frame to load")
    # the frame followed the run to its report, authenticated by the login's cookie alone
    wait_for(browser, lambda d: d.execute_script("return location.pathname").endswith("/live/report.html"),
             "the frame to reach the report")
    drawn = check_report_drawn(browser)
    browser.switch_to.default_content()
    save(browser, tmp_path, "report.png")
    assert drawn["charts"] >= 3


def test_the_plugin_url_opens_with_the_browsers_login_and_not_without(browser, report_viewer_server, tmp_path):
    from selenium.webdriver.common.by import By

    server = report_viewer_server
    report_url = f"{server.base_url}/post-loan-review/runs/post_loan_review/{quote(server.finished_run_id, safe='')}"
    browser.get(report_url)  # no login yet: refused, no report
    assert "Not authenticated" in browser.find_element(By.TAG_NAME, "body").text
    assert not browser.find_elements(By.TAG_NAME, "svg")
    log_in(browser, server, "reviewer")
    browser.get(report_url)
    assert browser.current_url.endswith(f"/post-loan-review/reports/{REVIEW_DATE}/live/report.html")
    check_report_drawn(browser)
    save(browser, tmp_path, "report-page.png")
