"""Wording shared by the page and the Statuspage-compatible API."""

from __future__ import annotations

NOTICE_PREFIX = "emergency maintenance: "
NOTICE_COUNTED = "this window counts as downtime"


def emergency_text(reason: str) -> str:
    """What the page says of an emergency window: ``Emergency maintenance (announced 3h
    before its start; api needs 48h notice): counted as downtime.``

    ``reason`` is the operator's notice message (``emergency maintenance: announced …; …
    — this window counts as downtime[ for …]``) or a reason alone; the message's lead is
    left out, and its consequence kept when it names the services it applies to."""
    head, consequence = reason.removeprefix(NOTICE_PREFIX), NOTICE_COUNTED
    if reason.startswith(NOTICE_PREFIX) and " — " in head:
        head, _, consequence = head.rpartition(" — ")
    if consequence == NOTICE_COUNTED:
        consequence = "counted as downtime"
    return f"Emergency maintenance ({head}): {consequence}."
