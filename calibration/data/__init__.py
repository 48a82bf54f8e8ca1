"""Data: import, validation, sources, attachment checks, data charts."""
