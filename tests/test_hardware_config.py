"""Configurations that cannot run on a desk are refused by `deskunit config check` (exit 78, naming the key)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from firmware.config import ConfigError, load_config
from hal.audio import audio_device


@pytest.mark.parametrize("body, key, words", [
    ('[server]\nurl = "http://central.example.org/api/v1"\ntoken = "t"\n', "server.url", ["https", "allow_http"]),
    ('[server]\nurl = "https://central.example.org/api/v1"\n', "server.token", ["required"]),
    ('[server]\nurl = "https://c.example.org"\ntoken = "t"\nca_file = "/nonexistent/ca.pem"\n', "server.ca_file",
     ["no such file"]),
    ('[audio]\nbackend = "pyaudio"\ndevice = "USB Audio"\n', "audio.device", ["index"]),
    ('[audio]\ndevice = "hw:1,0"\n', "audio.device", ["resampling", "plug"]),
    ('[audio]\ndevice = -1\n', "audio.device", ["0 or more"]),
])
def test_config_check_refuses_what_cannot_run_and_names_the_key(tmp_path, body, key, words):
    path = tmp_path / "site.toml"
    path.write_text(body)
    p = subprocess.run([sys.executable, "-m", "deskunit.cli", "config", "check", str(path)],
                       capture_output=True, text=True)
    assert p.returncode == 78, p.stdout + p.stderr
    assert key in p.stderr and "Traceback" not in p.stderr
    for word in words:
        assert word in p.stderr


def test_a_lab_may_opt_in_to_http():
    cfg = load_config(overrides={"server": {"url": "http://10.0.0.5:8080/api/v1", "token": "t", "allow_http": True}})
    assert cfg["server"]["url"].startswith("http://")
    with pytest.raises(ConfigError) as e:
        load_config(overrides={"server": {"url": "http://10.0.0.5:8080/api/v1", "token": "t"}})
    assert e.value.key == "server.url"


@pytest.mark.parametrize("value, device", [("", None), (0, 0), ("0", 0), (3, 3), ("deskunit", "deskunit"),
                                           ("default", "default")])
def test_audio_device_zero_is_the_first_device_and_empty_is_the_default(value, device):
    assert audio_device(value) == device
