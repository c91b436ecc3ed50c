"""The commitments' table rows, chart geometry and API models, from hand-made views."""

from __future__ import annotations

from decimal import Decimal

from slaledger.core.commitment_publication import CommitmentDay, CommitmentMonth, CommitmentView
from slaledger.core.timebase import parse_instant
from slaledger.web.commitment_display import chart, commitment_rows, compliance, value_text
from slaledger.web.commitments_api import commitment_out

DAY_US = 86_400_000_000
START = parse_instant("2026-09-01T00:00:00Z")


def day(index: int, value: str | None, count: int = 10) -> CommitmentDay:
    seconds = None if value is None else Decimal(value)
    met = None if seconds is None else seconds < 90
    return CommitmentDay(
        f"2026-09-{index + 1:02d}", START + (index + 1) * DAY_US, count, seconds, met
    )


def percentile(days: tuple[CommitmentDay, ...]) -> CommitmentView:
    return CommitmentView(
        id="vps-provisioning",
        kind="percentile",
        title="VPS provisioning",
        promise="median under 90s over a trailing 30d",
        below_seconds=Decimal(90),
        statistic="median",
        window_days=30,
        days=days,
        months=(
            CommitmentMonth(
                "2026-09", met=False, judged_days=3, met_days=2, worst_seconds=Decimal("inf")
            ),
        ),
    )


def test_chart_geometry_is_exact() -> None:
    view = percentile((day(0, None), day(1, "60"), day(2, "120"), day(3, "inf"), day(4, "45")))
    c = chart(view)
    assert c is not None
    # Highest finite value 120 s × 1.15 = 138 → ticks every 30 s up to 150 s.
    assert [t.label for t in c.y_ticks] == ["0 s", "30 s", "60 s", "90 s", "120 s", "150 s"]
    # The plot is 656 wide from x=52 and 158 high from y=12: 90 s sits at 12 + 158 × 0.4.
    assert c.target_y == "75.2"
    assert c.lines == ("216.0,106.8 380.0,43.6", "708.0,122.6")
    assert c.failed == ("544.0",)
    assert [(t.position, t.label) for t in c.x_ticks] == [
        ("52.0", "2026-09-01"),
        ("380.0", "2026-09-03"),
        ("708.0", "2026-09-05"),
    ]
    assert c.title == (
        "VPS provisioning: median of the trailing 30 days, at the end of each of the last 5 days"
    )
    assert c.desc == (
        "Target: under 90 s. Latest: 45.0 s on 2026-09-05. 2 of 4 judged days met, "
        "from 2026-09-01 to 2026-09-05."
    )


def test_no_chart_without_values() -> None:
    assert chart(percentile((day(0, None), day(1, None)))) is None
    assert chart(percentile(())) is None


def test_rows_per_kind() -> None:
    support = CommitmentView(
        id="support-p1",
        kind="first-response",
        title="Support first response, P1",
        promise="first human response within 1h (uk-office hours)",
        months=(
            CommitmentMonth(
                "2026-11", met=None, counts={"met": 0, "missed": 0, "pending": 1}, settled=False
            ),
            CommitmentMonth("2026-10", met=False, counts={"met": 7, "missed": 1, "pending": 0}),
        ),
    )
    columns, rows = commitment_rows(support)
    assert columns == ("Met", "Missed", "Pending", "Compliance")
    assert [(r.month, r.result, r.cells, r.settled) for r in rows] == [
        ("2026-11", "nothing judged", ("0", "0", "1", "–"), False),
        ("2026-10", "not met", ("7", "1", "0", "87.5 %"), True),
    ]
    columns, rows = commitment_rows(percentile(()))
    assert columns == ("Days judged", "Days met", "Worst day")
    assert rows[0].cells == ("3", "2", "failed (inf)")
    assert (compliance(24, 1), compliance(3, 0), compliance(0, 0)) == ("96 %", "100 %", "–")
    assert value_text(Decimal("62.2435")) == "62.2 s"


def test_api_model_has_figures_and_no_items() -> None:
    out = commitment_out(percentile((day(0, "73.5"), day(1, "inf"))))
    document = out.model_dump(mode="json")
    assert document["months"] == [
        {
            "month": "2026-09",
            "settled": True,
            "met": False,
            "counts": None,
            "late_hours": None,
            "judged_days": 3,
            "met_days": 2,
            "worst_seconds": "inf",
        }
    ]
    assert document["days"][0] == {
        "day": "2026-09-01",
        "at": "2026-09-02T00:00:00Z",
        "count": 10,
        "value_seconds": "73.5",
        "met": True,
    }
    assert document["days"][1]["value_seconds"] == "inf"
    assert document["below_seconds"] == "90"
    assert document["now"] is None
