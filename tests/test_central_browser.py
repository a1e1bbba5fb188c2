"""The management page in headless Chromium (Selenium with Debian's chromium and chromium-driver).

A manager logs in with the management token, filters the appeals by unit, marks a forward as sent
and downloads the CSV, as they would at their desk. Skipped, with the reason, where Chromium or its
driver is not installed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from browser_support import chromium, require_chromium, wait_for

from central import CentralServer
from central.testing import call, make_appeal, make_record

ADMIN = "browser-admin-token"
COURT = "Господарський суд м. Києва"

require_chromium()
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[CentralServer]:
    now = datetime.fromisoformat("2025-03-05T15:00:00+02:00").timestamp()
    with CentralServer(tmp_path / "c.db", admin_token=ADMIN, clock=lambda: now) as srv:
        srv.add_unit("unit-1", "tok-1")
        srv.add_unit("unit-2", "tok-2")
        yield srv


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(downloads: Path) -> Iterator[Any]:
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    with chromium("1200,900", prefs=prefs) as driver:
        yield driver


def test_log_in_filter_mark_forwarded_and_download_csv(server: CentralServer, browser: Any, downloads: Path) -> None:
    forwarded = make_record("unit-1", operator=7, outcome="forwarded",
                            appeal=make_appeal(forward_to=COURT, full_name="Остап Вишня"))
    other = make_record("unit-2", operator=9, appeal=make_appeal(full_name="Леся Українка"))
    assert call(server.url, "POST", "/api/v1/records", "tok-1", forwarded).status == 201
    assert call(server.url, "POST", "/api/v1/records", "tok-2", other).status == 201
    b = browser
    b.get(server.url + "/")
    assert b.current_url.endswith("/login")
    b.find_element(By.ID, "token").send_keys("wrong")
    b.find_element(By.ID, "login").click()
    # A wrong token is answered after a deliberate delay: wait for the page that says so.
    [error] = wait_for("the refusal", lambda: b.find_elements(By.ID, "error"))
    assert "not the management token" in error.text
    b.find_element(By.ID, "token").send_keys(ADMIN)
    b.find_element(By.ID, "login").click()
    wait_for("the appeals page", lambda: b.find_elements(By.ID, "appeals"))
    rows = b.find_elements(By.CSS_SELECTOR, "#appeals tbody tr")
    assert len(rows) == 2

    b.find_element(By.ID, "f-unit").send_keys("unit-1")
    Select(b.find_element(By.ID, "f-status")).select_by_value("queued")
    b.find_element(By.ID, "apply").click()
    wait_for("the filtered list", lambda: "unit=unit-1" in b.current_url)
    rows = b.find_elements(By.CSS_SELECTOR, "#appeals tbody tr")
    assert [r.get_attribute("data-record") for r in rows] == [forwarded["id"]]
    assert "2025-03-06 00:00" in rows[0].text and "Остап Вишня" in rows[0].text

    rows[0].find_element(By.CSS_SELECTOR, "button.mark-sent").click()
    # Back on the same filter (queued): the forward has left it.
    wait_for("the forward leaving the queue", lambda: b.find_elements(By.ID, "empty"))
    assert "unit=unit-1" in b.current_url
    sent = call(server.url, "GET", "/api/v1/forwards?status=sent", ADMIN).body["forwards"]
    assert [f["record_id"] for f in sent] == [forwarded["id"]]

    Select(b.find_element(By.ID, "f-status")).select_by_value("sent")
    b.find_element(By.ID, "apply").click()
    wait_for("the sent list", lambda: "status=sent" in b.current_url)
    assert "forwarded" in b.find_element(By.CSS_SELECTOR, "#appeals tbody tr .status").text
    b.find_element(By.ID, "csv").click()
    files = wait_for("the CSV download", lambda: [p for p in downloads.glob("appeals-*.csv")])
    with files[0].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["record_id"], r["full_name"], r["status"], r["forward_to"]) for r in rows] == [
        (forwarded["id"], "Остап Вишня", "sent", COURT)
    ]
