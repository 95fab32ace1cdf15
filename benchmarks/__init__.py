"""Benchmarks: `python -m benchmarks` (or `make bench`) prints tables and writes them to
benchmarks/results/."""
