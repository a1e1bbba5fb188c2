"""The browser panel's fault buttons reach the simulated hardware, and the unit lives through them."""

from __future__ import annotations

from test_panel_server import request, served, state_when  # noqa: F401 - the fixture is used by name


def test_an_lcd_power_blip_from_the_panel_is_healed(served):  # noqa: F811
    sim, panel = served
    state_when(panel, lambda s: "Чepгa" in " ".join(s["lcd"]["text"]))
    before = sim.lcd.power_cycles
    assert request(panel, "POST", "/api/fault", {"fault": "lcd_power"}) == (200, {"ok": True})
    state_when(panel, lambda s: sim.lcd.power_cycles == before + 1 and s["lcd"]["display_on"]
               and "Чepгa" in " ".join(s["lcd"]["text"]), timeout=6)


def test_audio_unplug_and_a_bad_fault_name(served):  # noqa: F811
    sim, panel = served
    assert request(panel, "POST", "/api/fault", {"fault": "audio_unplug"})[0] == 200
    state_when(panel, lambda s: not sim.audio_plugged)  # injected on the loop's thread, between transfers
    status, reply = request(panel, "POST", "/api/fault", {"fault": "lcd_fire"})
    assert status == 400 and "lcd_fire" in reply["error"]
    assert request(panel, "POST", "/api/fault", {"fault": "audio_replug"})[0] == 200
    state_when(panel, lambda s: sim.audio_plugged)
