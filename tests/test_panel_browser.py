"""The browser panel in headless Chromium (Selenium with Debian's chromium and chromium-driver).

A simulated unit runs in-process on the real clock (operator signed in, trusted wall clock at 09:15
Kyiv) with its panel server on a free port.  The test clicks through a call as an operator would:
the hook, the greeting read back from the page's text mirror and from the canvas pixels, HOLD then
OK (the OK key held with the mouse), dead audio from the side controls, and saves a screenshot to
``artifacts/panel.png``.  Skipped, with the reason, where Chromium or its driver is not installed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from firmware.clock import RealClock
from firmware.config import load_config
from firmware.lcd.rom import fold_lookalikes
from hwsim.font5x8 import rom_font
from hwsim.panel_server import PanelServer
from hwsim.sync_sim import attach_sync
from hwsim.unit import SimUnit

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "artifacts" / "panel.png"

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install selenium)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

pytestmark = pytest.mark.slow

# Reads the canvas back: for each cell of one text row, its 8 rows of 5 dots as bit patterns, using
# the geometry the page publishes on the canvas's data attributes.
READ_ROW_JS = """
const [row, cols] = arguments;
const c = document.getElementById('lcd');
const g = c.dataset, ratio = c.width / parseFloat(c.style.width);
const ctx = c.getContext('2d');
const img = ctx.getImageData(0, 0, c.width, c.height).data;
const lum = (x, y) => { const i = (Math.round(y * ratio) * c.width + Math.round(x * ratio)) * 4;
                        return img[i] + img[i + 1] + img[i + 2]; };
const out = [];
for (let col = 0; col < cols; col++) {
  const bits = [];
  for (let y = 0; y < 8; y++) {
    let v = 0;
    for (let x = 0; x < 5; x++) {
      const px = +g.margin + col * +g.cellW + x * +g.pitch + +g.dot / 2;
      const py = +g.margin + row * +g.cellH + y * +g.pitch + +g.dot / 2;
      v = (v << 1) | (lum(px, py) < 200 ? 1 : 0);
    }
    bits.push(v);
  }
  out.push(bits);
}
return out;
"""


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = 6.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def unit(tmp_path) -> Iterator[tuple[SimUnit, PanelServer]]:
    cfg = load_config()
    clock = RealClock()
    clock.set_wall(datetime.fromisoformat("2026-11-23T09:15:00+02:00"), "scenario")  # morning, trusted
    sim = SimUnit.create(cfg, clock, state_dir=tmp_path / "state")
    sim.unit.sign_in(7, "Олена Петренко")
    attach_sync(sim, set_time=False)  # SYNC LED as in the field; the wall clock stays ours
    sim.start_realtime()
    panel = PanelServer(sim, port=0).start()
    yield sim, panel
    panel.stop()
    sim.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="deskunit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", f"--user-data-dir={profile}", "--window-size=1000,860",
                 "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_a_call_clicked_through_in_the_browser(unit, browser):
    sim, panel = unit
    b = browser
    b.get(panel.url)

    def lcd_text() -> str:
        return b.find_element(By.ID, "lcd-text").get_attribute("textContent")

    def led(name: str) -> str:
        return b.find_element(By.ID, f"led-{name}").get_attribute("data-colour")

    def first_row() -> list[list[int]]:
        return b.execute_script(READ_ROW_JS, 0, sim.lcd.cols)

    wait_for("the idle screen on the page", lambda: fold_lookalikes("Петренко") in fold_lookalikes(lcd_text()))
    assert b.find_element(By.ID, "conn").get_attribute("data-state") == "live"
    wait_for("SYNC green", lambda: led("sync") == "green", timeout=10)
    idle_pixels = first_row()

    # off-hook: the greeting, on the text mirror and drawn dot by dot on the canvas
    b.find_element(By.ID, "hook").click()
    wait_for("the greeting on the page", lambda: fold_lookalikes("Доброго ранку") in fold_lookalikes(lcd_text()))
    assert b.find_element(By.ID, "hook").get_attribute("data-off") == "true"
    drawn = wait_for("the greeting on the canvas", lambda: (p := first_row()) != idle_pixels and p)
    font = rom_font(sim.cfg["lcd"]["rom"])
    codes = sim.lcd.screen_codes()[0]
    expected = [list(sim.lcd.cgram_glyph(c & 7)) if c < 16 else list(font[c]) for c in codes]
    assert drawn == expected, "the canvas's first row is not the ROM glyphs of the emulator's DDRAM"
    assert any(any(rows) for rows in drawn)

    # HOLD (a click), then OK held down with the mouse: the key's pin is low while the button is held
    b.find_element(By.CSS_SELECTOR, '.keys [data-key="HOLD"]').click()
    wait_for("the hold consent question", lambda: fold_lookalikes("зачекати") in fold_lookalikes(lcd_text()))
    ok = b.find_element(By.CSS_SELECTOR, '.keys [data-key="OK"]')
    ok_pin = sim.board.gpio(sim.board.key_pin["OK"])
    ActionChains(b).click_and_hold(ok).perform()
    wait_for("OK pressed", lambda: not ok_pin.state)
    ActionChains(b).release(ok).perform()
    wait_for("OK released", lambda: ok_pin.state)
    wait_for("HOLD LED green", lambda: led("hold") == "green")
    assert sim.led("hold") == "green"

    # the caller's line goes dead: LINE turns red within a few seconds
    wait_for("LINE LED green (the analyzer settles after a reset)", lambda: led("line") == "green", timeout=8)
    b.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="dead"]').click()
    wait_for("LINE LED red", lambda: led("line") == "red", timeout=8)
    assert sim.line.mode == "dead"
    assert b.find_element(By.ID, "verdict").get_attribute("data-verdict") in ("no_signal", "unintelligible")

    # the keyboard: Space puts the handset back, ending the call
    b.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)
    wait_for("on hook", lambda: b.find_element(By.ID, "hook").get_attribute("data-off") == "false")
    b.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="clean"]').click()
    wait_for("clean line", lambda: sim.line.mode == "clean")


def test_screenshot_of_a_call_on_hold_with_a_dead_line(unit, browser):
    sim, panel = unit
    b = browser
    b.get(panel.url)
    wait_for("panel live", lambda: b.find_element(By.ID, "conn").get_attribute("data-state") == "live")
    body = b.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.SPACE)  # off hook, from the keyboard this time
    wait_for("greeting", lambda: sim.shows("Доброго ранку"))
    body.send_keys("h")
    wait_for("hold question", lambda: sim.shows("зачекати"))
    body.send_keys(Keys.ENTER)
    wait_for("HOLD LED green", lambda: b.find_element(By.ID, "led-hold").get_attribute("data-colour") == "green")
    b.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="dead"]').click()
    wait_for("LINE LED red", lambda: b.find_element(By.ID, "led-line").get_attribute("data-colour") == "red",
             timeout=8)
    ARTIFACT.parent.mkdir(exist_ok=True)
    assert b.save_screenshot(str(ARTIFACT))
    assert ARTIFACT.stat().st_size > 10_000
