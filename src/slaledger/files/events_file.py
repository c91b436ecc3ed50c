"""Reading an events file: maintenance and exclusion windows, checked against the contract."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.windows import check_events
from slaledger.errors import EventsError
from slaledger.files.yaml_document import (
    Finding,
    explain_validation_error,
    read_yaml_mapping,
)

_UNION_HINTS = {"services": "'*', a service id or a list of service ids"}
"""What a field whose type is a union expects, said once instead of once per member."""


def load_events(path: Path, contract: Contract) -> Events:
    """The events in ``path`` (an empty file: none), valid for ``contract``.

    :class:`EventsError` lists every mistake in file order: malformed windows first; once they
    are all well formed, windows naming a service the contract lacks or a cause it does not
    allow.
    """
    document = read_yaml_mapping(path, EventsError, allow_empty=True)
    try:
        events = Events.model_validate(document.data)
    except ValidationError as error:
        findings = explain_validation_error(document, Events, error, _UNION_HINTS)
        raise EventsError(document.problems(map(_on_end, findings))) from None
    semantic = [Finding(found.path, found.message) for found in check_events(contract, events)]
    if semantic:
        raise EventsError(document.problems(semantic))
    return events


def _on_end(finding: Finding) -> Finding:
    """A window's own check (end after start) reported on its ``end`` key."""
    window_level = len(finding.path) == 2 and isinstance(finding.path[1], int)
    if window_level and finding.kind == "value_error":
        return Finding((*finding.path, "end"), finding.message, finding.kind)
    return finding
