"""The Atom feed parses as Atom with the right entries; the iCalendar text is exact RFC 5545."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from notify_views import EMERGENCY, INCIDENT, MAINTENANCE, MIN, RESOLVED, SITE, T0, snapshot

from slaledger.notify.feeds import atom_feed, fold, ical_escape, maintenance_calendar

A = "{http://www.w3.org/2005/Atom}"


def test_atom_feed_has_incidents_and_maintenance_newest_first() -> None:
    older = replace(
        RESOLVED, id=5, title="Old", started=T0 - 600 * MIN, resolved=T0 - 590 * MIN, updates=()
    )
    feed = ET.fromstring(
        atom_feed(
            snapshot(active=(INCIDENT,), recent=(older,), upcoming=(EMERGENCY, MAINTENANCE)), SITE
        )
    )
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}id") == "urn:slaledger:acme:feed"
    assert feed.findtext(f"{A}title") == "Acme Cloud status"
    assert feed.findtext(f"{A}updated") == "2026-10-09T12:45:00Z"
    assert feed.findtext(f"{A}author/{A}name") == "Acme Cloud"
    links = [(link.get("rel"), link.get("href")) for link in feed.findall(f"{A}link")]
    assert links == [
        ("self", "https://status.acme.example/feed.atom"),
        ("alternate", "https://status.acme.example/"),
    ]
    entries = [
        (
            entry.findtext(f"{A}id"),
            entry.findtext(f"{A}title"),
            entry.find(f"{A}link").get("href"),  # type: ignore[union-attr]
            entry.findtext(f"{A}published"),
            entry.findtext(f"{A}updated"),
            [c.get("term") for c in entry.findall(f"{A}category")],
        )
        for entry in feed.findall(f"{A}entry")
    ]
    assert entries == [
        (
            "urn:slaledger:acme:maintenance:4",
            "Emergency maintenance: Edge certificate rotation",
            "https://status.acme.example/maintenance/4",
            "2026-10-09T12:45:00Z",
            "2026-10-09T12:45:00Z",
            ["maintenance"],
        ),
        (
            "urn:slaledger:acme:incident:7",
            "Investigating: API errors & timeouts",
            "https://status.acme.example/incidents/7",
            "2026-10-09T12:40:00Z",
            "2026-10-09T12:42:00Z",
            ["incident", "api"],
        ),
        (
            "urn:slaledger:acme:maintenance:3",
            "Scheduled maintenance: Database upgrade; v16, with failover",
            "https://status.acme.example/maintenance/3",
            "2026-10-09T12:40:00Z",
            "2026-10-09T12:40:00Z",
            ["maintenance", "web", "api"],
        ),
        (
            "urn:slaledger:acme:incident:5",
            "Resolved: Old",
            "https://status.acme.example/incidents/5",
            "2026-10-09T02:40:00Z",
            "2026-10-09T02:50:00Z",
            ["incident", "api"],
        ),
    ]
    content = feed.find(f"{A}entry/{A}content")
    assert content is not None
    assert content.get("type") == "html"
    assert content.text == (
        "<p><strong>Emergency maintenance</strong>: 2026-10-09 15:00–15:30 CEST "
        "(2026-10-09 13:00–13:30 UTC)</p>\n"
        "<p>Services: all services · location fra</p>\n"
        "<p>Announced 15 minutes ahead; the contract asks for 48 hours.</p>\n"
    )
    incident = feed.findall(f"{A}entry")[1].findtext(f"{A}content")
    assert incident == (
        "<p><strong>investigating</strong> · impact major · API</p>\n"
        "<p><strong>investigating</strong> 2026-10-09 14:42 CEST</p>\n"
        '<p>We see <strong>errors</strong> on the <a href="https://x.example/api">API</a>.</p>\n'
    )


def test_an_empty_atom_feed_is_updated_at_the_snapshot() -> None:
    feed = ET.fromstring(atom_feed(snapshot(), SITE))
    assert feed.findtext(f"{A}updated") == "2026-10-09T13:40:00Z"
    assert feed.findall(f"{A}entry") == []


def test_icalendar_of_maintenance_windows_is_exact() -> None:
    cancelled = replace(MAINTENANCE, id=9, cancelled=True, start=MAINTENANCE.start + 30_000_001)
    text = maintenance_calendar(
        snapshot(upcoming=(EMERGENCY, MAINTENANCE), past=(cancelled,)), SITE
    )
    assert text.split("\r\n") == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//slaledger//status page//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Acme Cloud maintenance",
        "BEGIN:VEVENT",
        "UID:maintenance-4.acme@status.acme.example",
        "DTSTAMP:20261009T134000Z",
        "DTSTART:20261009T130000Z",
        "DTEND:20261009T133000Z",
        "CREATED:20261009T124500Z",
        "SUMMARY:Maintenance: Edge certificate rotation",
        "DESCRIPTION:Emergency maintenance of all services.\\nLocation: fra.\\nAnnounc",
        " ed 15 minutes ahead\\; the contract asks for 48 hours.\\nhttps://status.acme",
        " .example/maintenance/4",
        "URL:https://status.acme.example/maintenance/4",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "CATEGORIES:MAINTENANCE",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:maintenance-3.acme@status.acme.example",
        "DTSTAMP:20261009T134000Z",
        "DTSTART:20261012T220000Z",
        "DTEND:20261012T233000Z",
        "CREATED:20261009T124000Z",
        "SUMMARY:Maintenance: Database upgrade\\; v16\\, with failover",
        "DESCRIPTION:Scheduled maintenance of API\\, Website.\\nhttps://status.acme.ex",
        " ample/maintenance/3",
        "URL:https://status.acme.example/maintenance/3",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "CATEGORIES:MAINTENANCE",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:maintenance-9.acme@status.acme.example",
        "DTSTAMP:20261009T134000Z",
        "DTSTART:20261012T220030Z",
        "DTEND:20261012T233000Z",
        "CREATED:20261009T124000Z",
        "SUMMARY:Maintenance: Database upgrade\\; v16\\, with failover",
        "DESCRIPTION:Scheduled maintenance of API\\, Website.\\nhttps://status.acme.ex",
        " ample/maintenance/9",
        "URL:https://status.acme.example/maintenance/9",
        "STATUS:CANCELLED",
        "TRANSP:OPAQUE",
        "CATEGORIES:MAINTENANCE",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\n" not in text.replace("\r\n", "")


def test_folding_counts_octets_and_never_splits_a_character() -> None:
    line = "SUMMARY:" + "x" * 66 + "Ü" + "y" * 80
    pieces = fold(line).split("\r\n")
    assert [len(piece.encode()) for piece in pieces] == [74, 75, 9]
    assert pieces[0] == "SUMMARY:" + "x" * 66
    assert pieces[1] == " Ü" + "y" * 72
    assert pieces[2] == " " + "y" * 8
    assert fold("X" * 75) == "X" * 75
    assert fold("X" * 76) == "X" * 75 + "\r\n X"


def test_text_escaping() -> None:
    assert ical_escape("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
