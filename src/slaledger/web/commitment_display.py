"""How the status page shows a commitment: its months as table rows and, for a percentile
commitment, its last 90 days as a chart (drawn by ``_commitments.html``).

The page draws the chart as an inline ``<svg>``: one polyline per run of judged days, a
dashed line at the target, a few labelled ticks on both axes, and a ``<title>``/``<desc>``
that say in words what it shows. No JavaScript: every coordinate is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from slaledger.core.commitment_publication import CommitmentDay, CommitmentView

WIDTH = 720
HEIGHT = 200
LEFT = 52
RIGHT = 12
TOP = 12
BOTTOM = 30
STEPS = (Decimal(1), Decimal(2), Decimal(5), Decimal(10), Decimal(15), Decimal(30), Decimal(60))
"""Candidate distances between y ticks, in seconds (then multiples of 60)."""


@dataclass(frozen=True)
class Tick:
    position: str
    """The x or y coordinate, as written in the SVG."""
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: tuple[str, ...]
    """``points`` of each polyline (a run of consecutive judged days)."""
    failed: tuple[str, ...]
    """x of each day whose value is infinite (a failed request decided it): a mark on top."""
    target_y: str
    target_label: str
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    title: str
    desc: str


def _coordinate(value: Decimal | float) -> str:
    return f"{float(value):.1f}"


def _step(top: Decimal) -> Decimal:
    """A tick distance giving at most five ticks up to ``top``."""
    for step in STEPS:
        if top / step <= 5:
            return step
    minutes = (top / 5 / 60).to_integral_value(rounding=ROUND_CEILING)
    return minutes * 60


def _seconds_label(value: Decimal) -> str:
    return f"{value.normalize():f} s"


def chart(view: CommitmentView) -> Chart | None:
    """The chart of ``view``'s days, or ``None`` when it has none (not a percentile
    commitment, or no day evaluated yet)."""
    days = view.days
    target = view.below_seconds
    if target is None or all(day.value_seconds is None for day in days):
        return None
    finite = [d.value_seconds for d in days if d.value_seconds is not None]
    finite = [v for v in finite if v.is_finite()]
    peak = max([target, *finite])
    step = _step(peak * Decimal("1.15"))
    top = (peak * Decimal("1.15") / step).to_integral_value(rounding=ROUND_CEILING) * step
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    count = len(days)

    def x(index: int) -> float:
        return LEFT + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)

    def y(value: Decimal) -> float:
        return TOP + inner_h * float(1 - value / top)

    lines: list[str] = []
    run: list[str] = []
    failed: list[str] = []
    for index, day in enumerate(days):
        value = day.value_seconds
        if value is None or not value.is_finite():
            if value is not None:
                failed.append(_coordinate(x(index)))
            if run:
                lines.append(" ".join(run))
                run = []
            continue
        run.append(f"{_coordinate(x(index))},{_coordinate(y(value))}")
    if run:
        lines.append(" ".join(run))
    ticks = []
    value = Decimal(0)
    while value <= top:
        ticks.append(Tick(_coordinate(y(value)), _seconds_label(value)))
        value += step
    marks = sorted({0, count // 2, count - 1})
    x_ticks = tuple(Tick(_coordinate(x(i)), days[i].day) for i in marks)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=RIGHT,
        top=TOP,
        bottom=BOTTOM,
        lines=tuple(lines),
        failed=tuple(failed),
        target_y=_coordinate(y(target)),
        target_label=f"target: under {_seconds_label(target)}",
        y_ticks=tuple(ticks),
        x_ticks=x_ticks,
        title=f"{view.title}: {view.statistic} of the trailing {view.window_days} days, "
        f"at the end of each of the last {count} days",
        desc=_desc(view, days, target),
    )


def _desc(view: CommitmentView, days: tuple[CommitmentDay, ...], target: Decimal) -> str:
    judged = [d for d in days if d.met is not None]
    met = sum(1 for d in judged if d.met)
    latest = next((d for d in reversed(days) if d.value_seconds is not None), None)
    parts = [f"Target: under {_seconds_label(target)}."]
    if latest is not None and latest.value_seconds is not None:
        parts.append(f"Latest: {value_text(latest.value_seconds)} on {latest.day}.")
    parts.append(f"{met} of {len(judged)} judged days met, from {days[0].day} to {days[-1].day}.")
    return " ".join(parts)


def value_text(value: Decimal | None) -> str:
    """``61.2 s``, ``failed`` for an infinite value, ``no data`` for none."""
    if value is None:
        return "no data"
    if not value.is_finite():
        return "failed (inf)"
    rounded = value.quantize(Decimal("0.1"))
    return f"{rounded:f} s"


@dataclass(frozen=True)
class CommitmentRow:
    month: str
    result: str
    missed: bool
    cells: tuple[str, ...]
    settled: bool


_COLUMNS: dict[str, tuple[str, ...]] = {
    "first-response": ("Met", "Missed", "Pending", "Compliance"),
    "deadline": ("Met", "Late", "Pending", "Late hours"),
    "per-event": ("Covered", "Met", "Missed", "Not covered"),
    "percentile": ("Days judged", "Days met", "Worst day"),
}


def compliance(met: int, missed: int) -> str:
    """Met among judged, ``"100 %"``-style with one decimal when needed; ``–`` for none."""
    judged = met + missed
    if judged == 0:
        return "–"
    share = (Decimal(100) * met / judged).quantize(Decimal("0.1"))
    return f"{share.normalize():f} %"


def _result(met: bool | None) -> str:
    return "nothing judged" if met is None else ("met" if met else "not met")


def commitment_rows(view: CommitmentView) -> tuple[tuple[str, ...], list[CommitmentRow]]:
    """The column names of ``view``'s kind and one row per month, newest first."""
    rows = []
    for month in view.months:
        count = month.counts.get
        cells: tuple[str, ...]
        if view.kind == "first-response":
            met, missed = count("met", 0), count("missed", 0)
            cells = (str(met), str(missed), str(count("pending", 0)), compliance(met, missed))
        elif view.kind == "deadline":
            cells = (
                str(count("met", 0)),
                str(count("late", 0)),
                str(count("pending", 0)),
                str(month.late_hours or 0),
            )
        elif view.kind == "per-event":
            covered = count("met", 0) + count("missed", 0) + count("pending", 0)
            cells = (
                str(covered),
                str(count("met", 0)),
                str(count("missed", 0)),
                str(count("not-covered", 0)),
            )
        else:
            cells = (str(month.judged_days), str(month.met_days), value_text(month.worst_seconds))
        rows.append(
            CommitmentRow(
                month=month.month,
                result=_result(month.met),
                missed=month.met is False,
                cells=cells,
                settled=month.settled,
            )
        )
    return _COLUMNS[view.kind], rows
