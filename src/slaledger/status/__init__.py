"""Keeping what the public sees current: figures, incidents and the status snapshot."""
