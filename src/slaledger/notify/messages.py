"""What subscribers receive: emails (text and HTML) and webhook payloads, built from the
publication read models. Pure: no I/O, no clock; links come from the configured public URL.

Events, named after what happened to an incident or a maintenance window:
``incident.created``, ``incident.updated``, ``incident.resolved``,
``maintenance.announced``, ``maintenance.updated``, ``maintenance.cancelled``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from slaledger.core.contract import Contract
from slaledger.core.publication import IncidentView, MaintenanceView
from slaledger.core.timebase import US_PER_MINUTE, format_instant, from_instant
from slaledger.errors import Problem, UsageError

Change = IncidentView | MaintenanceView
Event = Literal[
    "incident.created",
    "incident.updated",
    "incident.resolved",
    "maintenance.announced",
    "maintenance.updated",
    "maintenance.cancelled",
]


def public_url(text: str) -> str:
    """The status page's public base URL (``https://status.example.com``), without a
    trailing slash; :class:`UsageError` if it is not an absolute http(s) URL."""
    parts = urlsplit(text.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(
            Problem(
                f"expected the status page's public URL like https://status.example.com, "
                f"got {text!r}",
                field="--public-url",
            )
        )
    return text.strip().rstrip("/")


@dataclass(frozen=True)
class Site:
    """What every message needs to know about the status page it comes from."""

    contract: str
    title: str
    base_url: str
    timezone: str
    service_names: Mapping[str, str]

    @classmethod
    def of(cls, contract: Contract, base_url: str) -> Site:
        names = {key: service.name for key, service in contract.services.items()}
        return cls(contract.contract, contract.name, public_url(base_url), contract.timezone, names)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    def url(self, path: str) -> str:
        return self.base_url + path

    def incident_url(self, incident_id: int) -> str:
        return self.url(f"/incidents/{incident_id}")

    def maintenance_url(self, maintenance_id: int) -> str:
        return self.url(f"/maintenance/{maintenance_id}")

    def confirm_url(self, token: str) -> str:
        return self.url(f"/subscribe/confirm?token={quote(token, safe='')}")

    def unsubscribe_url(self, token: str) -> str:
        return self.url(f"/unsubscribe?token={quote(token, safe='')}")

    def services_text(self, services: tuple[str, ...] | Literal["*"] | None) -> str:
        """``API, Website`` (contract order), or ``all services``."""
        if services is None or services == "*":
            return "all services"
        named = [name for key, name in self.service_names.items() if key in services]
        named += [key for key in services if key not in self.service_names]
        return ", ".join(named) if named else "no service"

    def when(self, start: int, end: int) -> str:
        """A time span in the contract's zone, with UTC beside it for other zones."""
        text = _span(start, end, ZoneInfo(self.timezone))
        if self.timezone != "UTC":
            text += f" ({_span(start, end, ZoneInfo('UTC'))})"
        return text

    def local_when(self, start: int, end: int) -> str:
        """A time span in the contract's zone only, in ASCII (for subjects: Python's
        header folding doubles a space before an encoded word)."""
        return _span(start, end, ZoneInfo(self.timezone), dash="-")

    def moment(self, instant: int) -> str:
        local = from_instant(instant).astimezone(ZoneInfo(self.timezone))
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _span(start: int, end: int, zone: ZoneInfo, dash: str = "–") -> str:
    first = from_instant(start).astimezone(zone)
    last = from_instant(end).astimezone(zone)
    if first.date() == last.date() and first.tzname() == last.tzname():
        return f"{first:%Y-%m-%d %H:%M}{dash}{last:%H:%M} {last.tzname()}"
    return f"{first:%Y-%m-%d %H:%M} {first.tzname()} {dash} {last:%Y-%m-%d %H:%M} {last.tzname()}"


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers (``List-Unsubscribe``…)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "subject": self.subject,
                "text": self.text,
                "html": self.html,
                "headers": [list(pair) for pair in self.headers],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Email:
        data = json.loads(text)
        headers = tuple((str(name), str(value)) for name, value in data["headers"])
        return cls(str(data["subject"]), str(data["text"]), str(data["html"]), headers)


