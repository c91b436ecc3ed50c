"""The three rules of docs/architecture.md, checked on the source itself (its imports and
calls, read with :mod:`ast`): the core reads no clock and does no I/O; imports run down;
nothing below the command line reaches up to it or to the composition root."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "slaledger"

CORE_LIBRARIES = {"numpy", "pydantic", "pydantic_core", "nh3", "markdown_it"}
"""Third-party libraries the core may use: pure computation and validation."""
NO_IO = {
    "asyncio",
    "http.client",
    "http.server",
    "io",
    "logging",
    "multiprocessing",
    "os",
    "pathlib",
    "select",
    "shutil",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "urllib.request",
}
"""Standard modules that do I/O or read a clock: not for the core."""
CLOCK_READS = {
    "now",
    "utcnow",
    "today",
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "process_time",
}
CLOCK_OWNERS = {"datetime", "date", "time"}
IO_CALLS = {"open", "print", "input"}
ADAPTERS = ("files", "store", "probes", "notify", "status", "web", "agent")
"""The packages around the core; none may import the command line or the composition root."""
ABOVE_ADAPTERS = {"cli", "app", "__main__"}


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package: its dotted name and its file."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every import of the file, relative ones made absolute (an
    ``import`` under ``TYPE_CHECKING`` counts: it is a dependency all the same)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # ``from slaledger import cli`` imports a package
                yield node.lineno, f"{name}.{alias.name}"


def part(name: str) -> str | None:
    """The top-level part of the package a module belongs to (``core``, ``app``, …)."""
    pieces = name.split(".")
    if pieces[0] != "slaledger":
        return None
    return pieces[1] if len(pieces) > 1 else "slaledger"


def known_part(name: str) -> str | None:
    """:func:`part`, for names that are modules or packages of slaledger (not attributes)."""
    found = part(name)
    if found is None or found == "slaledger":
        return found
    base = PACKAGE / found
    return found if base.is_dir() or base.with_suffix(".py").exists() else "slaledger"


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{line}"


def test_the_core_imports_only_itself_the_errors_and_pure_libraries() -> None:
    wrong: list[str] = []
    for module, path in modules():
        if part(module) != "core":
            continue
        for line, name in imported(module, path):
            top = name.split(".")[0]
            if name.startswith("slaledger."):
                if known_part(name) not in {"core", "errors"}:
                    wrong.append(f"{where(path, line)} imports {name}")
            elif any(name == banned or name.startswith(f"{banned}.") for banned in NO_IO):
                wrong.append(f"{where(path, line)} imports {name} (I/O or a clock)")
            elif top not in sys.stdlib_module_names and top not in CORE_LIBRARIES | {"__future__"}:
                wrong.append(f"{where(path, line)} imports {name} (not a library for the core)")
    assert not wrong, "\n".join(wrong)


def test_the_core_reads_no_clock_and_opens_nothing() -> None:
    wrong: list[str] = []
    for module, path in modules():
        if part(module) != "core":
            continue
        for node in ast.walk(tree(path)):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            if isinstance(function, ast.Name) and function.id in IO_CALLS:
                wrong.append(f"{where(path, node.lineno)} calls {function.id}()")
            if isinstance(function, ast.Attribute) and function.attr in CLOCK_READS:
                owner = function.value
                owner_name = (
                    owner.id
                    if isinstance(owner, ast.Name)
                    else owner.attr
                    if isinstance(owner, ast.Attribute)
                    else None
                )
                if owner_name in CLOCK_OWNERS:
                    wrong.append(f"{where(path, node.lineno)} reads the clock: {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapters_do_not_reach_up_to_the_command_line_or_the_root(adapter: str) -> None:
    wrong = [
        f"{where(path, line)} imports {name}"
        for module, path in modules()
        if part(module) == adapter
        for line, name in imported(module, path)
        if known_part(name) in ABOVE_ADAPTERS
    ]
    assert not wrong, "\n".join(wrong)


def test_the_errors_module_imports_nothing_of_the_package() -> None:
    path = PACKAGE / "errors.py"
    assert [name for _, name in imported("slaledger.errors", path) if part(name)] == []


def test_imports_run_down_no_circle_between_parts() -> None:
    """The parts of the package (core, files, store, …, cli, app) import each other
    without a circle, so they stack in layers."""
    edges: dict[str, set[str]] = {}
    for module, path in modules():
        source = part(module)
        assert source is not None
        for _, name in imported(module, path):
            target = known_part(name)
            if target is not None and target not in {source, "slaledger"}:
                edges.setdefault(source, set()).add(target)
    circles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for following in sorted(edges.get(node, ())):
            if state.get(following) == "open":
                circles.append([*trail[trail.index(following) :], following])
            elif following not in state:
                visit(following, [*trail, following])
        state[node] = "done"

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not circles, "\n".join(" → ".join(circle) for circle in circles)
    assert edges["core"] == {"errors"}
