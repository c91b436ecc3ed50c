"""Emails and webhook payloads built from the read models: exact texts, links, headers."""

from __future__ import annotations

import json

import pytest
from notify_views import EMERGENCY, INCIDENT, MAINTENANCE, RESOLVED, SITE, T0

from slaledger.errors import UsageError
from slaledger.notify.messages import (
    Email,
    confirmation_email,
    event_of,
    fingerprint,
    html_to_text,
    incident_email,
    maintenance_email,
    public_url,
    subject_key,
    webhook_payload,
)

UNSUBSCRIBE_HEADERS = (
    ("Auto-Submitted", "auto-generated"),
    ("List-Unsubscribe", "<https://status.acme.example/unsubscribe?token=U%2F1>"),
    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
)


def test_the_confirmation_email_links_to_confirm_and_to_unsubscribe() -> None:
    email = confirmation_email(SITE, "C-1_x", "U/1", ("web", "api"))
    assert email.subject == "Confirm your subscription to Acme Cloud status updates"
    assert email.text == (
        "Confirm your subscription to Acme Cloud status updates\n"
        "\n"
        "Services: API, Website\n"
        "\n"
        "Someone, hopefully you, asked to receive incident and maintenance updates at this "
        "address. Follow the link below to confirm. If it was not you, ignore this email: "
        "nothing more will be sent.\n"
        "\n"
        "Confirm your subscription: https://status.acme.example/subscribe/confirm?token=C-1_x\n"
        "\n"
        "-- \n"
        "This email was sent because this address was entered on the status page of "
        "Acme Cloud.\n"
        "Unsubscribe: https://status.acme.example/unsubscribe?token=U%2F1\n"
    )
    assert email.headers == UNSUBSCRIBE_HEADERS
    assert (
        '<p><a href="https://status.acme.example/subscribe/confirm?token=C-1_x">'
        "Confirm your subscription</a></p>" in email.html
    )
    assert '<a href="https://status.acme.example/unsubscribe?token=U%2F1">Unsubscribe</a>' in (
        email.html
    )
    assert confirmation_email(SITE, "c", "u", None).text.splitlines()[2] == (
        "Services: all services"
    )


def test_an_incident_email_shows_its_state_and_latest_update() -> None:
    email = incident_email(SITE, INCIDENT, "U/1")
    assert email.subject == "[Acme Cloud] Investigating: API errors & timeouts"
    assert email.text == (
        "Investigating: API errors & timeouts\n"
        "\n"
        "Status: Investigating\n"
        "Impact: Major\n"
        "Services: API\n"
        "Started: 2026-10-09 14:40 CEST\n"
        "Updated: 2026-10-09 14:42 CEST by ops\n"
        "\n"
        "We see errors on the API (https://x.example/api).\n"
        "\n"
        "Follow this incident: https://status.acme.example/incidents/7\n"
        "\n"
        "-- \n"
        "You get this email because you subscribed to status updates of Acme Cloud.\n"
        "Unsubscribe: https://status.acme.example/unsubscribe?token=U%2F1\n"
    )
    assert email.headers == UNSUBSCRIBE_HEADERS
    # The title is escaped; the update's sanitised HTML is embedded as it is.
    assert "<title>[Acme Cloud] Investigating: API errors &amp; timeouts</title>" in email.html
    assert (
        '<div style="margin-top: 1em;"><p>We see <strong>errors</strong> on the '
        '<a href="https://x.example/api">API</a>.</p></div>'
    ) in email.html
    resolved = incident_email(SITE, RESOLVED, "u")
    assert resolved.subject == "[Acme Cloud] Resolved: API errors & timeouts"
    assert resolved.text.splitlines()[2:11] == [
        "Status: Resolved",
        "Impact: Major",
        "Services: API",
        "Started: 2026-10-09 14:40 CEST",
        "Resolved: 2026-10-09 15:10 CEST",
        "Updated: 2026-10-09 15:10 CEST by ana",
        "",
        "Fixed.",
        "",
    ]


def test_maintenance_emails_to_account_holders_have_no_unsubscribe_link() -> None:
    email = maintenance_email(SITE, MAINTENANCE, "maintenance.announced", account="globex")
    assert email.subject == (
        "[Acme Cloud] Scheduled maintenance: Database upgrade; v16, with failover "
        "(2026-10-13 00:00-01:30 CEST)"
    )
    assert email.text == (
        "Scheduled maintenance: Database upgrade; v16, with failover\n"
        "\n"
        "When: 2026-10-13 00:00–01:30 CEST (2026-10-12 22:00–23:30 UTC)\n"
        "Services: API, Website\n"
        "Duration: 90 minutes\n"
        "Announced: 2026-10-09 14:40 CEST\n"
        "\n"
        "See this maintenance: https://status.acme.example/maintenance/3\n"
        "\n"
        "-- \n"
        "You get this email as a contact of account globex of Acme Cloud. To change who "
        "receives maintenance notices, contact your provider.\n"
    )
    assert email.headers == (("Auto-Submitted", "auto-generated"),)
    assert "Unsubscribe" not in email.html


