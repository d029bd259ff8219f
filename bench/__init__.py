"""Benchmarks: `make bench` runs them against the local stack and writes JSON results to bench/results/."""