# --- Events --------------------------------------------------------------------------------


def event_of(change: Change, seen_before: bool) -> Event:
    """What happened, given whether an earlier state of ``change`` was already sent."""
    if isinstance(change, IncidentView):
        if change.status == "resolved":
            return "incident.resolved"
        return "incident.updated" if seen_before else "incident.created"
    if change.cancelled:
        return "maintenance.cancelled"
    return "maintenance.updated" if seen_before else "maintenance.announced"


def subject_key(change: Change) -> str:
    """``incident:12`` or ``maintenance:3``."""
    kind = "incident" if isinstance(change, IncidentView) else "maintenance"
    return f"{kind}:{change.id}"


def fingerprint(change: Change) -> str:
    """The SHA-256 of everything a message shows about ``change``."""
    data = json.dumps(dataclasses.asdict(change), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


# --- HTML to text --------------------------------------------------------------------------


class _TextOf(HTMLParser):
    """Plain text of sanitised update HTML: paragraphs, line breaks, list items, links."""

    BLOCKS = frozenset({"p", "div", "ul", "ol", "pre", "blockquote", "h1", "h2", "h3", "h4"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


# --- Emails --------------------------------------------------------------------------------

_HTML = Environment(
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, keep_trailing_newline=True
)
_PAGE = _HTML.from_string(
    """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em;">
<h1 style="font-size: 1.3em;">{{ heading }}</h1>
{% for label, value in facts %}
<p style="margin: 0;"><strong>{{ label }}:</strong> {{ value }}</p>
{% endfor %}
{% if body %}
<div style="margin-top: 1em;">{{ body }}</div>
{% endif %}
<p><a href="{{ link }}">{{ link_text }}</a></p>
<hr>
<p style="font-size: small; color: #555;">{{ footer }}
{% if unsubscribe %}
<a href="{{ unsubscribe }}">Unsubscribe</a>
{% endif %}
</p>
</body>
</html>
"""
)


def _email(
    subject: str,
    heading: str,
    facts: list[tuple[str, str]],
    body_html: str,
    link: tuple[str, str],
    footer: str,
    unsubscribe: str | None,
) -> Email:
    text = [heading, ""]
    text += [f"{label}: {value}" for label, value in facts]
    if body_html:
        text += ["", html_to_text(body_html)]
    text += ["", f"{link[1]}: {link[0]}", "", "-- ", footer]
    headers: tuple[tuple[str, str], ...] = (("Auto-Submitted", "auto-generated"),)
    if unsubscribe is not None:
        text.append(f"Unsubscribe: {unsubscribe}")
        headers += (
            ("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )
    html = _PAGE.render(
        subject=subject,
        heading=heading,
        facts=facts,
        body=Markup(body_html),  # sanitised by the publication layer
        link=link[0],
        link_text=link[1],
        footer=footer,
        unsubscribe=unsubscribe,
    )
    return Email(subject, "\n".join(text) + "\n", html, headers)


def _subscriber_footer(site: Site) -> str:
    return f"You get this email because you subscribed to status updates of {site.title}."


def confirmation_email(
    site: Site,
    confirm_token: str,
    unsubscribe_token: str,
    services: tuple[str, ...] | None,
) -> Email:
    """The double opt-in email: nothing else is sent before its link is followed."""
    return _email(
        f"Confirm your subscription to {site.title} status updates",
        f"Confirm your subscription to {site.title} status updates",
        [("Services", site.services_text(services))],
        "<p>Someone, hopefully you, asked to receive incident and maintenance updates at "
        "this address. Follow the link below to confirm. If it was not you, ignore this "
        "email: nothing more will be sent.</p>",
        (site.confirm_url(confirm_token), "Confirm your subscription"),
        f"This email was sent because this address was entered on the status page of {site.title}.",
        site.unsubscribe_url(unsubscribe_token),
    )


_STATUS_WORD = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
}


def incident_email(site: Site, incident: IncidentView, unsubscribe_token: str) -> Email:
    """An incident opened, updated or resolved: its state and latest update."""
    status = _STATUS_WORD[incident.status]
    facts = [
        ("Status", status),
        ("Impact", incident.impact.capitalize()),
        ("Services", site.services_text(incident.services)),
        ("Started", site.moment(incident.started)),
    ]
    if incident.resolved is not None:
        facts.append(("Resolved", site.moment(incident.resolved)))
    body = ""
    if incident.updates:
        latest = incident.updates[-1]
        facts.append(("Updated", f"{site.moment(latest.at)} by {latest.author}"))
        body = latest.body_html
    return _email(
        f"[{site.title}] {status}: {incident.title}",
        f"{status}: {incident.title}",
        facts,
        body,
        (site.incident_url(incident.id), "Follow this incident"),
        _subscriber_footer(site),
        site.unsubscribe_url(unsubscribe_token),
    )


def maintenance_email(
    site: Site,
    maintenance: MaintenanceView,
    event: Event,
    *,
    unsubscribe_token: str | None = None,
    account: str | None = None,
) -> Email:
    """A maintenance window announced, changed or cancelled: to a subscriber (with an
    unsubscribe link) or to a contact of customer ``account`` (without)."""
    kind = "Emergency maintenance" if maintenance.kind == "emergency" else "Scheduled maintenance"
    if event == "maintenance.cancelled":
        lead = "Maintenance cancelled"
    elif event == "maintenance.updated":
        lead = f"{kind} changed"
    else:
        lead = kind
    when = site.when(maintenance.start, maintenance.end)
    facts = [("When", when), ("Services", site.services_text(maintenance.services))]
    if maintenance.location is not None:
        facts.append(("Location", maintenance.location))
    minutes = (maintenance.end - maintenance.start) // US_PER_MINUTE
    facts.append(("Duration", f"{minutes} minutes"))
    facts.append(("Announced", site.moment(maintenance.announced)))
    body = ""
    if maintenance.reason:
        body = f"<p>{Markup.escape(maintenance.reason)}</p>"
    if account is not None:
        footer = (
            f"You get this email as a contact of account {account} of {site.title}. "
            "To change who receives maintenance notices, contact your provider."
        )
    else:
        footer = _subscriber_footer(site)
    return _email(
        f"[{site.title}] {lead}: {maintenance.title} "
        f"({site.local_when(maintenance.start, maintenance.end)})",
        f"{lead}: {maintenance.title}",
        facts,
        body,
        (site.maintenance_url(maintenance.id), "See this maintenance"),
        footer,
        None if unsubscribe_token is None else site.unsubscribe_url(unsubscribe_token),
    )


# --- Webhooks ------------------------------------------------------------------------------


def _instant(value: int | None) -> str | None:
    return None if value is None else format_instant(value)


def change_json(site: Site, change: Change) -> dict[str, Any]:
    """An incident or maintenance window as JSON (instants in ISO 8601 UTC)."""
    if isinstance(change, IncidentView):
        return {
            "id": change.id,
            "title": change.title,
            "url": site.incident_url(change.id),
            "services": list(change.services),
            "status": change.status,
            "impact": change.impact,
            "started": format_instant(change.started),
            "resolved": _instant(change.resolved),
            "automatic": change.automatic,
            "exclusion_cause": change.exclusion_cause,
            "updates": [
                {
                    "at": format_instant(update.at),
                    "status": update.status,
                    "body_html": update.body_html,
                    "author": update.author,
                }
                for update in change.updates
            ],
        }
    return {
        "id": change.id,
        "title": change.title,
        "url": site.maintenance_url(change.id),
        "services": "*" if change.services == "*" else list(change.services),
        "location": change.location,
        "start": format_instant(change.start),
        "end": format_instant(change.end),
        "announced": format_instant(change.announced),
        "kind": change.kind,
        "reason": change.reason,
        "cancelled": change.cancelled,
    }


def webhook_payload(site: Site, change: Change, event: Event, now: int) -> str:
    """The JSON body of a webhook call: compact, keys in a fixed order."""
    key = "incident" if isinstance(change, IncidentView) else "maintenance"
    return json.dumps(
        {
            "event": event,
            "contract": site.contract,
            "occurred_at": format_instant(now),
            key: change_json(site, change),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
