"""The public JSON APIs fuzzed against the OpenAPI document the real server serves.

schemathesis reads ``/api/v1/openapi.json`` from a real server (our API, the
Statuspage-compatible one and badges) and generates requests for every operation, valid and
invalid ones; each answer is checked: no server error, a documented status code and content
type, a body matching the response schema, invalid input refused.

(The operations are listed here and driven with ``@given`` rather than through
``schemathesis.pytest.from_fixture``, whose lazy schemas fail on pytest 9: they set
``request.node._nodeid``, which pytest 9 no longer has.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_server import serving
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.openapi import from_url
from schemathesis.specs.openapi.schemas import OpenApiSchema
from snapshots import Snapshots, public_app, status_snapshot

OPERATIONS = [
    "/api/v1/incidents",
    "/api/v1/maintenance",
    "/api/v1/sla",
    "/api/v1/status",
    "/api/v1/uptime",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/status.json",
    "/api/v2/summary.json",
    "/badge/{service}.svg",
]


@pytest.fixture(scope="module")
def served_url() -> Iterator[str]:
    with serving(public_app(Snapshots(status_snapshot()))) as url:
        yield url


@pytest.fixture(scope="module")
def public_schema(served_url: str) -> OpenApiSchema:
    return from_url(f"{served_url}/api/v1/openapi.json")


def test_the_document_covers_every_public_operation(public_schema: OpenApiSchema) -> None:
    assert sorted(public_schema.raw_schema["paths"]) == OPERATIONS
    assert all(list(item) == ["get"] for item in public_schema.raw_schema["paths"].values())


WITH_PARAMETERS = ["/api/v1/uptime", "/badge/{service}.svg"]
"""Operations that take input, so that invalid requests exist."""


@pytest.mark.parametrize(
    ("path", "mode"),
    [(path, GenerationMode.POSITIVE) for path in OPERATIONS]
    + [(path, GenerationMode.NEGATIVE) for path in WITH_PARAMETERS],
)
def test_operation_matches_the_document(
    public_schema: OpenApiSchema, served_url: str, path: str, mode: GenerationMode
) -> None:
    operation = public_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(case: Case) -> None:
        case.call_and_validate(base_url=served_url)

    fuzz()
