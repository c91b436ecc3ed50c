"""A request body's first validation problem in one line, naming its field."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

SHOWN_INPUT = 80
"""Longest input quoted in a message."""


def field_error(error: ValidationError, patterns: Mapping[str, str] | None = None) -> str:
    """``results.3.error: input should be …, got 'x'``; ``patterns`` words what a field's
    pattern expects (``{"batch_id": "expected 32 lowercase hex digits"}``)."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    kind = first["type"]
    if kind == "missing":
        return f"{where}: required"
    if kind == "json_invalid":
        return f"body: not valid JSON ({first.get('ctx', {}).get('error', first['msg'])})"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "model_type":
        return "body: expected a JSON object"
    if kind == "string_pattern_mismatch" and patterns and where in patterns:
        message = patterns[where]
    else:
        message = first["msg"][0].lower() + first["msg"][1:]
    shown = repr(first["input"])
    shown = shown if len(shown) <= SHOWN_INPUT else shown[: SHOWN_INPUT - 3] + "..."
    return f"{where}: {message}, got {shown}"
