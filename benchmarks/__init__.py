"""Benchmarks, run by `make bench` (python -m benchmarks). Each module exposes
``run() -> list[dict]``; the runner prints one table per benchmark."""
