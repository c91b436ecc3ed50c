"""SVG uptime badges: ``/badge/{service}.svg?period=30d|90d|month|year``.

The figure is truncated (never rounded up) to the target's decimals, at least two, so a badge
never shows a missed target as met; green when the target is met, red when not, grey
without data. Periods: the last 30 or 90 UTC days (the mean of the daily figures), the month
to date, and the calendar year to date (each month weighted by its length). A service with
no recent data shows its figure grey, followed by "no recent data" (the title says since
when).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal, get_args
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from slaledger.core.publication import ServiceView, StatusSnapshot
from slaledger.core.timebase import US_PER_MINUTE, format_instant, from_instant, to_instant
from slaledger.errors import HttpError
from slaledger.web.errors import SERVER_ERRORS, error_responses
from slaledger.web.snapshot_cache import SVG, SnapshotCache

Period = Literal["30d", "90d", "month", "year"]
PERIODS: tuple[Period, ...] = get_args(Period)
GREEN = "#1a7f37"
RED = "#c62828"
GREY = "#57606a"
LABEL = "#404040"
"""Badge colours: white text on each has a contrast of at least 4.5:1 (WCAG AA)."""


def _mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


def _month_minutes(month: str, zone: ZoneInfo, now: int) -> int:
    """Minutes of ``YYYY-MM`` in ``zone``, up to ``now`` for the month in progress."""
    year, number = int(month[:4]), int(month[5:7])
    start = to_instant(datetime(year, number, 1, tzinfo=zone))
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    end = min(to_instant(datetime(*following, 1, tzinfo=zone)), now)
    return max(0, (end - start) // US_PER_MINUTE)


def period_figure(
    view: ServiceView, period: Period, timezone: str, now: int
) -> tuple[str, Fraction | None]:
    """The badge's label and the availability of ``view`` over ``period``."""
    if period in ("30d", "90d"):
        days = view.days[-30:] if period == "30d" else view.days
        known = [day.availability for day in days if day.availability is not None]
        return f"uptime {period}", _mean(known)
    zone = ZoneInfo(timezone)
    local = from_instant(now).astimezone(zone)
    if period == "month":
        return f"uptime {local:%Y-%m}", view.month_to_date
    weighted = Fraction(0)
    weights = 0
    for month in view.months:
        if month.month.startswith(f"{local.year:04d}-") and month.availability is not None:
            minutes = _month_minutes(month.month, zone, now)
            weighted += month.availability * minutes
            weights += minutes
    return f"uptime {local.year}", weighted / weights if weights else None


def truncated(value: Fraction, places: int) -> str:
    """``value`` cut (toward zero) to ``places`` decimals."""
    scaled = value.numerator * 10**places // value.denominator
    digits = str(scaled).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def _places(target: Decimal) -> int:
    exponent = target.normalize().as_tuple().exponent
    return max(2, -exponent if isinstance(exponent, int) else 2)


def _width(text: str) -> int:
    """Rough rendered width of ``text`` in 11 px Verdana, plus padding."""
    wide = sum(1 for char in text if char in "%mwMW")
    narrow = sum(1 for char in text if char in " .,:il1")
    return round(7 * (len(text) - wide - narrow) + 10 * wide + 4 * narrow) + 12


def badge_svg(label: str, value: str, colour: str, title: str) -> bytes:
    """A flat two-part badge; every text is escaped."""
    left, right = _width(label), _width(value)
    total = left + right
    spoken = escape(f"{label}: {value}", {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" '
        f'role="img" aria-label="{spoken}">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{left}" height="20" fill="{LABEL}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11">'
        f'<text x="{left / 2:g}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2:g}" y="14">{escape(value)}</text>'
        "</g></svg>"
    ).encode()


def service_badge(snapshot: StatusSnapshot, service: str, period: Period) -> bytes:
    """The badge of ``service``; :class:`HttpError` 404 when the page has no such service."""
    view = next((view for view in snapshot.services if view.id == service), None)
    if view is None:
        raise HttpError(404, f"service: unknown service {service!r}")
    label, figure = period_figure(view, period, snapshot.timezone, snapshot.generated_at)
    if figure is None:
        value, colour = "no data", GREY
    else:
        value = truncated(figure, _places(view.target)) + " %"
        colour = GREEN if figure >= Fraction(view.target) else RED
    title = f"{view.name} — {label}: {value}"
    if view.stale:  # a figure that stopped: grey, and said so
        value, colour = f"{value} · no recent data", GREY
        if view.last_observed is not None:
            title += f"; no recent data since {format_instant(view.last_observed)}"
        else:
            title += "; no recent data"
    return badge_svg(label, value, colour, title)


def badges_router(cache: SnapshotCache) -> APIRouter:
    """``GET /badge/{service}.svg?period=30d|90d|month|year`` (default 30d)."""
    router = APIRouter(tags=["badges"])

    @router.get(
        "/badge/{service}.svg",
        response_class=Response,
        summary="An SVG uptime badge of one service",
        responses={
            200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}},
            **error_responses(404, 422, _404="Unknown service", _422="Unknown period"),
            **SERVER_ERRORS,
        },
    )
    async def badge(
        request: Request,
        service: str,
        period: Annotated[
            str,
            Query(description="30d, 90d, month or year.", json_schema_extra={"enum": PERIODS}),
        ] = "30d",
    ) -> Response:
        if period not in PERIODS:
            raise HttpError(422, f"period: expected one of {', '.join(PERIODS)}, got {period!r}")
        chosen: Period = period
        return cache.response(
            request,
            f"badge\0{service}\0{period}",
            lambda snapshot: service_badge(snapshot, service, chosen),
            SVG,
        )

    return router
