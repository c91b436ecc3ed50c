"""Adapters: read and write files (YAML, CSV, reports) around the pure core."""
