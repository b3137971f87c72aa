"""Benchmark scripts: they print figures; tests never assert timings."""
