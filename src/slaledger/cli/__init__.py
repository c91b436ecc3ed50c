"""Command-line adapter: parses arguments, calls the composition root, renders results."""
