"""``/history.atom`` and ``/history.rss`` as Atlassian Statuspage serves them. Pure: no I/O.

Feed readers and tools pointed at a Statuspage page read these two paths: the channel is
"<page> Status - Incident History", one entry per incident or maintenance window (newest
first), its content the updates as Statuspage writes them (``<p><small>Nov <var data-var='date'>3
</var>, <var data-var='time'>12:20</var> UTC</small><br><strong>Identified</strong> -
text</p>``, newest first), its link the item's own page, Atom ids
``tag:<host>,2005:Incident/<id>``. Our ``/feed.atom`` stays as it is.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from slaledger.core.publication import IncidentView, MaintenanceView, StatusSnapshot
from slaledger.core.timebase import US_PER_SECOND, from_instant
from slaledger.notify.messages import Site

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
MAX_ITEMS = 25


@dataclass(frozen=True)
class _Item:
    key: str
    title: str
    link: str
    published: int
    updated: int
    content: str


def _paragraph(site: Site, at: int, status: str, text: Markup | str) -> str:
    local = from_instant(at).astimezone(ZoneInfo(site.timezone))
    return str(
        Markup(
            "<p><small>{} <var data-var='date'>{}</var>, <var data-var='time'>{}</var> {}"
            "</small><br><strong>{}</strong> - {}</p>"
        ).format(
            f"{local:%b}",
            local.day,
            f"{local:%H:%M}",
            local.tzname(),
            status.replace("_", " ").capitalize(),
            text,
        )
    )


def _incident(site: Site, incident: IncidentView) -> _Item:
    parts = [
        _paragraph(site, update.at, update.status, Markup(update.body_html))  # sanitised
        for update in reversed(incident.updates)
    ]
    last = max([incident.started, incident.resolved or 0, *(u.at for u in incident.updates)])
    return _Item(
        f"Incident/{incident.id}",
        incident.title,
        site.incident_url(incident.id),
        incident.started,
        last,
        "".join(parts),
    )


def _maintenance(site: Site, window: MaintenanceView, now: int) -> _Item:
    steps = [
        ("scheduled", window.announced, f"{window.title}: {site.when(window.start, window.end)}")
    ]
    if window.start <= now:
        steps.append(("in_progress", window.start, "Maintenance in progress."))
    if window.end <= now:
        steps.append(("completed", window.end, "Maintenance completed."))
    parts = [_paragraph(site, at, status, escape(text)) for status, at, text in reversed(steps)]
    return _Item(
        f"Incident/maintenance-{window.id}",
        window.title,
        site.maintenance_url(window.id),
        window.announced,
        max(at for _status, at, _text in steps),
        "".join(parts),
    )


def history_items(snapshot: StatusSnapshot, site: Site) -> list[_Item]:
    """Incidents and maintenance windows (not cancelled ones), newest first."""
    items = [
        _incident(site, incident)
        for incident in (*snapshot.active_incidents, *snapshot.recent_incidents)
    ]
    items += [
        _maintenance(site, window, snapshot.generated_at)
        for window in (*snapshot.upcoming_maintenance, *snapshot.past_maintenance)
        if not window.cancelled
    ]
    items.sort(key=lambda item: (-item.published, item.key))
    return items[:MAX_ITEMS]


def _iso(instant: int) -> str:
    return from_instant(instant - instant % US_PER_SECOND).isoformat()


def _tostring(root: ET.Element) -> bytes:
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def history_atom(snapshot: StatusSnapshot, site: Site) -> bytes:
    items = history_items(snapshot, site)
    ET.register_namespace("", ATOM)

    def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "en-US"})
    child(feed, "id", f"tag:{site.host},2005:/history")
    child(feed, "link", rel="alternate", type="text/html", href=site.url("/"))
    child(feed, "link", rel="self", type="application/atom+xml", href=site.url("/history.atom"))
    child(feed, "title", f"{site.title} Status - Incident History")
    updated = max((item.updated for item in items), default=snapshot.generated_at)
    child(feed, "updated", _iso(updated))
    child(child(feed, "author"), "name", site.title)
    for item in items:
        entry = child(feed, "entry")
        child(entry, "id", f"tag:{site.host},2005:{item.key}")
        child(entry, "published", _iso(item.published))
        child(entry, "updated", _iso(item.updated))
        child(entry, "link", rel="alternate", type="text/html", href=item.link)
        child(entry, "title", item.title)
        child(entry, "content", item.content, type="html")
    return _tostring(feed)


def history_rss(snapshot: StatusSnapshot, site: Site) -> bytes:
    items = history_items(snapshot, site)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")

    def child(parent: ET.Element, tag: str, text: str) -> None:
        ET.SubElement(parent, tag).text = text

    child(channel, "title", f"{site.title} Status - Incident History")
    child(channel, "link", site.url("/"))
    child(channel, "description", "Statuspage")
    updated = max((item.updated for item in items), default=snapshot.generated_at)
    child(channel, "pubDate", format_datetime(from_instant(updated - updated % US_PER_SECOND)))
    for item in items:
        element = ET.SubElement(channel, "item")
        child(element, "title", item.title)
        child(element, "description", item.content)
        stamp = item.published - item.published % US_PER_SECOND
        child(element, "pubDate", format_datetime(from_instant(stamp)))
        child(element, "link", item.link)
        child(element, "guid", item.link)
    return _tostring(rss)
