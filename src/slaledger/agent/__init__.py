"""``slaledger agent``: probes where it runs, keeps results in a durable queue, pushes them.

:class:`~slaledger.agent.queue.BatchQueue` is the on-disk queue (one SQLite file),
:class:`~slaledger.agent.pusher.Pusher` sends its batches to the server's ingest endpoint,
and :class:`~slaledger.agent.runner.Agent` wires the probe scheduler to both.
"""

from slaledger.agent.pusher import Pusher, PusherStats, TokenRejectedError, ingest_url
from slaledger.agent.queue import BatchQueue, QueueError
from slaledger.agent.runner import Agent, AgentStats

__all__ = [
    "Agent",
    "AgentStats",
    "BatchQueue",
    "Pusher",
    "PusherStats",
    "QueueError",
    "TokenRejectedError",
    "ingest_url",
]
