"""The composition root: wires file adapters to the pure core for each command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from slaledger.adapters.contract_file import load_contract
from slaledger.adapters.csv_observations import read_observations
from slaledger.adapters.events_file import load_events
from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.periods import parse_month
from slaledger.core.report import Report
from slaledger.core.settle import settle
from slaledger.core.timebase import to_instant
from slaledger.errors import Problem, UsageError


def parse_month_option(text: str) -> tuple[int, int]:
    try:
        return parse_month(text)
    except ValueError as error:
        raise UsageError(Problem(str(error), field="--month")) from None


def parse_instant_option(text: str, option: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(
            Problem(
                f"expected an ISO 8601 instant with Z or an offset, e.g. 2026-11-01T00:00:00Z, "
                f"got {text!r}",
                field=option,
            )
        )
    return to_instant(moment)


def report_from_files(
    contract_path: Path,
    probes_path: Path,
    events_path: Path | None,
    month_text: str,
    at_text: str | None = None,
) -> Report:
    """Load a contract, its observations and events, and settle the month."""
    month = parse_month_option(month_text)
    at = None if at_text is None else parse_instant_option(at_text, "--at")
    contract = load_contract(contract_path)
    events = Events() if events_path is None else load_events(events_path, contract)
    observations = read_observations(probes_path, list(contract.services))
    return settle(contract, observations, events, month, at=at)


def check_contract(contract_path: Path) -> Contract:
    return load_contract(contract_path)
