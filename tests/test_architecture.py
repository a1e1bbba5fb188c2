"""Architecture rules that keep the unit testable: the logic never touches a hardware library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARDWARE = {"gpiozero", "RPLCD", "smbus", "smbus2", "serial", "sounddevice", "pyaudio", "lgpio", "RPi"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_firmware_never_imports_a_hardware_library():
    offenders = {str(p.relative_to(ROOT)): sorted(imported_modules(p) & HARDWARE)
                 for p in (ROOT / "firmware").rglob("*.py") if imported_modules(p) & HARDWARE}
    assert offenders == {}


def test_hal_imports_its_drivers_lazily():
    """Importing every hal module (and the whole firmware) loads no hardware library at all."""
    code = ("import sys, importlib, pkgutil, firmware, hal\n"
            "for pkg in (firmware, hal):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        importlib.import_module(m.name)\n"
            f"print(sorted(set(sys.modules) & set({sorted(HARDWARE)!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
