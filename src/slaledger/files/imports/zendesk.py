"""Zendesk tickets with their comments, as ``ticket`` records.

Two shapes of file are read (``docs/imports.md``):

- Zendesk's JSON export of tickets (JSON Lines, one ticket a line), each ticket with its
  ``comments`` list;
- Support API responses saved in one JSON file (one response, or an array of them): pages of
  ``GET /api/v2/tickets`` or of the incremental export ``GET /api/v2/incremental/tickets``
  (a ``tickets`` list, sideloaded ``users`` optional), and ``GET
  /api/v2/tickets/{id}/comments`` responses (a ``comments`` list) to which the saving script
  added the ``ticket_id`` they belong to. Tickets may also carry their ``comments`` inline.
  A ticket listed more than once (the incremental export lists it each time it changed) is
  read as its last listing.

A ticket's fields read: ``id``, ``created_at`` (opened), ``priority`` (the severity, through
``--severity-map``), ``organization_id`` (the customer, through ``--customer-map``, else the
organization id itself), ``requester_id``. Its comments, by ``created_at``:

- the first one is the request itself: not a response;
- private comments (``public: false``, internal notes) are not responses;
- a comment made by a trigger or an automation (``via.channel`` ``rule`` or ``system``, or
  ``via.source.rel`` ``trigger`` or ``automation``) is an ``auto`` response;
- a public comment by an agent or admin (``role`` of the sideloaded user ``author_id``; for an
  author not sideloaded, anyone but the requester) is a ``human`` response; one by the
  requester or another end user is not a response.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from slaledger.errors import ObservationsError, Problem, RecordsError
from slaledger.files.imports.helpdesk import ImportedRecords, ticket_record
from slaledger.files.imports.json_source import (
    JsonDocument,
    JsonPath,
    keys_found,
    line_of,
    read_text,
    shown,
)

AUTOMATIC_CHANNELS = frozenset({"rule", "system"})
"""``via.channel`` of comments made by business rules (triggers, automations) and Zendesk."""
AUTOMATIC_RULES = frozenset({"trigger", "automation"})
"""``via.source.rel`` of comments made by a trigger or an automation."""
AGENT_ROLES = frozenset({"agent", "admin"})


@dataclass(frozen=True)
class ZendeskOptions:
    severity_map: Mapping[str, str] = field(default_factory=dict)
    """Zendesk priority (lower case; ``none`` for no priority) → severity."""
    customer_map: Mapping[str, str] = field(default_factory=dict)
    """Organization id → customer id."""


@dataclass
class _Ticket:
    value: dict[str, Any]
    where: JsonPath


def read_zendesk(path: Path, options: ZendeskOptions) -> ImportedRecords:
    """The ``ticket`` records of a Zendesk export; :class:`RecordsError` at the first bad
    ticket or comment (its line, and its path in the JSON for API responses)."""
    source = str(path)
    try:
        text = read_text(path)
        if _is_json_lines(text):
            return _read_json_lines(source, text, options)
        return _read_responses(JsonDocument.parse(source, text), options)
    except ObservationsError as error:
        raise RecordsError(error.problems) from None


def _is_json_lines(text: str) -> bool:
    """A JSON export: several lines that each hold one object."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
        return False
    try:
        json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return True


class _Located:
    """Raises problems at a line (JSON Lines) or at a path of a document (API responses)."""

    def __init__(self, source: str, document: JsonDocument | None, line: int) -> None:
        self.source, self.document, self.line = source, document, line

    def fail(self, where: JsonPath, message: str) -> NoReturn:
        if self.document is not None:
            self.document.fail(where, message)
        text = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in where).lstrip(".")
        raise ObservationsError(Problem(message, self.source, self.line, text or None))


def _read_json_lines(source: str, text: str, options: ZendeskOptions) -> ImportedRecords:
    imported = ImportedRecords(source)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        located = _Located(source, None, number)
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            located.fail((), f"expected a JSON object (one ticket): {error.msg}")
        if not isinstance(value, dict):
            located.fail((), f"expected a ticket object, got {shown(value)}")
        comments = _list(located, value, ("comments",), "comments")
        imported.add(_ticket(located, value, (), comments, {}, options), number)
    return imported


def _list(located: _Located, value: dict[str, Any], where: JsonPath, key: str) -> list[Any]:
    items = value.get(key)
    if key not in value:
        located.fail(where[:-1], f"expected a {key!r} list; {keys_found(value)}")
    if not isinstance(items, list):
        located.fail(where, f"expected a list, got {shown(items)}")
    return items


