"""Notifying subscribers: messages and feeds (pure), email and webhook senders, the outbox."""

from __future__ import annotations

from slaledger.errors import SlaledgerError


class DeliveryError(SlaledgerError):
    """An attempt to deliver a message failed; ``permanent``: trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
