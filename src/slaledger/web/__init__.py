"""The server side: the HTTP API (:mod:`~slaledger.web.app`) and ``slaledger serve``'s
process (:mod:`~slaledger.web.server`: the API, the embedded local agent, compaction)."""
