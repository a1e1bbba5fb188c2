"""Architecture rules that keep the unit testable: the logic never touches a hardware library, no
module or package imports itself through a cycle, and each layer imports only the layers below it
(docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
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


# ---------------------------------------------------------------- import graph

#: Our packages and where their code lives.
PACKAGES = {"firmware": "firmware", "hal": "hal", "hwsim": "hw-sim", "deskunit": "deskunit", "central": "central"}
#: Which of our packages each one may import (itself always). hwsim runs the reference central server
#: on loopback (DESIGN principle 4: "a real HTTP central server"), so it may use central too.
ALLOWED = {
    "firmware": set(),
    "hal": {"firmware"},
    "central": {"firmware"},
    "hwsim": {"firmware", "hal", "central"},
    "deskunit": {"firmware", "hal", "hwsim", "central"},
}


def our_modules() -> dict[str, Path]:
    """Every module of ours by dotted name (a package by its own name)."""
    modules = {}
    for package, folder in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports, anywhere in it (inside functions too).

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else ``pkg``.
    """
    modules = our_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join([*here, *([base] if base else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` of a name inside a module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def collapsed(graph: dict[str, set[str]], level: Callable[[str], str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a, targets in graph.items():
        out.setdefault(level(a), set())
        for b in targets:
            if level(a) != level(b):
                out[level(a)].add(level(b))
    return out


def room(module: str) -> str:
    """A subpackage as one node (``firmware.sync.worker`` -> ``firmware.sync``); a module of a
    package's root stays itself (``firmware.exc``)."""
    return ".".join(module.split(".")[:2])


def test_the_import_graph_sees_imports_inside_functions():
    """The checker itself: a function-local import (hal.assembly -> firmware.sync) is an edge."""
    graph = import_graph()
    assert "firmware.sync" in graph["hal.assembly"]
    assert "firmware.exc" in graph["firmware.config"]


def test_no_module_imports_itself_through_a_cycle():
    assert cycles(import_graph()) == []


def test_no_package_imports_itself_through_a_cycle():
    graph = import_graph()
    assert cycles(collapsed(graph, lambda m: m.split(".")[0])) == []  # firmware, hal, hwsim, deskunit, central
    assert cycles(collapsed(graph, room)) == []  # firmware.sync, firmware.console, firmware.call, ... as wholes


def test_each_layer_imports_only_the_layers_below_it():
    offenders = sorted(f"{a} -> {b}" for a, targets in import_graph().items() for b in targets
                       if b.split(".")[0] != a.split(".")[0] and b.split(".")[0] not in ALLOWED[a.split(".")[0]])
    assert offenders == []


MAX_METHODS = 25
MAX_LINES = 300
SOURCE_ROOTS = ("firmware", "hal", "hw-sim", "deskunit", "central")


def oversized_classes() -> dict[str, tuple[int, int, str]]:
    """Every class in the shipped code above MAX_METHODS methods or MAX_LINES lines: its
    methods, its lines and its docstring, by ``path:Class``."""
    found: dict[str, tuple[int, int, str]] = {}
    for root in SOURCE_ROOTS:
        for path in sorted((ROOT / root).rglob("*.py")):
            if ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                methods = sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in node.body)
                lines = node.end_lineno - node.lineno + 1
                if methods > MAX_METHODS or lines > MAX_LINES:
                    found[f"{path.relative_to(ROOT)}:{node.name}"] = (methods, lines,
                                                                   ast.get_docstring(node) or "")
    return found


def test_a_large_class_says_in_its_docstring_why_it_is_large():
    """A class above the limits is a place where too much gathers unless its docstring says why it
    is one class ("... on purpose: <reason>")."""
    unexplained = {name: (methods, lines) for name, (methods, lines, doc) in oversized_classes().items()
                   if "on purpose" not in doc}
    assert unexplained == {}


def test_the_size_check_finds_large_classes():
    """The check above would fail for a large class: it sees at least the journal's."""
    assert any(name.startswith("firmware/journal") for name in oversized_classes())
