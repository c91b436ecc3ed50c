"""Storage adapter: observations in SQLite or PostgreSQL through SQLAlchemy Core.

Recent probes land row by row in a hot table; closed days are packed into one compressed
columnar segment per (service, location, day), which a month's settlement reads as arrays.
"""
