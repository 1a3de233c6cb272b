"""The code stays easy to see: small modules and functions, layers that only import downwards.

Layers, lowest first (ARCHITECTURE.md draws the same picture). A package may import its own
modules and any lower layer, never a higher one; ``validation`` (the Great Expectations gate)
sits beside intake and may only read the schema, the config, the errors and the placeholder
detector.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT
from tests.jslex import functions, scan_js

#: Longest module and longest function (lines, docstrings included) in Python and JavaScript.
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

#: Layers from the bottom up; a package may import only from its own layer and those below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "vocabulary", "processes"),
    ("config",),
    ("intake", "features"),
    ("validation", "catalog"),
    ("clustering",),
    ("evaluation",),
    ("segments",),
    ("scoring", "campaigns"),
    ("history",),
    ("report",),
    ("pipeline",),
    ("publishing", "bench"),
    ("cli",),
)
#: What validation may import (besides itself): it runs before anything is computed.
VALIDATION_MAY_IMPORT = {"intake", "config", "errors", "features", "vocabulary"}

#: Our own JavaScript (vega-bundle.js is generated from vendored packages and not ours).
OWN_JS = sorted((PROJECT_ROOT / "site" / "_static").glob("*.js"))
PY_MODULES = sorted(p for root in ("analysis", "validation", "scripts")
                    for p in (PROJECT_ROOT / root).rglob("*.py"))
#: Modules that belong to a layer (the package markers analysis/__init__.py and scripts/ not).
LAYERED = [p for p in PY_MODULES
           if "scripts" not in p.relative_to(PROJECT_ROOT).parts
           and p != PROJECT_ROOT / "analysis" / "__init__.py"]


def _relative(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def _unit(path: Path) -> str:
    """The layer unit of a module: 'validation', or the package/module under analysis/."""
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    if parts[0] != "analysis":
        return parts[0]
    return parts[1]


def _imported_units(path: Path) -> set[str]:
    """Units a module imports from analysis/ or validation/ (lazy imports included)."""
    units = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "analysis" else \
                [f"analysis.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "validation":
                units.add("validation")
            elif parts[0] == "analysis" and len(parts) > 1:
                units.add(parts[1])
    return units


def _layer_of(unit: str) -> int:
    for level, units in enumerate(LAYERS):
        if unit in units:
            return level
    raise AssertionError(f"{unit} is in no layer: add it to LAYERS and ARCHITECTURE.md")


@pytest.mark.parametrize("path", LAYERED, ids=_relative)
def test_modules_import_only_downwards(path):
    unit = _unit(path)
    level = _layer_of(unit)
    upward = sorted(u for u in _imported_units(path) - {unit} if _layer_of(u) > level)
    assert upward == [], f"{_relative(path)} ({unit}) imports the higher layer(s) {upward}"
    if unit == "validation":
        extra = _imported_units(path) - VALIDATION_MAY_IMPORT - {"validation"}
        assert extra == set(), f"validation may not import {sorted(extra)}"


def test_every_unit_has_a_layer():
    units = {_unit(p) for p in LAYERED}
    for unit in units:
        _layer_of(unit)


def test_architecture_page_names_every_layer():
    text = (PROJECT_ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [u for layer in LAYERS for u in layer if f"`{u}`" not in text]
    assert missing == [], f"ARCHITECTURE.md does not describe {missing}"


@pytest.mark.parametrize("path", PY_MODULES + OWN_JS, ids=_relative)
def test_modules_are_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_relative(path)} has {lines} lines"


@pytest.mark.parametrize("path", PY_MODULES, ids=_relative)
def test_python_functions_are_short(path):
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert long == [], f"{_relative(path)}: {long}"


# ---- JavaScript functions, measured by tests/jslex.py


def test_the_function_scan_sees_a_long_function():
    body = "\n".join(f"  x += {i};" for i in range(70))
    _, braces = scan_js(f"function f(x) {{\n{body}\n  if (x) {{ return 1; }}\n}}\n")
    functions = [(s, e) for s, e, is_function in braces if is_function]
    assert functions == [(1, 73)]


@pytest.mark.parametrize("path", OWN_JS, ids=_relative)
def test_javascript_functions_are_short(path):
    source = path.read_text(encoding="utf-8")
    found = functions(source)
    assert found, f"{_relative(path)}: no function found (scanner broken?)"
    # a function wrapping (nearly) the whole file is the module itself (an IIFE): its length is
    # the module's, checked above
    whole = 0.8 * len(source.splitlines())
    long = [f"lines {start}-{end}" for start, end in found
            if end - start + 1 > MAX_FUNCTION_LINES and end - start + 1 < whole]
    assert long == [], f"{_relative(path)}: functions over {MAX_FUNCTION_LINES} lines: {long}"
