"""Classifying observations as up, down or excluded by a service's ``outcomes`` list.

An outcome depends only on (error class, status, Retry-After present), a few thousand
combinations, so each list is compiled once into a lookup table and applied to all
observations with one gather.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from slaledger.core.contract import Match, OutcomeRule
from slaledger.core.model_base import ERROR_CLASSES
from slaledger.core.observations import ERROR_CODES, Observations

UP, DOWN, EXCLUDED = 0, 1, 2
OUTCOME_NAMES = ("up", "down", "excluded")
_CODES = {name: code for code, name in enumerate(OUTCOME_NAMES)}

_STATUSES = 600
_ERRORS = len(ERROR_CLASSES) + 1
TABLE_SIZE = _ERRORS * _STATUSES * 2


def _matches(match: Match, error: int, status: int, retry_after: bool) -> bool:
    if match.error is not None:
        if match.error == "any" and error == 0:
            return False
        if match.error != "any" and error != ERROR_CODES[match.error]:
            return False
    if match.status is not None:
        if isinstance(match.status, int):
            if status != match.status:
                return False
        elif status // 100 != int(match.status[0]) or status == 0:
            return False
    if match.retry_after is not None:
        return retry_after == (match.retry_after == "present")
    return True


def classify_one(rules: Sequence[OutcomeRule], error: int, status: int, retry_after: bool) -> int:
    """The outcome code of one observation: first matching rule, else up."""
    for rule in rules:
        if _matches(rule.match, error, status, retry_after):
            return _CODES[rule.outcome]
    return UP


@lru_cache(maxsize=64)
def compile_outcomes(rules: tuple[OutcomeRule, ...]) -> NDArray[np.int8]:
    """The outcome of every (error, status, retry_after) combination, flattened."""
    table = np.empty(TABLE_SIZE, dtype=np.int8)
    for error in range(_ERRORS):
        for status in range(_STATUSES):
            for retry in (0, 1):
                key = (error * _STATUSES + status) * 2 + retry
                table[key] = classify_one(rules, error, status, bool(retry))
    return table


CHUNK_ROWS = 1 << 20
"""Rows processed at a time: keeps temporaries in cache and off the page-fault path."""


def classify(
    observations: Observations, rule_lists: Sequence[Sequence[OutcomeRule]]
) -> NDArray[np.int8]:
    """Outcome codes for every observation; ``rule_lists[i]`` applies to service ``i``."""
    size = len(observations)
    result = np.empty(size, dtype=np.int8)
    if size == 0:
        return result
    distinct: dict[tuple[OutcomeRule, ...], int] = {}
    table_of_service = np.array(
        [distinct.setdefault(tuple(rules), len(distinct)) for rules in rule_lists] or [0],
        dtype=np.int32,
    )
    tables = np.concatenate([compile_outcomes(rules) for rules in distinct])
    tables = tables.astype(np.int8)
    key = np.empty(min(size, CHUNK_ROWS), dtype=np.int32)
    for lo in range(0, size, CHUNK_ROWS):
        hi = min(size, lo + CHUNK_ROWS)
        k = key[: hi - lo]
        np.multiply(observations.error[lo:hi], _STATUSES, out=k, dtype=np.int32)
        status = observations.status[lo:hi]
        # Only 0 (none) and 100-599 are statuses; anything else reads as "no status".
        k += np.where((status >= 0) & (status < _STATUSES), status, 0)
        k *= 2
        k += observations.retry_after[lo:hi]
        if len(distinct) > 1:
            k += table_of_service[observations.service[lo:hi]] * TABLE_SIZE
        np.take(tables, k, out=result[lo:hi])
    return result