def test_maintenance_changes_and_cancellations_say_so() -> None:
    changed = maintenance_email(SITE, MAINTENANCE, "maintenance.updated", unsubscribe_token="u")
    assert changed.subject.startswith("[Acme Cloud] Scheduled maintenance changed: Database")
    cancelled = maintenance_email(SITE, EMERGENCY, "maintenance.cancelled", unsubscribe_token="u")
    assert cancelled.subject == (
        "[Acme Cloud] Maintenance cancelled: Edge certificate rotation "
        "(2026-10-09 15:00-15:30 CEST)"
    )
    assert cancelled.text.splitlines()[2:9] == [
        "When: 2026-10-09 15:00–15:30 CEST (2026-10-09 13:00–13:30 UTC)",
        "Services: all services",
        "Location: fra",
        "Duration: 30 minutes",
        "Announced: 2026-10-09 14:45 CEST",
        "",
        "Announced 15 minutes ahead; the contract asks for 48 hours.",
    ]


def test_webhook_payloads_are_compact_json_with_iso_instants() -> None:
    body = webhook_payload(SITE, INCIDENT, "incident.created", T0)
    assert body == (
        '{"event":"incident.created","contract":"acme","occurred_at":"2026-10-09T12:40:00Z",'
        '"incident":{"id":7,"title":"API errors & timeouts",'
        '"url":"https://status.acme.example/incidents/7","services":["api"],'
        '"status":"investigating","impact":"major","started":"2026-10-09T12:40:00Z",'
        '"resolved":null,"automatic":true,"exclusion_cause":null,"updates":[{'
        '"at":"2026-10-09T12:42:00Z","status":"investigating","body_html":"<p>We see '
        '<strong>errors</strong> on the <a href=\\"https://x.example/api\\">API</a>.</p>",'
        '"author":"ops"}]}}'
    )
    maintenance = json.loads(webhook_payload(SITE, EMERGENCY, "maintenance.announced", T0))
    assert maintenance == {
        "event": "maintenance.announced",
        "contract": "acme",
        "occurred_at": "2026-10-09T12:40:00Z",
        "maintenance": {
            "id": 4,
            "title": "Edge certificate rotation",
            "url": "https://status.acme.example/maintenance/4",
            "services": "*",
            "location": "fra",
            "start": "2026-10-09T13:00:00Z",
            "end": "2026-10-09T13:30:00Z",
            "announced": "2026-10-09T12:45:00Z",
            "kind": "emergency",
            "reason": "Announced 15 minutes ahead; the contract asks for 48 hours.",
            "cancelled": False,
        },
    }


def test_events_and_fingerprints() -> None:
    assert event_of(INCIDENT, seen_before=False) == "incident.created"
    assert event_of(INCIDENT, seen_before=True) == "incident.updated"
    assert event_of(RESOLVED, seen_before=True) == "incident.resolved"
    assert event_of(MAINTENANCE, seen_before=False) == "maintenance.announced"
    assert event_of(MAINTENANCE, seen_before=True) == "maintenance.updated"
    from dataclasses import replace

    assert event_of(replace(MAINTENANCE, cancelled=True), True) == "maintenance.cancelled"
    assert subject_key(INCIDENT) == "incident:7"
    assert subject_key(MAINTENANCE) == "maintenance:3"
    assert fingerprint(INCIDENT) == fingerprint(replace(INCIDENT))
    assert fingerprint(INCIDENT) != fingerprint(RESOLVED)


def test_emails_survive_the_outbox_as_json() -> None:
    email = incident_email(SITE, INCIDENT, "u")
    assert Email.from_json(email.to_json()) == email


def test_html_to_text_keeps_paragraphs_lists_and_links() -> None:
    html = "<p>One <em>two</em><br>three</p><ul><li>a</li><li>b &amp; c</li></ul><p>end</p>"
    assert html_to_text(html) == "One two\nthree\n\n- a\n- b & c\n\nend"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://status.acme.example/", "https://status.acme.example"),
        ("http://127.0.0.1:8080/status", "http://127.0.0.1:8080/status"),
    ],
)
def test_public_urls(given: str, expected: str) -> None:
    assert public_url(given) == expected


@pytest.mark.parametrize("given", ["status.acme.example", "ftp://x.example", "https://x?a=1"])
def test_bad_public_urls(given: str) -> None:
    with pytest.raises(UsageError) as caught:
        public_url(given)
    assert str(caught.value) == (
        "--public-url: expected the status page's public URL like https://status.example.com, "
        f"got {given!r}"
    )
