"""Published figures per day and month, so pages read years of history without settling it.

Figures of a settled month are written with its statement and never replaced; every other
period's figures may be computed again (a day still open, a month not yet settled).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import Engine, and_, case, delete, func, insert, select

from slaledger.store import schema


@dataclass(frozen=True)
class Figure:
    """One period's figure of a service (``location`` ``None``) or of one location of it."""

    period: str
    """``YYYY-MM-DD`` (a UTC day) or ``YYYY-MM`` (a month in the contract's zone)."""
    service: str
    location: str | None
    availability: Fraction | None
    downtime_minutes: int | None
    met: bool | None
    credit_percent: int
    settled: bool


def _fraction_text(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _fraction(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


class FigureStore:
    """The ``figures`` table, for one contract."""

    def __init__(self, engine: Engine, contract: str) -> None:
        self._engine = engine
        self._contract = contract

    def replace(self, periods: Collection[str], figures: Sequence[Figure], now: int) -> int:
        """Store ``figures`` as the whole of ``periods``, in one transaction; periods already
        settled are left as they are. Returns how many figures were written."""
        table = schema.figures.c
        mine = table.contract == self._contract
        with self._engine.begin() as connection:
            settled = set(
                connection.execute(
                    select(table.period)
                    .distinct()
                    .where(mine, table.settled.is_(True), table.period.in_(list(periods)))
                ).scalars()
            )
            open_periods = [p for p in periods if p not in settled]
            if open_periods:
                connection.execute(
                    delete(schema.figures).where(and_(mine, table.period.in_(open_periods)))
                )
            rows = [
                {
                    "contract": self._contract,
                    "period": f.period,
                    "service": f.service,
                    "location": f.location or "",
                    "availability": _fraction_text(f.availability),
                    "downtime_minutes": f.downtime_minutes,
                    "met": f.met,
                    "credit_percent": f.credit_percent,
                    "settled": f.settled,
                    "computed_at": now,
                }
                for f in figures
                if f.period not in settled
            ]
            if rows:
                connection.execute(insert(schema.figures), rows)
        return len(rows)

    def periods(self) -> dict[str, tuple[bool, int]]:
        """Every period with figures: whether it is settled, and when it was computed."""
        table = schema.figures.c
        with self._engine.connect() as connection:
            found = connection.execute(
                select(
                    table.period,
                    func.max(case((table.settled, 1), else_=0)),
                    func.max(table.computed_at),
                )
                .where(table.contract == self._contract)
                .group_by(table.period)
            ).all()
        return {period: (bool(settled), int(at)) for period, settled, at in found}

    def stamp(self) -> tuple[int, int]:
        """How many figures there are and when the latest was written: a reader that saw the
        same stamp before has the same figures."""
        table = schema.figures.c
        with self._engine.connect() as connection:
            count, latest = connection.execute(
                select(func.count(), func.coalesce(func.max(table.computed_at), 0)).where(
                    table.contract == self._contract
                )
            ).one()
        return int(count), int(latest)

    def load(self, first: str | None = None, last: str | None = None) -> list[Figure]:
        """Figures of periods between ``first`` and ``last`` (as text, both included)."""
        table = schema.figures.c
        query = select(
            table.period,
            table.service,
            table.location,
            table.availability,
            table.downtime_minutes,
            table.met,
            table.credit_percent,
            table.settled,
        ).where(table.contract == self._contract)
        if first is not None:
            query = query.where(table.period >= first)
        if last is not None:
            query = query.where(table.period <= last)
        with self._engine.connect() as connection:
            rows = connection.execute(query.order_by(table.period)).all()
        return [
            Figure(
                period,
                service,
                location or None,
                _fraction(availability),
                downtime,
                met,
                credit,
                bool(settled),
            )
            for period, service, location, availability, downtime, met, credit, settled in rows
        ]
