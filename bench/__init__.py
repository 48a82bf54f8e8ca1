"""Benchmarks: one module per area, each with run() -> str (a Markdown section)."""
