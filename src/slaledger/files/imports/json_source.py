"""JSON exports read whole, with problems located by line and path.

:func:`json.loads` keeps no positions, so a problem is first found in the decoded value and
named by its path (``monitors[0].logs[3].datetime``); only then is the text walked again,
value by value with the C decoder, to find the line that path starts on.

Hostile files: a file larger than :data:`MAX_IMPORT_BYTES` is refused before it is read, and
JSON nested more than :data:`MAX_JSON_DEPTH` levels deep is refused with the path and line
where it goes too deep (exports nest four or five levels).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from slaledger.errors import ObservationsError, Problem
from slaledger.files.atomic import decode_utf8, read_input

PathStep = str | int
JsonPath = tuple[PathStep, ...]

_BOM = "\ufeff"
_SPACE = re.compile(r"[ \t\n\r]*")
_SHOWN_CHARS = 60

MAX_IMPORT_BYTES = 256 * 1024 * 1024
"""Largest export file read whole (a year of one-minute logs of 100 monitors is ~100 MB)."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects an import file may have."""


def read_text(path: Path) -> str:
    """The file as UTF-8 text without a byte-order mark; one located problem otherwise."""
    source = str(path)
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = 0  # read_input says why it cannot be read
    if size > MAX_IMPORT_BYTES:
        message = (
            f"the file has {size} bytes, more than the {MAX_IMPORT_BYTES} an import reads; "
            "split the export by monitor or by month"
        )
        raise ObservationsError(Problem(message, source))
    data = read_input(path, ObservationsError)
    return decode_utf8(data, source, ObservationsError).removeprefix(_BOM)


def looks_like_json(text: str) -> bool:
    """Whether the text starts (after white space) like a JSON object or array."""
    return text.lstrip()[:1] in ("{", "[")


@dataclass(frozen=True)
class JsonDocument:
    """A decoded JSON file and how to name a place in it."""

    source: str
    text: str
    value: Any

    @classmethod
    def parse(cls, source: str, text: str) -> JsonDocument:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ObservationsError(
                Problem(f"expected valid JSON: {error.msg}", source, error.lineno)
            ) from None
        except RecursionError:
            raise ObservationsError(Problem(_TOO_DEEP, source)) from None
        document = cls(source, text, value)
        too_deep = _too_deep(value)
        if too_deep is not None:
            document.fail(too_deep, _TOO_DEEP)
        return document

    def fail(self, where: JsonPath, message: str) -> NoReturn:
        """Raise one problem at ``where``: the line it starts on (for a missing key, the line
        of the object that lacks it) and its path as the field."""
        field = path_text(where) if where else None
        line = None
        for length in range(len(where), -1, -1):
            line = line_of(self.text, where[:length])
            if line is not None:
                break
        raise ObservationsError(Problem(message, self.source, line, field))


_TOO_DEEP = f"expected JSON nested at most {MAX_JSON_DEPTH} levels deep"


def _too_deep(value: Any) -> JsonPath | None:
    """The path of an array or object deeper than :data:`MAX_JSON_DEPTH`, if any.

    Level by level without paths (a year of logs is millions of objects); the path is
    looked for only when the file is too deep.
    """
    level = [value] if type(value) in (dict, list) else []
    depth = 1
    while level:
        if depth > MAX_JSON_DEPTH:
            return _deep_path(value)
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below += [child for child in children if type(child) in (dict, list)]
        level, depth = below, depth + 1
    return None


def _deep_path(value: Any) -> JsonPath:
    """The path of the first array or object found deeper than :data:`MAX_JSON_DEPTH`."""
    pending: list[tuple[JsonPath, Any]] = [((), value)]
    while pending:
        where, item = pending.pop()
        if len(where) >= MAX_JSON_DEPTH:
            return where
        steps = item.items() if type(item) is dict else enumerate(item)
        pending.extend(
            ((*where, step), child) for step, child in steps if type(child) in (dict, list)
        )
    raise AssertionError("called on a value that is not too deep")


def path_text(where: JsonPath) -> str:
    """``("monitors", 0, "logs", 3)`` → ``monitors[0].logs[3]``."""
    text = ""
    for step in where:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def shown(value: Any) -> str:
    """A JSON value as it would be written, cut short for a one-line message."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return text


def line_of(text: str, where: JsonPath) -> int | None:
    """The line the value at ``where`` starts on, or ``None`` if the path is not in the text."""
    position = _position(text, where)
    return None if position is None else text.count("\n", 0, position) + 1


def _position(text: str, where: JsonPath) -> int | None:
    decoder = json.JSONDecoder()

    def skip(position: int) -> int:
        match = _SPACE.match(text, position)
        return position if match is None else match.end()

    try:
        position = skip(0)
        for step in where:
            if isinstance(step, int):
                if text[position] != "[":
                    return None
                position = skip(position + 1)
                for _ in range(step):
                    _, position = decoder.raw_decode(text, position)
                    position = skip(position)
                    if text[position] != ",":
                        return None
                    position = skip(position + 1)
                continue
            if text[position] != "{":
                return None
            position = skip(position + 1)
            while True:
                if text[position] != '"':
                    return None
                key, position = decoder.raw_decode(text, position)
                position = skip(position)
                if text[position] != ":":
                    return None
                position = skip(position + 1)
                if key == step:
                    break
                _, position = decoder.raw_decode(text, position)
                position = skip(position)
                if text[position] != ",":
                    return None
                position = skip(position + 1)
    except (IndexError, json.JSONDecodeError):
        return None
    return position


def pages(document: JsonDocument, key: str, what: str) -> list[tuple[JsonPath, list[Any]]]:
    """The ``key`` lists of a response object, or of each object of an array of them.

    An array stands for several pages of one API call saved into one file.
    """
    value = document.value
    found: list[tuple[JsonPath, list[Any]]] = []
    if isinstance(value, list):
        candidates: list[tuple[JsonPath, Any]] = [
            ((index,), page) for index, page in enumerate(value)
        ]
    else:
        candidates = [((), value)]
    for where, page in candidates:
        if not isinstance(page, dict):
            document.fail(where, f"expected {what}, an object with a {key!r} list")
        items = page.get(key)
        if not isinstance(items, list):
            document.fail(
                where, f"expected {what}, an object with a {key!r} list; {keys_found(page)}"
            )
        found.append(((*where, key), items))
    return found


def keys_found(value: dict[str, Any]) -> str:
    """``found the keys 'a', 'b'`` for a message about a missing key."""
    if not value:
        return "found an empty object"
    return "found the keys " + ", ".join(repr(key) for key in list(value)[:8])
