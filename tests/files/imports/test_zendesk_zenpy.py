"""Compatibility with zenpy, the Zendesk API client for Python: its models (written after
Zendesk's documented JSON) know every key our fixture uses, and tickets, comments and users
built with them and dumped as zenpy dumps them are read as expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slaledger.core.records import record_json
from slaledger.files.imports.record_files import read_record_file

api_objects = pytest.importorskip("zenpy.lib.api_objects")

FIXTURE = Path(__file__).with_name("fixtures") / "zendesk-api.json"


def _keys(model: Any, value: dict[str, Any]) -> set[str]:
    """The keys of ``value`` zenpy's ``model`` does not know."""
    return set(value) - set(model(**value).to_dict())


def test_zenpy_models_know_every_key_of_the_fixture() -> None:
    pages = json.loads(FIXTURE.read_text())
    unknown: set[str] = set()
    for ticket in pages[0]["tickets"]:
        unknown |= _keys(api_objects.Ticket, ticket)
    for user in pages[0]["users"]:
        unknown |= _keys(api_objects.User, user)
    for page in pages[1:]:
        for comment in page["comments"]:
            unknown |= _keys(api_objects.Comment, comment)
            unknown |= _keys(api_objects.Via, comment["via"])
    assert unknown == set()


def test_tickets_built_with_zenpy_are_read_as_expected(tmp_path: Path) -> None:
    z = api_objects
    ticket = z.Ticket(
        id=77,
        created_at="2026-12-24T17:30:00Z",
        priority="urgent",
        requester_id=1,
        organization_id=42,
    )

    def comment(author: int, at: str, *, public: bool = True, via: Any = None) -> Any:
        return z.Comment(
            author_id=author,
            created_at=at,
            public=public,
            via=via or z.Via(channel="web", source=z.Source(rel=None)),
        )

    comments = [
        comment(1, "2026-12-24T17:30:00Z"),
        comment(
            3,
            "2026-12-24T17:30:04Z",
            via=z.Via(channel="rule", source=z.Source(rel="automation")),
        ),
        comment(2, "2026-12-24T17:35:00Z", public=False),
        comment(2, "2026-12-29T09:10:00Z"),
    ]
    users = [z.User(id=1, role="end-user"), z.User(id=2, role="agent"), z.User(id=3, role="admin")]
    document = [
        {"tickets": [ticket.to_dict()], "users": [user.to_dict() for user in users]},
        {"ticket_id": 77, "comments": [c.to_dict() for c in comments]},
    ]
    path = tmp_path / "zenpy.json"
    path.write_text(json.dumps(document, indent=1))
    imported = read_record_file(
        path, "zendesk", severity_map=["urgent=P1"], customer_map=["42=acme"]
    )
    assert [record_json(record) for record in imported.records] == [
        {
            "kind": "ticket",
            "id": "77",
            "customer": "acme",
            "severity": "P1",
            "opened": "2026-12-24T17:30:00Z",
            "responses": [
                {"at": "2026-12-24T17:30:04Z", "by": "auto"},
                {"at": "2026-12-29T09:10:00Z", "by": "human"},
            ],
        }
    ]
