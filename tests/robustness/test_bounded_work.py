"""Bounded work per hook call (issue 11): references deduplicated and read in batches, a cap on
requests and on bytes per call, a few requests at a time, and what is left unread named.

A long medication history by reference (``bench.references``: N MedicationRequests, each
pointing at a different Medication that only the FHIR server holds) against the project's
FHIR server on loopback, which records every request and how many were in flight.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date

import pytest

from app.settings import Settings
from bench import references
from devtools.fhir_server import FhirServerConfig, FixtureStore
from devtools.fixtures import FIXTURE_TODAY
from tests.support.fhir_server import FhirServer, fhir_server_running
from tests.support.loopback import HostileFhirServer
from tests.support.robustness import (
    UNCHECKED_PREFIX,
    base_request,
    judge,
    post,
    robust_settings,
    service_client,
    summaries,
)

SELECT = "ldn-order-select"
MEDICATIONS = 3000
BATCH = re.compile(r"^/Medication\?_id=([A-Za-z0-9.,-]+)&_count=(\d+)$")


@pytest.fixture(scope="module")
def store() -> FixtureStore:
    return FixtureStore(FIXTURE_TODAY, extra={references.PATIENT_ID: references.patient_resources(MEDICATIONS)})


@pytest.fixture
def fhir(store: FixtureStore) -> Iterator[FhirServer]:
    with fhir_server_running(FhirServerConfig(delay_seconds=0.02, today=FIXTURE_TODAY), store) as server:
        yield server


def service_for(tmp_path, **settings):
    return service_client(robust_settings(tmp_path, fhir_deadline_seconds=10.0, **settings))


def requested_ids(fhir: FhirServer) -> list[str]:
    ids = []
    for path in fhir.config.seen_paths:
        match = BATCH.match(path)
        assert match, f"not a Medication batch read: {path}"
        batch = match.group(1).split(",")
        assert len(batch) == int(match.group(2)) <= 50
        ids.extend(batch)
    return ids


def test_three_thousand_references_are_read_in_batches_a_few_at_a_time(tmp_path, fhir: FhirServer) -> None:
    """It used to be 3,000 single reads started at once (227 s). Now: 60 searches of 50 ids,
    at most CDS_FHIR_MAX_CONCURRENT_REQUESTS_PER_CALL (5) in flight, every Medication read once,
    and nothing left unchecked."""
    body = references.hook_request(MEDICATIONS, fhir.base_url, date(2026, 11, 26))
    with service_for(tmp_path) as service:
        started = time.monotonic()
        response = post(service, SELECT, body)
        elapsed = time.monotonic() - started
    cards = judge(response)
    ids = requested_ids(fhir)
    assert len(fhir.config.seen_paths) == MEDICATIONS // 50
    assert sorted(ids) == sorted(references.medication_id(n) for n in range(MEDICATIONS))  # each once
    assert fhir.config.peak_in_flight <= Settings().fhir_max_concurrent_requests_per_call == 5
    assert not [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)
    assert elapsed < 10.0


def test_past_the_request_cap_the_rest_is_not_read_and_the_card_says_so(tmp_path, fhir: FhirServer) -> None:
    body = references.hook_request(MEDICATIONS, fhir.base_url, date(2026, 11, 26))
    with service_for(tmp_path, fhir_max_requests_per_call=10) as service:
        cards = judge(post(service, SELECT, body))
    assert len(fhir.config.seen_paths) == 10
    assert [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)


def test_a_reference_repeated_in_every_form_is_read_once(tmp_path, fhir: FhirServer) -> None:
    body = references.hook_request(900, fhir.base_url, date(2026, 11, 26))
    forms = ["Medication/{}", fhir.base_url + "/Medication/{}", fhir.base_url + "/Medication/{}/"]
    for n, entry in enumerate(body["prefetch"]["medicationRequests"]["entry"]):
        entry["resource"]["medicationReference"]["reference"] = forms[n % 3].format(references.medication_id(n % 3))
    with service_for(tmp_path) as service:
        judge(post(service, SELECT, body))
    assert sorted(requested_ids(fhir)) == [references.medication_id(n) for n in range(3)]
    assert len(fhir.config.seen_paths) == 1


def test_draft_orders_by_reference_are_batched_too(tmp_path, fhir: FhirServer) -> None:
    body = references.hook_request(0, fhir.base_url, date(2026, 11, 26))
    drafts = body["context"]["draftOrders"]["entry"]
    template = drafts[0]["resource"]
    for n in range(200):
        drafts.append(
            {
                "resource": {
                    **template,
                    "id": f"draft-{n}",
                    "medicationReference": {"reference": f"Medication/{references.medication_id(n)}"},
                }
            }
        )
    with service_for(tmp_path) as service:
        judge(post(service, SELECT, body))
    assert len(requested_ids(fhir)) == 200 and len(fhir.config.seen_paths) == 4


# ------------------------------------------------------------------ bytes


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileFhirServer]:
    with HostileFhirServer() as server:
        yield server


def test_pages_stop_at_the_calls_byte_budget_and_what_was_not_read_is_named(
    tmp_path, hostile: HostileFhirServer
) -> None:
    """Every page is a valid 1 MiB searchset linking to another. With a 3 MiB budget for the
    call, the four searches together read about three pages, not 4 x 10."""
    body = base_request(with_prefetch=False, fhir_server=hostile.url("fat-pages"), access_token="t")
    with service_for(
        tmp_path, fhir_max_bytes_per_call=3 * 1024 * 1024, fhir_max_response_bytes=2 * 1024 * 1024
    ) as service:
        before = len(hostile.requests_for("fat-pages"))
        cards = judge(post(service, SELECT, body))
    pages = len(hostile.requests_for("fat-pages")) - before
    assert pages <= 3 + 4, f"{pages} pages of 1 MiB read for one call"  # in flight when the budget ran out
    assert [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)
