"""Feeds of the status page, rendered from a :class:`StatusSnapshot`. Pure: no I/O, no clock.

- :func:`atom_feed`: Atom 1.0 (RFC 4287) of incidents (open and recent) and maintenance
  (upcoming and past), newest first.
- :func:`maintenance_calendar`: iCalendar (RFC 5545) of maintenance windows, one ``VEVENT``
  each: CRLF line ends, lines folded at 75 octets, text escaped, a stable ``UID``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from jinja2 import Environment, StrictUndefined

from slaledger.core.publication import IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.timebase import US_PER_SECOND, format_instant, from_instant
from slaledger.notify.messages import Site

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
ICALENDAR_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//slaledger//status page//EN"
MAX_ENTRIES = 50


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    link: str
    published: int
    updated: int
    content_html: str
    categories: tuple[str, ...]


def _seconds(instant: int) -> str:
    """ISO 8601 UTC to the second, as Atom readers expect."""
    return format_instant(instant - instant % US_PER_SECOND)


_HTML = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True)
_INCIDENT = _HTML.from_string(
    """<p><strong>{{ status }}</strong> · impact {{ incident.impact }} · {{ services }}</p>
{% for update in updates %}
<p><strong>{{ update.status }}</strong> {{ site.moment(update.at) }}</p>
{{ update.body_html | safe }}
{% endfor %}"""
)
_MAINTENANCE = _HTML.from_string(
    """<p><strong>{{ kind }}</strong>{% if cancelled %} (cancelled){% endif %}: {{ when }}</p>
<p>Services: {{ services }}{% if location %} · location {{ location }}{% endif %}</p>
{% if reason %}<p>{{ reason }}</p>
{% endif %}"""
)


def _incident_entry(site: Site, incident: IncidentView) -> _Entry:
    content = _INCIDENT.render(
        status=incident.status,
        incident=incident,
        services=site.services_text(incident.services),
        updates=incident.updates[::-1],  # newest first; bodies are sanitised HTML
        site=site,
    )
    last = max([incident.started, *(u.at for u in incident.updates)])
    if incident.resolved is not None:
        last = max(last, incident.resolved)
    return _Entry(
        f"urn:slaledger:{site.contract}:incident:{incident.id}",
        f"{incident.status.capitalize()}: {incident.title}",
        site.incident_url(incident.id),
        incident.started,
        last,
        content,
        ("incident", *incident.services),
    )


def _maintenance_entry(site: Site, maintenance: MaintenanceView) -> _Entry:
    kind = "Emergency maintenance" if maintenance.kind == "emergency" else "Scheduled maintenance"
    title = f"{kind}: {maintenance.title}"
    if maintenance.cancelled:
        title = f"Cancelled {kind[0].lower()}{kind[1:]}: {maintenance.title}"
    content = _MAINTENANCE.render(
        kind=kind,
        cancelled=maintenance.cancelled,
        when=site.when(maintenance.start, maintenance.end),
        services=site.services_text(maintenance.services),
        location=maintenance.location,
        reason=maintenance.reason,
    )
    services = () if maintenance.services == "*" else maintenance.services
    return _Entry(
        f"urn:slaledger:{site.contract}:maintenance:{maintenance.id}",
        title,
        site.maintenance_url(maintenance.id),
        maintenance.announced,
        maintenance.announced,
        content,
        ("maintenance", *services),
    )


def atom_feed(snapshot: StatusSnapshot, site: Site) -> bytes:
    """The Atom feed (UTF-8 XML) of ``snapshot``'s incidents and maintenance."""
    entries = [
        _incident_entry(site, incident)
        for incident in (*snapshot.active_incidents, *snapshot.recent_incidents)
    ]
    entries += [
        _maintenance_entry(site, maintenance)
        for maintenance in (*snapshot.upcoming_maintenance, *snapshot.past_maintenance)
    ]
    entries.sort(key=lambda entry: (-entry.updated, entry.id))
    entries = entries[:MAX_ENTRIES]
    updated = max((entry.updated for entry in entries), default=snapshot.generated_at)

    ET.register_namespace("", ATOM)

    def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    child(feed, "id", f"urn:slaledger:{site.contract}:feed")
    child(feed, "title", f"{site.title} status")
    child(feed, "subtitle", "Incidents and maintenance")
    child(feed, "updated", _seconds(updated))
    child(feed, "link", rel="self", type="application/atom+xml", href=site.url("/feed.atom"))
    child(feed, "link", rel="alternate", type="text/html", href=site.url("/"))
    author = child(feed, "author")
    child(author, "name", site.title)
    child(feed, "generator", "slaledger")
    for entry in entries:
        element = child(feed, "entry")
        child(element, "id", entry.id)
        child(element, "title", entry.title)
        child(element, "link", rel="alternate", type="text/html", href=entry.link)
        child(element, "published", _seconds(entry.published))
        child(element, "updated", _seconds(entry.updated))
        for category in entry.categories:
            child(element, "category", term=category)
        child(element, "content", entry.content_html, type="html")
    ET.indent(feed)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


# --- iCalendar -----------------------------------------------------------------------------


def ical_escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """``line`` folded (RFC 5545 3.1): at most 75 octets per line, continuations start with
    a space, never inside a UTF-8 sequence; joined with CRLF."""
    pieces: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            pieces.append(current)
            current, size = " ", 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def _utc(instant: int, *, up: bool = False) -> str:
    seconds = -(-instant // US_PER_SECOND) if up else instant // US_PER_SECOND
    return f"{from_instant(seconds * US_PER_SECOND):%Y%m%dT%H%M%SZ}"


def maintenance_calendar(snapshot: StatusSnapshot, site: Site) -> str:
    """The iCalendar text of every maintenance window in ``snapshot`` (soonest first)."""
    windows = sorted(
        (*snapshot.upcoming_maintenance, *snapshot.past_maintenance),
        key=lambda m: (m.start, m.id),
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_escape(f'{site.title} maintenance')}",
    ]
    stamp = _utc(snapshot.generated_at)
    for window in windows:
        kind = "Emergency maintenance" if window.kind == "emergency" else "Scheduled maintenance"
        description = [f"{kind} of {site.services_text(window.services)}."]
        if window.location is not None:
            description.append(f"Location: {window.location}.")
        if window.reason:
            description.append(window.reason)
        description.append(site.maintenance_url(window.id))
        lines += [
            "BEGIN:VEVENT",
            f"UID:maintenance-{window.id}.{site.contract}@{site.host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(window.start)}",
            f"DTEND:{_utc(window.end, up=True)}",
            f"CREATED:{_utc(window.announced)}",
            f"SUMMARY:{ical_escape(f'Maintenance: {window.title}')}",
            f"DESCRIPTION:{ical_escape(chr(10).join(description))}",
            f"URL:{site.maintenance_url(window.id)}",
            f"STATUS:{'CANCELLED' if window.cancelled else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "CATEGORIES:MAINTENANCE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
