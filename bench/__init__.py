"""Benchmarks for the LDN CDS Hooks service: ``make bench`` (``python -m bench.run``).

Not part of ``make test``: they print numbers, they do not pass or fail.
"""
