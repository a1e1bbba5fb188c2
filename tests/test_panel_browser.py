"""The browser panel in headless Chromium (Selenium with Debian's chromium and chromium-driver).

A simulated unit runs in-process on the real clock (operator signed in, trusted wall clock at 09:15
Kyiv) with its panel server on a free port.  The test clicks through a call as an operator would:
the hook, the greeting read back from the page's text mirror and from the canvas pixels, HOLD then
OK (the OK key held with the mouse), dead audio from the side controls, and saves a screenshot to
``artifacts/panel.png``.  Beside the unit: the clock control (set the evening, run ten times faster),
the call history from the journal and what the central server holds, the plot of the line over the
last minute, and the page in a 360 px wide window.  Skipped, with the reason, where Chromium or its
driver is not installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from browser_support import chromium, require_chromium, wait_for

from central.testing import make_appeal, make_record
from firmware.config import load_config
from firmware.lcd.rom import fold_lookalikes
from hwsim.clock import SimClock
from hwsim.font5x8 import rom_font
from hwsim.panel_server import PanelServer
from hwsim.sync_sim import attach_sync
from hwsim.unit import SimUnit

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "artifacts" / "panel.png"

require_chromium()
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


@pytest.fixture
def unit(tmp_path) -> Iterator[tuple[SimUnit, PanelServer]]:
    cfg = load_config()
    clock = SimClock()
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
    with chromium("1000,860", flags=("--force-device-scale-factor=1",)) as driver:
        yield driver


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
    b.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="vad"]').click()
    wait_for("a softphone caller's line", lambda: sim.line.mode == "vad")
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


def rows_of(b, table: str) -> list[dict[str, str]]:
    """A table's rows, read in one go (the page rebuilds its tables as the unit's records change)."""
    return b.execute_script(
        f"return [...document.querySelectorAll('#{table} tbody tr')]"
        ".map(r => ({text: r.textContent, outcome: r.dataset.outcome || ''}))")


def text_of(b, selector: str) -> str:
    """An element's text, read in one go (it may be rebuilt between a lookup and a read)."""
    return b.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
                            selector)


def test_the_clock_control_sets_the_evening_and_runs_faster(unit, browser):
    sim, panel = unit
    b = browser
    b.get(panel.url)
    wait_for("the unit's time on the page", lambda: "2026-11-23 09:1" in text_of(b, "#clock-now"))
    field = b.find_element(By.ID, "clock-time")
    b.execute_script("arguments[0].value = '2026-11-23T18:05'", field)  # what the date picker fills in
    b.find_element(By.ID, "clock-set").click()
    wait_for("the unit's clock at 18:05", lambda: sim.clock.now().strftime("%H:%M") == "18:05")
    wait_for("the page shows it", lambda: "2026-11-23 18:05" in text_of(b, "#clock-now"))
    assert sim.clock.source == "panel" and sim.clock.trusted
    b.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)  # off hook: the evening's greeting
    wait_for("the evening greeting", lambda: sim.shows("Доброго вечора"))

    b.find_element(By.CSS_SELECTOR, '#clock-rates [data-rate="10"]').click()
    wait_for("10x", lambda: sim.clock.rate == 10.0)
    wait_for("10x marked", lambda: b.find_element(By.CSS_SELECTOR, '#clock-rates [data-rate="10"]')
             .get_attribute("aria-pressed") == "true")
    start_unit, start_real = sim.clock.monotonic(), time.monotonic()
    time.sleep(1.0)
    assert (sim.clock.monotonic() - start_unit) / (time.monotonic() - start_real) > 8
    b.find_element(By.CSS_SELECTOR, '#clock-rates [data-rate="1"]').click()
    wait_for("1x", lambda: sim.clock.rate == 1.0)

    b.execute_script("fetch('/api/clock', {method: 'POST', headers: {'Content-Type': 'application/json'},"
                     " body: JSON.stringify({time: 'teatime'})}).then(r => r.json())"
                     ".then(j => document.getElementById('clock-error').textContent = j.error)")
    wait_for("a bad time is refused with the reason", lambda: "teatime" in text_of(b, "#clock-error"))
    assert sim.clock.now().strftime("%H") == "18"


