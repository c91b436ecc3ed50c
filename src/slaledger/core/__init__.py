"""The pure core: no I/O, no clock reads, exact arithmetic, arrays for bulk data.

Instants are integer microseconds since the Unix epoch, UTC (``int`` or ``numpy.int64``).
"""
