#!/usr/bin/env python3
"""Screenshots of the simulator's browser panel for the README: docs/panel-20x4.png and docs/panel-16x2.png.

Each runs a simulated unit (real drivers, simulated clock set to a Monday morning, operator signed
in, the reference central server on loopback), makes one short call so the history has a row, starts
a second call, and photographs the page in headless Chromium (Debian's chromium and chromium-driver):

    python3 scripts/panel_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from firmware.config import load_config
from hwsim.clock import SimClock
from hwsim.panel_server import PanelServer
from hwsim.sync_sim import attach_sync
from hwsim.unit import SIM_TECHNICIAN_PIN, SimUnit

WINDOW = (1120, 1320)


def shoot(size: str, out: Path, driver: webdriver.Chrome, state_dir: Path) -> Path:
    clock = SimClock()
    clock.set_wall(datetime.fromisoformat("2026-11-23T09:14:20+02:00"), "panel")
    sim = SimUnit.create(load_config(overrides={"lcd": {"size": size}}), clock, state_dir=state_dir)
    sim.technician_pin = SIM_TECHNICIAN_PIN
    sim.unit.sign_in(7, "Олена Петренко")
    attach_sync(sim, set_time=False)
    sim.start_realtime()
    panel = PanelServer(sim, port=0).start()
    try:
        driver.get(panel.url)
        sim.hook(off=True)
        time.sleep(3.0)
        sim.hook(off=False)  # one call in the history
        time.sleep(1.5)
        sim.hook(off=True)
        time.sleep(6.0)  # the plot fills in; the greeting is on the glass
        target = out / f"panel-{size}.png"
        driver.save_screenshot(str(target))
        return target
    finally:
        panel.stop()
        sim.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs"))
    args = ap.parse_args()
    profile = tempfile.mkdtemp(prefix="deskunit-shots-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                 "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        for size in ("20x4", "16x2"):
            with tempfile.TemporaryDirectory() as state:
                print(shoot(size, Path(args.out), driver, Path(state)))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