def _read_responses(document: JsonDocument, options: ZendeskOptions) -> ImportedRecords:
    value = document.value
    responses: list[tuple[JsonPath, Any]] = (
        [((index,), page) for index, page in enumerate(value)]
        if isinstance(value, list)
        else [((), value)]
    )
    located = _Located(document.source, document, 0)
    tickets: dict[str, _Ticket] = {}
    roles: dict[int, str] = {}
    comments: dict[str, tuple[JsonPath, list[Any]]] = {}
    for where, page in responses:
        if not isinstance(page, dict) or not ({"tickets", "comments"} & page.keys()):
            found = keys_found(page) if isinstance(page, dict) else f"got {shown(page)}"
            document.fail(
                where,
                "expected a Zendesk tickets or comments response, an object with a 'tickets' "
                f"or 'comments' list; {found}",
            )
        for index, user in enumerate(page.get("users") or []):
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                roles[user["id"]] = str(user.get("role", ""))
            else:
                document.fail((*where, "users", index), "expected a user with an id and a role")
        if "tickets" in page:
            for index, ticket in enumerate(_list(located, page, (*where, "tickets"), "tickets")):
                at = (*where, "tickets", index)
                if not isinstance(ticket, dict):
                    document.fail(at, f"expected a ticket object, got {shown(ticket)}")
                # The incremental export lists a ticket again each time it changed: the
                # latest listing (the last one) is the ticket as it is now.
                tickets.pop(str(ticket.get("id")), None)
                tickets[str(ticket.get("id"))] = _Ticket(ticket, at)
        if "comments" in page:
            ticket_id = page.get("ticket_id")
            if not isinstance(ticket_id, (int, str)) or isinstance(ticket_id, bool):
                document.fail(
                    (*where, "ticket_id"),
                    "expected the id of the ticket these comments belong to (add ticket_id "
                    f"when saving /api/v2/tickets/{{id}}/comments), got {shown(ticket_id)}",
                )
            items = _list(located, page, (*where, "comments"), "comments")
            before = comments.get(str(ticket_id))
            comments[str(ticket_id)] = (
                (*where, "comments"),
                items if before is None else [*before[1], *items],
            )
    imported = ImportedRecords(document.source)
    for ticket in tickets.values():
        key = str(ticket.value.get("id"))
        where_comments, found_comments = (
            ((*ticket.where, "comments"), ticket.value["comments"])
            if isinstance(ticket.value.get("comments"), list)
            else comments.get(key, ((), []))
        )
        record = _ticket(
            located, ticket.value, ticket.where, found_comments, roles, options, where_comments
        )
        imported.add(record, line_of(document.text, ticket.where) or 1)
    return imported


def _ticket(
    located: _Located,
    ticket: dict[str, Any],
    where: JsonPath,
    comments: list[Any],
    roles: Mapping[int, str],
    options: ZendeskOptions,
    where_comments: JsonPath | None = None,
) -> Any:
    def require(key: str) -> Any:
        if key not in ticket:
            located.fail(where, f"expected the ticket's {key!r}; {keys_found(ticket)}")
        return ticket[key]

    ticket_id = require("id")
    if not isinstance(ticket_id, (int, str)) or isinstance(ticket_id, bool) or ticket_id == "":
        located.fail((*where, "id"), f"expected the ticket id, got {shown(ticket_id)}")
    opened = require("created_at")
    if not isinstance(opened, str):
        located.fail((*where, "created_at"), f"expected an ISO 8601 instant, got {shown(opened)}")
    priority = ticket.get("priority")
    name = "none" if priority is None else str(priority).lower()
    severity = options.severity_map.get(name) if options.severity_map else name
    if severity is None:
        located.fail(
            (*where, "priority"),
            f"expected a priority --severity-map maps ({', '.join(options.severity_map)}), "
            f"got {shown(priority)}",
        )
    organization = ticket.get("organization_id")
    customer = (
        None
        if organization is None
        else options.customer_map.get(str(organization), str(organization))
    )
    requester = ticket.get("requester_id")
    base = where_comments if where_comments is not None else (*where, "comments")
    ordered = []
    for index, comment in enumerate(comments):
        if not isinstance(comment, dict) or not isinstance(comment.get("created_at"), str):
            located.fail(
                (*base, index), f"expected a comment with created_at, got {shown(comment)}"
            )
        ordered.append(comment)
    ordered.sort(key=lambda comment: comment["created_at"])
    responses = []
    for comment in ordered[1:]:  # the first comment is the request itself
        by = _response_by(comment, requester, roles)
        if by is not None:
            responses.append({"at": comment["created_at"], "by": by})
    value = {
        "kind": "ticket",
        "id": str(ticket_id),
        "severity": severity,
        "opened": opened,
        "responses": responses,
    }
    if customer is not None:
        value["customer"] = customer
    line = located.line
    if located.document is not None:
        line = line_of(located.document.text, where) or 1
    fields = {"opened": "created_at", "responses": "comments", "severity": "priority"}
    return ticket_record(value, located.source, line, fields)


def _response_by(comment: dict[str, Any], requester: Any, roles: Mapping[int, str]) -> str | None:
    """``auto``, ``human``, or ``None`` (not a response) for one comment after the first."""
    if comment.get("public") is False:
        return None
    via = comment.get("via")
    via = via if isinstance(via, dict) else {}
    source = via.get("source")
    source = source if isinstance(source, dict) else {}
    if via.get("channel") in AUTOMATIC_CHANNELS or source.get("rel") in AUTOMATIC_RULES:
        return "auto"
    author = comment.get("author_id")
    if author is None or author == requester:
        return None
    role = roles.get(author) if isinstance(author, int) else None
    if role is None:  # users not sideloaded: anyone but the requester answers for the provider
        return "human"
    return "human" if role in AGENT_ROLES else None
