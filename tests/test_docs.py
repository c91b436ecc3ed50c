"""The reference in docs/ says what the code does: every key of ``checks:`` is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from slaledger.core.checks import (
    CheckBase,
    DnsCheck,
    HttpCheck,
    JsonCondition,
    TcpCheck,
    TlsCheck,
    format_check_duration,
)
from slaledger.files.contract_file import load_contract

CONTRACTS_MD = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"

SPECIAL_DEFAULTS = {
    ("id", None): "`<service>:<type>:<index>`",
    ("server_name", None): "`host`",
    ("server", None): "the system's resolver",
    ("max_body_bytes", 1 << 20): "`1048576` (1 MiB)",
}


def _section(heading: str) -> str:
    text = CONTRACTS_MD.read_text()
    start = text.index(f"\n{heading}\n")
    following = re.search(r"\n#{2,4} ", text[start + len(heading) + 2 :])
    assert following is not None
    return text[start : start + len(heading) + 2 + following.start()]


def _table(heading: str) -> dict[str, list[str]]:
    """Rows of the section's table: key → the other cells."""
    rows = {}
    for line in _section(heading).splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if line.startswith("| `"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _shown(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if (name, value) in SPECIAL_DEFAULTS:
        return SPECIAL_DEFAULTS[(name, value)]
    if value is None:
        return "none"
    if name in ("interval", "timeout"):
        return f"`{format_check_duration(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`[{', '.join(str(v) for v in value)}]`"
    return f"`{value}`"


def _default(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.default_factory is not None:
        return _shown(name, field.default_factory())  # type: ignore[call-arg]
    if field.default is PydanticUndefined:
        return "required"
    return _shown(name, field.default)


def test_every_check_key_is_documented_with_its_default() -> None:
    common = set(CheckBase.model_fields)
    tables: list[tuple[str, type[BaseModel], set[str]]] = [
        ("#### Every check", HttpCheck, {*common, "type"}),
        ("#### `type: http`", HttpCheck, set(HttpCheck.model_fields) - common - {"type"}),
        ("#### `type: tcp`", TcpCheck, set(TcpCheck.model_fields) - common - {"type"}),
        ("#### `type: dns`", DnsCheck, set(DnsCheck.model_fields) - common - {"type"}),
        ("#### `type: tls`", TlsCheck, set(TlsCheck.model_fields) - common - {"type"}),
    ]
    for heading, model, keys in tables:
        rows = _table(heading)
        assert set(rows) == keys, heading
        for key in keys - {"type"}:
            assert rows[key][1] == _default(model, key), (heading, key)
    assert set(_table("#### JSON conditions")) == set(JsonCondition.model_fields)


def test_check_durations_take_milliseconds() -> None:
    text = _section("#### Check durations")
    assert "`500ms`" in text
    assert "expected a duration with a unit (500ms, 10s, 5m),\ngot 5" in text


def test_the_checks_example_is_a_valid_contract(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(checks:\n.*?)```", _section("### Checks"), re.DOTALL)
    assert example is not None
    indented = "\n".join(f"    {line}" for line in example.group(1).splitlines())
    path = tmp_path / "contract.yaml"
    path.write_text(
        "contract: doc\nname: Doc\nservices:\n  site:\n    name: Site\n    target: '99.9'\n"
        f"    downtime: {{rule: probe-ratio}}\n{indented}\n"
    )
    checks = load_contract(path).services["site"].checks
    assert [getattr(c, "type", None) for c in checks] == ["http", "http", "tcp", "dns", "tls"]
    assert checks[1].timeout == 500_000
