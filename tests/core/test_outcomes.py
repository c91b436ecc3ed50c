import numpy as np

from slaledger.core.contract import DEFAULT_OUTCOMES, Match, OutcomeRule
from slaledger.core.observations import ERROR_CODES, Observations
from slaledger.core.outcomes import DOWN, EXCLUDED, UP, classify, classify_one

BREAKER = (
    OutcomeRule(match=Match(status=503, retry_after="present"), outcome="excluded"),
    *DEFAULT_OUTCOMES,
)


def test_default_outcomes() -> None:
    assert classify_one(DEFAULT_OUTCOMES, 0, 200, False) == UP
    assert classify_one(DEFAULT_OUTCOMES, 0, 404, False) == UP
    assert classify_one(DEFAULT_OUTCOMES, 0, 503, True) == DOWN
    assert classify_one(DEFAULT_OUTCOMES, ERROR_CODES["timeout"], 0, False) == DOWN
    assert classify_one(DEFAULT_OUTCOMES, 0, 0, False) == UP


def test_first_match_wins() -> None:
    assert classify_one(BREAKER, 0, 503, True) == EXCLUDED
    assert classify_one(BREAKER, 0, 503, False) == DOWN
    assert classify_one(BREAKER, ERROR_CODES["timeout"], 503, True) == EXCLUDED


def test_error_class_and_status_class_matches() -> None:
    rules = (
        OutcomeRule(match=Match(error="dns"), outcome="excluded"),
        OutcomeRule(match=Match(status="4xx"), outcome="down"),
    )
    assert classify_one(rules, ERROR_CODES["dns"], 0, False) == EXCLUDED
    assert classify_one(rules, ERROR_CODES["tls"], 0, False) == UP
    assert classify_one(rules, 0, 429, False) == DOWN


def test_classify_uses_each_services_rules() -> None:
    n = 4
    observations = Observations(
        timestamp=np.arange(n, dtype=np.int64),
        service=np.array([0, 0, 1, 1], dtype=np.int32),
        location=np.zeros(n, dtype=np.int16),
        status=np.array([503, 200, 503, 500], dtype=np.int16),
        error=np.zeros(n, dtype=np.int8),
        retry_after=np.array([True, False, True, False]),
        services=("plain", "breaker"),
        locations=("default",),
    )
    got = classify(observations, [DEFAULT_OUTCOMES, BREAKER])
    assert got.tolist() == [DOWN, UP, EXCLUDED, DOWN]


def test_a_status_outside_the_table_reads_as_no_status() -> None:
    observations = Observations(
        timestamp=np.arange(2, dtype=np.int64),
        service=np.zeros(2, dtype=np.int32),
        location=np.zeros(2, dtype=np.int16),
        status=np.array([700, 700], dtype=np.int16),
        error=np.array([ERROR_CODES["other"], 0], dtype=np.int8),
        retry_after=np.zeros(2, dtype=bool),
        services=("api",),
        locations=("default",),
    )
    assert classify(observations, [DEFAULT_OUTCOMES]).tolist() == [DOWN, UP]
