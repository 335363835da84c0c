"""Prometheus metrics (``GET /metrics``).

Each app has its own registry, so that tests can build many apps in one process. Label
values come only from fixed sets (service ids we define, card kinds, reasons), never
from request input, so a caller cannot blow up the number of time series.

Several workers: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``ldn-cds serve`` sets it
whenever it starts more than one worker), prometheus-client writes each worker's values
to files there and ``/metrics`` adds them up across workers, whichever worker answers.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess_dir() -> str | None:
    # prometheus_client reads the lower-case spelling too (its older name), so this does as well.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")  # noqa: SIM112


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "ldn_cds_request_duration_seconds",
            "Time to answer a request, by endpoint and CDS service.",
            ["endpoint", "service"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "ldn_cds_requests",
            "Requests answered, by endpoint, service and HTTP status.",
            ["endpoint", "service", "status"],
            registry=r,
        )
        self.cards = Counter(
            "ldn_cds_cards_emitted",
            "Cards returned to CDS clients, by card kind and indicator.",
            ["service", "kind", "indicator"],
            registry=r,
        )
        self.fhir_calls = Counter(
            "ldn_cds_fhir_fallback_calls",
            "FHIR fallback reads and searches against the client's fhirServer.",
            ["operation"],
            registry=r,
        )
        self.fhir_failures = Counter(
            "ldn_cds_fhir_fallback_failures",
            "FHIR fallback calls that gave no data, by reason.",
            ["operation", "reason"],
            registry=r,
        )
        self.fhir_seconds = Histogram(
            "ldn_cds_fhir_fallback_duration_seconds",
            "Duration of FHIR fallback calls (searches include paging).",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.auth_failures = Counter(
            "ldn_cds_auth_failures",
            "Client JWTs refused (the reason is in the log only: a label would let anyone enumerate trusted issuers and kids).",
            registry=r,
        )
        self.feedback = Counter(
            "ldn_cds_feedback",
            "Feedback items received, by card kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )

    def exposition(self) -> bytes:
        """The text exposition format; summed over workers in multiprocess mode."""
        if multiprocess_dir():
            merged = CollectorRegistry()
            # prometheus_client leaves MultiProcessCollector.__init__(registry, path=None) unannotated.
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)
