"""A month settled with its records: uptime with the recorded outages, and the commitments.

What a monthly statement holds, whoever issues it (``slaledger statement issue`` or the
publisher when a month is over): the report of :func:`~slaledger.core.settle.settle_classified`
with the ``outage`` records merged into the uptime rules, and the contract's commitments
settled from the other records, judged at the end of the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.classified import Classified
from slaledger.core.commitments import RecordSet, settle_commitments
from slaledger.core.contract import Contract
from slaledger.core.events import Events
from slaledger.core.outages import from_records, outage_intervals
from slaledger.core.periods import calendar_month
from slaledger.core.report import Report
from slaledger.core.settle import settle_classified


def settle_month_with_records(
    contract: Contract,
    classified: Classified,
    events: Events,
    month: tuple[int, int],
    records: RecordSet | None,
    calendars: Mapping[str, BusinessCalendar],
    *,
    source: str = "stored records",
) -> Report:
    """The month's report; without ``records`` (or without commitments in the contract)
    no ``commitments`` section, so statements of uptime-only contracts keep their form."""
    outages = None
    if records is not None and records.outages:
        outages = outage_intervals(contract, from_records(records.outages, source))
    report = settle_classified(contract, classified, events, month, outages=outages)
    if records is None or not contract.commitments:
        return report
    period = calendar_month(*month, contract.zone)
    settled = settle_commitments(contract, calendars, records, period, period.end)
    return replace(report, commitments=settled, evaluated_at=period.end)
