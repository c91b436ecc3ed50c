"""The probe agent: runs a contract's checks on schedule and records what they find.

:class:`~slaledger.probes.scheduler.Scheduler` runs the checks of one location;
:mod:`~slaledger.probes.http`, :mod:`~slaledger.probes.tcp`, :mod:`~slaledger.probes.dns`
and :mod:`~slaledger.probes.tls` probe one check each; results are
:class:`~slaledger.probes.result.ProbeResult` and become core observations with
:func:`~slaledger.probes.result.to_observations`.
"""

from slaledger.probes.result import Measurement, ProbeResult, to_observations
from slaledger.probes.scheduler import (
    Probers,
    ScheduledCheck,
    Scheduler,
    SchedulerStats,
    checks_for_location,
)

__all__ = [
    "Measurement",
    "ProbeResult",
    "Probers",
    "ScheduledCheck",
    "Scheduler",
    "SchedulerStats",
    "checks_for_location",
    "to_observations",
]
