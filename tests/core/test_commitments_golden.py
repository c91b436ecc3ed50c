"""Hand-worked first-response and deadline cases on the seeds' calendars, to the microsecond."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from slaledger.core.business_calendar import BusinessCalendar
from slaledger.core.commitment_results import CommitmentResult, ItemResult
from slaledger.core.commitment_spec import Deadline, FirstResponse
from slaledger.core.commitments import RecordSet, settle_commitments
from slaledger.core.deadline import evaluate_deadline
from slaledger.core.first_response import evaluate_first_response
from slaledger.core.periods import calendar_month
from slaledger.core.records import RECORD_ADAPTER, AnyRecord
from slaledger.core.timebase import parse_instant as t
from slaledger.files.business_calendars import calendar_of
from slaledger.files.contract_file import load_contract

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "contracts"
UTC = ZoneInfo("UTC")
DECEMBER = calendar_month(2026, 12, UTC)
OCTOBER = calendar_month(2026, 10, UTC)

P1 = FirstResponse(kind="first-response", severity="P1", within="1h", calendar="uk-office")
TIER2 = FirstResponse(kind="first-response", severity="tier-2", within="4h", calendar="cet")
SWAP = Deadline(kind="deadline", records="hardware-swap", within="4h", calendar="cet")


def uk_office() -> BusinessCalendar:
    return calendar_of(load_contract(EXAMPLES / "itstabyl.yaml"), "uk-office")


def cet_support() -> BusinessCalendar:
    return calendar_of(load_contract(EXAMPLES / "hosting-pop.yaml"), "cet-support")


def ticket(ident: str, opened: str, *replies: tuple[str, str], severity: str = "P1") -> AnyRecord:
    return RECORD_ADAPTER.validate_python(
        {
            "kind": "ticket",
            "id": ident,
            "customer": "acme",
            "severity": severity,
            "opened": opened,
            "responses": [{"at": at, "by": by} for at, by in replies],
        }
    )


def swap(ident: str, diagnosed: str, replaced: str | None = None) -> AnyRecord:
    fields = {"kind": "hardware-swap", "id": ident, "customer": "acme", "diagnosed": diagnosed}
    if replaced is not None:
        fields["replaced"] = replaced
    return RECORD_ADAPTER.validate_python(fields)


def first_response(
    records: list[AnyRecord],
    at: int,
    spec: FirstResponse = P1,
    calendar: BusinessCalendar | None = None,
) -> CommitmentResult:
    tickets = RecordSet.of(records).tickets
    period = OCTOBER if spec is TIER2 else DECEMBER
    return evaluate_first_response("support", spec, calendar or uk_office(), tickets, period, at)


def test_p1_on_christmas_eve_is_due_the_tuesday_after() -> None:
    # 17:30-18:00 Thursday counts 30 min; Christmas (Fri), the weekend and the observed
    # Boxing Day (Mon 28th) are closed; 09:00-09:30 Tuesday counts the other 30 min.
    assert uk_office().due(t("2026-12-24T17:30:00Z"), 3_600_000_000) == t("2026-12-29T09:30:00Z")


def test_a_reply_exactly_at_due_is_met_and_a_microsecond_later_missed() -> None:
    records = [
        ticket(
            "T-1",
            "2026-12-24T17:30:00Z",
            ("2026-12-24T17:30:05Z", "auto"),
            ("2026-12-29T09:30:00Z", "human"),
        ),
        ticket("T-2", "2026-12-24T17:30:00Z", ("2026-12-29T09:30:00.000001Z", "human")),
    ]
    result = first_response(records, t("2027-01-01T00:00:00Z"))
    assert result.met is False
    assert result.counts == {"met": 1, "missed": 1, "pending": 0, "not-covered": 0}
    assert result.items == (
        ItemResult(
            id="T-2",
            start=t("2026-12-24T17:30:00Z"),
            due=t("2026-12-29T09:30:00Z"),
            end=t("2026-12-29T09:30:00.000001Z"),
            elapsed_seconds=Decimal("3600.000001"),
            status="missed",
            customer="acme",
        ),
    )


def test_auto_acknowledgements_never_stop_the_clock() -> None:
    records = [ticket("T-3", "2026-12-07T10:00:00Z", ("2026-12-07T10:00:01Z", "auto"))]
    pending = first_response(records, t("2026-12-07T11:00:00Z"))
    assert (pending.met, pending.counts["pending"]) == (None, 1)
    assert pending.items[0].status == "pending"
    assert pending.items[0].elapsed_seconds == Decimal(3600)
    missed = first_response(records, t("2026-12-07T11:00:00.000001Z"))
    assert (missed.met, missed.items[0].status, missed.items[0].end) == (False, "missed", None)


def test_a_budget_ending_exactly_at_closing_time_is_due_at_closing() -> None:
    records = [ticket("T-4", "2026-12-07T17:00:00Z", ("2026-12-07T18:00:00Z", "human"))]
    assert uk_office().due(t("2026-12-07T17:00:00Z"), 3_600_000_000) == t("2026-12-07T18:00:00Z")
    result = first_response(records, t("2027-01-01T00:00:00Z"))
    assert (result.met, result.items) == (True, ())


def test_tier2_opened_friday_evening_before_the_october_dst_change() -> None:
    # Friday 2026-10-23 20:00 CEST (18:00Z): 2 h until 22:00; the weekend is closed and
    # clocks go back on Sunday; Monday opens 09:00 CET (08:00Z), 2 h more: 11:00 CET = 10:00Z
    # (not 09:00Z, as the summer offset would give).
    calendar = cet_support()
    opened = "2026-10-23T20:00:00+02:00"
    assert calendar.due(t(opened), 4 * 3_600_000_000) == t("2026-10-26T10:00:00Z")
    records = [
        ticket("H-1", opened, ("2026-10-26T10:00:00Z", "human"), severity="tier-2"),
        ticket("H-2", opened, ("2026-10-26T10:00:01Z", "human"), severity="tier-2"),
        ticket("H-3", opened, ("2026-10-24T10:00:01Z", "human"), severity="P1"),
    ]
    result = first_response(records, t("2026-11-01T00:00:00Z"), TIER2, calendar)
    assert result.counts == {"met": 1, "missed": 1, "pending": 0, "not-covered": 0}
    assert [(item.id, item.elapsed_seconds) for item in result.items] == [
        ("H-2", Decimal(4 * 3600 + 1))
    ]


def test_tickets_belong_to_the_month_they_were_opened_in() -> None:
    records = [
        ticket("N-1", "2026-11-30T23:59:59.999999Z"),
        ticket("D-1", "2026-12-01T00:00:00Z"),
        ticket("J-1", "2027-01-01T00:00:00Z"),
    ]
    result = first_response(records, t("2027-02-01T00:00:00Z"))
    assert [item.id for item in result.items] == ["D-1"]


def test_a_swap_one_second_late_is_one_late_hour() -> None:
    # Tuesday 2026-10-06 10:00 CEST: due 14:00 CEST (12:00Z); replaced at 12:00:01Z.
    records = RecordSet.of(
        [
            swap("HW-1", "2026-10-06T10:00:00+02:00", "2026-10-06T12:00:01Z"),
            swap("HW-2", "2026-10-06T10:00:00+02:00", "2026-10-06T12:00:00Z"),
            swap("HW-3", "2026-10-06T10:00:00+02:00", "2026-10-06T14:00:00Z"),
        ]
    )
    result = evaluate_deadline(
        "hardware-swap", SWAP, cet_support(), records.swaps, OCTOBER, OCTOBER.end
    )
    assert result.counts == {"met": 1, "late": 2, "pending": 0, "not-covered": 0}
    assert [(i.id, i.status, i.late_hours, i.elapsed_seconds) for i in result.items] == [
        ("HW-1", "late", 1, Decimal(14401)),
        ("HW-3", "late", 2, Decimal(6 * 3600)),
    ]
    assert result.items[0].due == t("2026-10-06T12:00:00Z")


def test_an_open_swap_is_pending_then_late_by_the_hours_up_to_the_evaluation_instant() -> None:
    records = RecordSet.of([swap("HW-9", "2026-10-30T20:00:00+01:00")])
    calendar = cet_support()
    # Friday 20:00 CET: 2 h that evening, Monday 09:00-11:00 CET (08:00-10:00Z): due
    # 2026-11-02T10:00Z, in November; while open it is October's when evaluated in October.
    pending = evaluate_deadline("hw", SWAP, calendar, records.swaps, OCTOBER, OCTOBER.end)
    assert (pending.met, pending.items[0].status, pending.items[0].due) == (
        None,
        "pending",
        t("2026-11-02T10:00:00Z"),
    )
    november = calendar_month(2026, 11, UTC)
    at = t("2026-11-02T12:30:00Z")
    late = evaluate_deadline("hw", SWAP, calendar, records.swaps, november, at)
    assert (late.met, late.items[0].status, late.items[0].late_hours) == (False, "late", 3)
    assert late.items[0].elapsed_seconds == Decimal(2 * 3600 + 4 * 3600 + 1800)  # to 13:30 CET
    assert evaluate_deadline("hw", SWAP, calendar, records.swaps, OCTOBER, at).items == ()


def test_settle_commitments_dispatches_in_contract_order() -> None:
    contract = load_contract(EXAMPLES / "itstabyl.yaml").model_copy(
        update={"commitments": {"support-p1": P1}}
    )
    records = RecordSet.of([ticket("T-1", "2026-12-24T17:30:00Z")])
    (result,) = settle_commitments(
        contract, {"uk-office": uk_office()}, records, DECEMBER, DECEMBER.end
    )
    assert result.as_dict() == {
        "commitment": "support-p1",
        "kind": "first-response",
        "met": False,
        "counts": {"met": 0, "missed": 1, "pending": 0, "not-covered": 0},
        "items": [
            {
                "id": "T-1",
                "start": "2026-12-24T17:30:00Z",
                "due": "2026-12-29T09:30:00Z",
                "end": None,
                "elapsed_seconds": "99000",  # 30 min + 3 days of 9 h
                "status": "missed",
                "late_hours": None,
            }
        ],
    }
