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

from slaledger.core.contract import ERROR_CLASSES, Match, OutcomeRule
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


def classify(
    observations: Observations, rule_lists: Sequence[Sequence[OutcomeRule]]
) -> NDArray[np.int8]:
    """Outcome codes for every observation; ``rule_lists[i]`` applies to service ``i``."""
    if len(observations) == 0:
        return np.empty(0, dtype=np.int8)
    distinct: dict[tuple[OutcomeRule, ...], int] = {}
    service_table = np.array(
        [distinct.setdefault(tuple(rules), len(distinct)) for rules in rule_lists] or [0],
        dtype=np.int64,
    )
    tables = np.concatenate([compile_outcomes(rules) for rules in distinct] or [np.zeros(1)])
    key = observations.error.astype(np.int64) * _STATUSES
    key += observations.status
    key *= 2
    key += observations.retry_after
    if len(distinct) > 1:
        key += service_table[observations.service] * TABLE_SIZE
    return tables.astype(np.int8)[key]
