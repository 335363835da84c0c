"""Garbage-collector settings for a request-serving process.

A hook request of a heavy patient parses into ~100,000 short-lived containers, freed
by reference counting. With CPython's default thresholds that allocation triggers
many collections, and each full collection rescans every long-lived object loaded at
start-up (terminology tables, card texts, compiled patterns). Measured in-process on a
2,000-resource order-select: worst case 163 -> 104 ms, p50 81 -> 63 ms (measured when this was added; bench/ does not rerun it).

Under load the middle generation matters too: with 16 heavy calls in progress on one
worker, every call's parsed body survives a young collection or two, and each collection
of the middle generation rescans all of them (a stall of ~100 ms). At CPython's cadence
(every 10 young collections) that cost ~9 ms per heavy call, at every 50 ~4 ms (measured
in-process, 16 concurrent 2,000-resource order-selects). Garbage in reference cycles, which
only these collections free, is rare here: requests' objects are freed by reference counting.
"""

from __future__ import annotations

import gc

# First-generation threshold: collect after this many net container allocations
# (CPython's default is 700).
YOUNG_GENERATION_THRESHOLD = 20_000
# Middle generation: collected after this many young collections (CPython's default is 10).
MIDDLE_GENERATION_THRESHOLD = 50


def tune_for_requests() -> None:
    """Call once start-up has loaded everything long-lived."""
    gc.collect()
    gc.freeze()  # start-up objects move to a permanent generation: never rescanned
    *_, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, MIDDLE_GENERATION_THRESHOLD, old)
