"""Benchmarks; `python -m bench` rewrites bench/RESULTS.md."""