def test_the_history_and_the_central_servers_view(unit, browser):
    sim, panel = unit
    b = browser
    b.get(panel.url)
    wait_for("panel live", lambda: b.find_element(By.ID, "conn").get_attribute("data-state") == "live")
    assert b.find_element(By.ID, "history-empty").is_displayed()
    body = b.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.SPACE)
    wait_for("greeting", lambda: sim.shows("Доброго ранку"))
    body.send_keys(Keys.SPACE)  # the call ends: its record is saved
    wait_for("the call in the history", lambda: len(rows_of(b, "history")) == 1)
    assert rows_of(b, "history")[0]["outcome"] == "answered"
    assert not b.find_element(By.ID, "history-empty").is_displayed()

    # a complaint registered earlier, in the journal as the unit saves it, then pushed
    record = make_record(sim.cfg["unit"]["id"], appeal=make_appeal(full_name="Бондар Ігор"), outcome="callback")
    sim.loop.call_soon(lambda: (sim.journal.save(record), sim.sync.kick()))
    wait_for("two calls in the history", lambda: len(rows_of(b, "history")) == 2)
    newest = rows_of(b, "history")[0]["text"]
    assert "callback" in newest and "complaint" in newest and "Бондар Ігор" in newest
    wait_for("both synced", lambda: text_of(b, "#history tbody").count("✓") == 2, timeout=10)
    wait_for("the central server's count", lambda: text_of(b, "#central-count") == "2")
    central = wait_for("the central server's records", lambda: len(r := rows_of(b, "central-records")) == 2 and r)
    assert "complaint" in central[0]["text"] and "answered" in central[1]["text"]

    # the server goes down: a new call waits in the journal, and the page says so
    b.find_element(By.ID, "server").click()
    wait_for("server down", lambda: not sim.server_up)
    body.send_keys(Keys.SPACE)
    wait_for("second call", lambda: sim.panel.off_hook())
    body.send_keys(Keys.SPACE)
    wait_for("a call waiting", lambda: "waiting" in text_of(b, "#history tbody tr:first-child"))
    assert text_of(b, "#central-count") == "2"


def test_the_plot_of_the_line_over_the_last_minute(unit, browser):
    sim, panel = unit
    b = browser
    b.get(panel.url)
    plot = b.find_element(By.ID, "plot")
    band_pixel = ("const c = document.getElementById('plot'); const r = c.width / c.clientWidth;"
                  "const d = c.getContext('2d').getImageData(c.width - 3, c.height - Math.round(5 * r), 1, 1).data;"
                  "return [d[0], d[1], d[2]];")
    wait_for("samples with no call", lambda: int(plot.get_attribute("data-samples")) > 0)
    assert plot.get_attribute("data-verdict") == ""
    b.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)
    def band_is(colour: str) -> bool:
        pixel = b.execute_script(band_pixel)  # [r, g, b]
        i = {"red": 0, "green": 1}[colour]
        return all(pixel[i] > pixel[j] + 60 for j in range(3) if j != i)

    wait_for("a good line on the plot", lambda: plot.get_attribute("data-verdict") == "good", timeout=10)
    wait_for("the verdict band's newest end green", lambda: band_is("green"), timeout=5)
    b.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="dead"]').click()
    wait_for("a dead line on the plot", lambda: plot.get_attribute("data-verdict") in ("no_signal", "unintelligible"),
             timeout=10)
    wait_for("the verdict band's newest end red", lambda: band_is("red"), timeout=5)
    meter = b.execute_script("return fetch('/api/meter').then(r => r.json())")
    verdicts = {s["verdict"] for s in meter["samples"]}
    assert {"good"} < verdicts and meter["window_s"] == 60
    assert all(meter["now"] - s["t"] <= 60 for s in meter["samples"])

    b.find_element(By.TAG_NAME, "body").send_keys(Keys.SPACE)  # hang up: nothing stale is left showing
    wait_for("no verdict after hang-up", lambda: plot.get_attribute("data-verdict") == "", timeout=10)
    wait_for("the meter cleared", lambda: text_of(b, "#m-score-out") == "–" and text_of(b, "#verdict") == "–")


def test_the_page_fits_a_360_px_wide_screen(unit, browser):
    sim, panel = unit
    b = browser
    b.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    b.get(panel.url)
    wait_for("panel live", lambda: b.find_element(By.ID, "conn").get_attribute("data-state") == "live")
    assert b.execute_script("return window.innerWidth") == 360
    assert b.execute_script("return document.documentElement.scrollWidth") <= 360
    too_wide = b.execute_script(
        "return [...document.querySelectorAll('button, canvas, input, select, table')]"
        ".filter(e => e.getBoundingClientRect().right > 360 && !e.closest('.scroll'))"
        ".map(e => e.id || e.dataset.key || e.tagName)")
    assert too_wide == []
    b.find_element(By.CSS_SELECTOR, '.keypad [data-key="5"]').click()  # reachable and working
    b.find_element(By.ID, "hook").click()
    wait_for("off hook from the narrow page", lambda: sim.panel.off_hook())
