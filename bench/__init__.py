"""Benchmarks: each module measures a stage beside a naive baseline in the same run."""
