"""``per-event`` commitments: each event handled strictly faster than a threshold.

An event (a DDoS attack, say) is *covered* when its ``peak_gbps`` is at least the
commitment's ``min_peak_gbps``; events below are listed as ``not-covered`` and never judged.
A covered event is ``met`` when ``mitigated − detected < below``, strictly: an activation of
exactly ``below`` is missed. An event not yet mitigated is ``pending`` while the evaluation
instant is before ``detected + below``, and ``missed`` from then on (it can no longer be
met). An event belongs to the month, in the contract's zone, in which it was detected.

Everything is exact: instants in integer microseconds, peaks as :class:`~decimal.Decimal`.
Statuses are computed over numpy arrays at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from slaledger.core.commitment_results import CommitmentResult, ItemResult, Status, seconds
from slaledger.core.commitment_spec import PerEvent
from slaledger.core.periods import Period
from slaledger.core.records import Ddos

NOT_MITIGATED = np.iinfo(np.int64).max
"""``mitigated`` of an event not (yet) mitigated."""

MET, MISSED, PENDING, NOT_COVERED = 0, 1, 2, 3
STATUS_NAMES: tuple[Status, ...] = ("met", "missed", "pending", "not-covered")
"""Status codes of :func:`event_statuses`, indexed by code."""


def covered(peaks: Iterable[Decimal], min_peak: Decimal | None) -> NDArray[np.bool_]:
    """``peak ≥ min_peak`` per event, exactly; every event when there is no minimum."""
    values = list(peaks)
    if min_peak is None:
        return np.ones(len(values), dtype=bool)
    return np.fromiter((peak >= min_peak for peak in values), dtype=bool, count=len(values))


def event_statuses(
    detected: ArrayLike,
    mitigated: ArrayLike,
    is_covered: ArrayLike,
    below: int,
    at: int,
) -> NDArray[np.int8]:
    """The status code of each event (:data:`STATUS_NAMES`) as of the instant ``at``."""
    start = np.asarray(detected, dtype=np.int64)
    end = np.asarray(mitigated, dtype=np.int64)
    cover = np.asarray(is_covered, dtype=bool)
    done = end != NOT_MITIGATED
    status = np.full(start.size, MISSED, dtype=np.int8)
    # ``end - start`` only where it exists, so NOT_MITIGATED never overflows.
    elapsed = np.where(done, end, start) - start
    status[done & (elapsed < below)] = MET
    status[~done & (at < start + below)] = PENDING
    status[~cover] = NOT_COVERED
    return status


def in_period(detected: ArrayLike, start: int, end: int) -> NDArray[np.bool_]:
    """Events detected in ``[start, end)``: those that belong to that month."""
    instants = np.asarray(detected, dtype=np.int64)
    return (instants >= start) & (instants < end)


def counts(statuses: NDArray[np.int8]) -> dict[str, int]:
    """How many events have each status, every status named."""
    tally = np.bincount(statuses, minlength=len(STATUS_NAMES))
    return {name: int(tally[code]) for code, name in enumerate(STATUS_NAMES)}


def month_met(statuses: NDArray[np.int8]) -> bool | None:
    """Met iff no covered event missed; ``None`` when no event was judged (met or missed).

    A pending event is not judged yet: it does not make the month missed, and a month of
    pending events alone is ``None``.
    """
    if not ((statuses == MET) | (statuses == MISSED)).any():
        return None
    return not (statuses == MISSED).any()


def evaluate_per_event(
    name: str, spec: PerEvent, events: Sequence[Ddos], period: Period, at: int
) -> CommitmentResult:
    """The commitment ``name`` over the events detected in ``period``, as of ``at``.

    Every event not met is listed (missed, pending, not-covered), in order of detection;
    met ones are counted. ``due`` is ``detected + below``, which the mitigation must come
    strictly before.
    """
    n = len(events)
    detected = np.fromiter((event.detected for event in events), dtype=np.int64, count=n)
    # Columns are read in the records' own order (reading objects in a shuffled order costs
    # ten times as much in cache misses), then sorted by detection.
    inside = np.flatnonzero(in_period(detected, period.start, period.end)).tolist()
    chosen = [events[i] for i in inside] if len(inside) < n else list(events)
    mitigated = np.fromiter((e.mitigated for e in chosen), dtype=np.int64, count=len(chosen))
    cover = covered((e.peak_gbps for e in chosen), spec.covers.min_peak_gbps)
    detected = detected[inside]
    order = np.argsort(detected, kind="stable")
    detected, mitigated, cover = detected[order], mitigated[order], cover[order]
    codes = event_statuses(detected, mitigated, cover, spec.below, at)
    listed = np.flatnonzero(codes != MET)
    rows = order[listed].tolist()
    ids = [e.id for e in chosen]  # in the records' order, like the columns above
    customers = [e.customer for e in chosen]
    items = tuple(
        ItemResult(
            id=ids[row],
            start=start,
            due=start + spec.below,
            end=end,
            elapsed_seconds=seconds(end - start),
            status=STATUS_NAMES[code],
            customer=customers[row],
        )
        for row, start, end, code in zip(
            rows,
            detected[listed].tolist(),
            mitigated[listed].tolist(),
            codes[listed].tolist(),
            strict=True,
        )
    )
    return CommitmentResult(
        commitment=name,
        kind="per-event",
        met=month_met(codes),
        counts=counts(codes),
        items=items,
    )
