"""What one probe found, and probe results as core :class:`Observations`."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from slaledger.core.observations import DEFAULT_LOCATION, ERROR_CODES, NO_STATUS, Observations

ErrorClass = Literal["timeout", "connect", "dns", "tls", "assertion", "other"]
PHASES = ("dns", "connect", "tls", "processing", "transfer")
"""Latency phases in milliseconds, as far as a probe can tell them apart (the names of the
blackbox exporter's ``probe_http_duration_seconds`` phases, ``resolve`` written ``dns``)."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """What a probe found, before it is tied to a check, a service and a location.

    ``detail`` says why a probe failed (or is empty); ``tls_expiry`` is the certificate's
    ``notAfter`` in microseconds since the epoch, when the probe saw a certificate.
    """

    status: int | None
    error: ErrorClass | None
    latency_ms: float
    retry_after: bool = False
    phases: Mapping[str, float] = field(default_factory=dict)
    detail: str = ""
    tls_expiry: int | None = None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe: when it started (µs since the epoch, UTC), what it checked, what it found."""

    instant: int
    service: str
    location: str
    check_id: str
    status: int | None
    error: ErrorClass | None
    latency_ms: float
    retry_after: bool = False
    phases: Mapping[str, float] = field(default_factory=dict)
    detail: str = ""
    tls_expiry: int | None = None

    @classmethod
    def of(
        cls, measurement: Measurement, instant: int, service: str, location: str, check_id: str
    ) -> ProbeResult:
        return cls(
            instant,
            service,
            location,
            check_id,
            measurement.status if _is_http_status(measurement.status) else None,
            measurement.error or (None if _is_http_status(measurement.status) else "other"),
            measurement.latency_ms,
            measurement.retry_after,
            measurement.phases,
            measurement.detail,
            measurement.tls_expiry,
        )


def _is_http_status(status: int | None) -> bool:
    """Statuses outside 100–599 (aiohttp accepts ``HTTP/1.1 700``) are not kept as statuses:
    such an answer is a failed probe of class ``other``."""
    return status is None or 100 <= status <= 599


def describe(failure: BaseException | str) -> str:
    """A failure in one line of at most 200 characters; a system error in the system's words
    (``Connection refused``) rather than the failed call's."""
    if isinstance(failure, ssl.SSLCertVerificationError):
        text = f"certificate verify failed: {failure.verify_message}"
    elif isinstance(failure, socket.gaierror) and failure.strerror:
        text = failure.strerror
    elif type(failure).__module__ == "builtins" and isinstance(failure, OSError) and failure.errno:
        text = os.strerror(failure.errno)
    else:
        text = str(failure) or type(failure).__name__
    return " ".join(text.split())[:200]


def to_observations(results: Sequence[ProbeResult]) -> Observations:
    """The results as observations; name tables in order of first appearance."""
    services: dict[str, int] = {}
    locations: dict[str, int] = {}
    n = len(results)
    timestamp = np.empty(n, np.int64)
    service = np.empty(n, np.int32)
    location = np.empty(n, np.int16)
    status = np.empty(n, np.int16)
    error = np.empty(n, np.int8)
    retry_after = np.empty(n, np.bool_)
    for row, result in enumerate(results):
        timestamp[row] = result.instant
        service[row] = services.setdefault(result.service, len(services))
        location[row] = locations.setdefault(result.location or DEFAULT_LOCATION, len(locations))
        status[row] = NO_STATUS if result.status is None else result.status
        error[row] = 0 if result.error is None else ERROR_CODES[result.error]
        retry_after[row] = result.retry_after
    return Observations(
        timestamp=timestamp,
        service=service,
        location=location,
        status=status,
        error=error,
        retry_after=retry_after,
        services=tuple(services),
        locations=tuple(locations),
    )
