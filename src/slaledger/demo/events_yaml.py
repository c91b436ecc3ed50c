"""Events as the YAML text of an events file (the format of docs/contracts.md, "Events file")."""

from __future__ import annotations

import json
import re
from datetime import datetime

from slaledger.core.events import Events, ExclusionWindow, MaintenanceWindow
from slaledger.core.timebase import format_instant, to_instant

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def events_yaml(events: Events, header: str = "") -> str:
    """Block-style YAML that reads back as ``events``; ``header`` becomes comment lines."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for key, windows in (("maintenance", events.maintenance), ("exclusions", events.exclusions)):
        if not windows:
            lines.append(f"{key}: []")
            continue
        lines.append(f"{key}:")
        for window in windows:
            fields = _fields(window)
            for index, (name, value) in enumerate(fields):
                lead = "  - " if index == 0 else "    "
                lines.append(f"{lead}{name}: {value}")
    return "\n".join(lines) + "\n"


def _fields(window: MaintenanceWindow | ExclusionWindow) -> list[tuple[str, str]]:
    services = window.services
    fields = [("services", '"*"' if services == "*" else _list(services))]
    if window.location is not None:
        fields.append(("location", _scalar(window.location)))
    fields += [("start", _instant(window.start)), ("end", _instant(window.end))]
    if isinstance(window, MaintenanceWindow):
        fields.append(("announced", _instant(window.announced)))
        if window.title:
            fields.append(("title", _text(window.title)))
    else:
        fields.append(("cause", _scalar(window.cause)))
        if window.note:
            fields.append(("note", _text(window.note)))
    return fields


def _instant(moment: datetime) -> str:
    return format_instant(to_instant(moment))


def _list(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(_scalar(name) for name in names) + "]"


def _scalar(text: str) -> str:
    """``text`` plain when YAML reads it back as that same string, else double-quoted."""
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return _text(text)


def _text(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)
