"""Record assembly: prefetch + draftOrders + FHIR fallback -> PatientRecord (issue: Record assembly).

Happy paths read from the project's real FHIR server app (devtools.fhir_server) through
an in-memory ASGI transport; faults are simulated with respx.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
import respx

from app.deadline import Deadline
from app.domain.record import PatientRecord
from app.fhir.assembly import Fallback, HookData, assemble_record
from app.fhir.client import FhirClient, ReadBudget
from app.fhir.prefetch import RECORD_KEYS
from app.security.fhir_trust import FhirAccess
from devtools.fhir_server import FhirServerConfig, create_fhir_app
from devtools.fixtures import FIXTURE_TODAY, patient_resources
from tests.support.fhir import (
    FENTANYL_PATCH,
    OXYCODONE_5MG,
    concept,
    draft_order,
    full_prefetch,
    medication,
    medication_request,
    operation_outcome,
    patient,
    searchset,
)

BASE = "http://ehr.test/fhir"  # respx-mocked EHR
TOKEN = "assembly-token"
EHR = FhirAccess(base_url=BASE, access_token=TOKEN)
FIXTURE_SERVER = FhirAccess(base_url="http://fixture-fhir.test", access_token=TOKEN)  # the real app, in memory
OXY_PATIENT = "opioid-active-oxycodone"  # fixture patient with an active oxycodone prescription
RECORD_TYPES = ("MedicationRequest", "MedicationStatement", "MedicationDispense", "Condition")


def assemble(
    prefetch: Mapping[str, Any],
    *,
    patient_id: str = OXY_PATIENT,
    drafts=(),
    transport: httpx.AsyncBaseTransport | None = None,
    access: FhirAccess | None = EHR,
    deadline: float = 3.0,
    max_pages: int = 10,
    max_requests: int = 1000,
) -> PatientRecord:
    hook = HookData(
        patient_id=patient_id,
        context={"patientId": patient_id, "userId": "Practitioner/x"},
        prefetch=prefetch,
        draft_orders=list(drafts),
        selections=[f"MedicationRequest/{d['id']}" for d in drafts],
    )

    async def main() -> PatientRecord:
        async with httpx.AsyncClient(transport=transport, timeout=2.0) as http:
            client = FhirClient(http, max_pages=max_pages, max_response_bytes=5_000_000)
            budget = ReadBudget(max_requests=max_requests, max_bytes=100_000_000, max_concurrent=4)
            fallback = Fallback(client, access, Deadline.after(deadline), budget, 50) if access is not None else None
            return await assemble_record(hook, fallback)

    return asyncio.run(main())


@pytest.fixture
def fhir_config() -> FhirServerConfig:
    return FhirServerConfig(required_token=TOKEN, today=FIXTURE_TODAY)


@pytest.fixture
def fhir_transport(fhir_config) -> httpx.ASGITransport:
    """The real fixture FHIR server, in memory."""
    return httpx.ASGITransport(app=create_fhir_app(fhir_config))


def opioid_names(record: PatientRecord) -> list[str]:
    return [u.name for u in record.medications if u.drug.is_opioid]


def gap_types(record: PatientRecord) -> set[str]:
    return {g.resource_type for g in record.gaps}


# --- which keys are fetched ---------------------------------------------------------------


def test_without_prefetch_every_record_search_is_read_from_the_fhir_server_with_the_token(fhir_transport, fhir_config):
    record = assemble({}, transport=fhir_transport, access=FIXTURE_SERVER)
    assert opioid_names(record), "the active oxycodone prescription was not read"
    assert record.gaps == ()
    searched = {path.split("?")[0].strip("/").split("/")[-1] for path in fhir_config.seen_paths}
    assert set(RECORD_TYPES) <= searched
    assert set(fhir_config.seen_authorization) == {f"Bearer {TOKEN}"}


def test_searches_use_the_bare_patient_id(fhir_transport, fhir_config):
    assemble({}, transport=fhir_transport, access=FIXTURE_SERVER)
    assert all(f"patient={OXY_PATIENT}" in path for path in fhir_config.seen_paths)


def test_null_prefetch_keys_mean_no_data_and_are_not_fetched(fhir_transport, fhir_config):
    prefetch = dict.fromkeys(RECORD_KEYS)
    record = assemble(prefetch, transport=fhir_transport, access=FIXTURE_SERVER)
    assert fhir_config.seen_paths == []
    assert record.medications == () and record.gaps == ()


def test_only_the_missing_keys_are_fetched(fhir_transport, fhir_config):
    prefetch = {key: searchset([]) for key in RECORD_KEYS if key != "medicationRequests"}
    prefetch["medicationDispenses"] = None
    record = assemble(prefetch, transport=fhir_transport, access=FIXTURE_SERVER)
    assert [p.split("?")[0] for p in fhir_config.seen_paths] == ["/MedicationRequest"]
    assert opioid_names(record)


def test_a_prefetch_key_holding_an_operation_outcome_is_fetched_again(fhir_transport, fhir_config):
    prefetch = {key: searchset([]) for key in RECORD_KEYS}
    prefetch["medicationRequests"] = operation_outcome("timeout in the EHR")
    record = assemble(prefetch, transport=fhir_transport, access=FIXTURE_SERVER)
    assert [p.split("?")[0] for p in fhir_config.seen_paths] == ["/MedicationRequest"]
    assert opioid_names(record)


def test_a_complete_prefetch_needs_no_fhir_server_at_all():
    record = assemble(full_prefetch([medication_request(OXYCODONE_5MG)], patient_id="p"), patient_id="p", access=None)
    assert opioid_names(record) and record.gaps == ()


def test_without_prefetch_or_fhir_server_every_record_part_is_a_gap():
    record = assemble({}, access=None)
    assert set(RECORD_TYPES) <= gap_types(record)


def test_searches_follow_next_links_across_pages(fhir_config):
    fhir_config.page_size = 1
    transport = httpx.ASGITransport(app=create_fhir_app(fhir_config))
    record = assemble({}, transport=transport, access=FIXTURE_SERVER)
    on_file = [r for r in patient_resources(OXY_PATIENT) if r["resourceType"] == "MedicationRequest"]
    assert len(on_file) > 1, "the fixture patient needs several prescriptions for this test"
    pages = [p for p in fhir_config.seen_paths if p.startswith("/MedicationRequest")]
    assert len(pages) == len(on_file), "one page per prescription, every next link followed"
    # The opioid sits on one of the pages; unrelated drugs are read but not kept in the record.
    assert {u.resource_id for u in record.medications if u.source.value == "MedicationRequest"} == {
        r["id"] for r in on_file if "oxycodone" in r["medicationCodeableConcept"]["text"].lower()
    }
    assert record.gaps == ()


def test_a_search_cut_off_by_the_page_cap_is_reported_as_incomplete(fhir_config):
    fhir_config.page_size = 1
    transport = httpx.ASGITransport(app=create_fhir_app(fhir_config))
    record = assemble({}, transport=transport, access=FIXTURE_SERVER, max_pages=1)
    assert "MedicationRequest" in gap_types(record)


# --- medicationReference -------------------------------------------------------------------


def test_a_medication_reference_is_resolved_from_the_bundle_entries():
    prefetch = full_prefetch(
        [medication_request("Medication/patch"), medication(FENTANYL_PATCH, id="patch")], patient_id="p"
    )
    record = assemble(prefetch, patient_id="p", access=None)
    assert opioid_names(record) and record.gaps == ()


def test_a_medication_reference_is_resolved_from_contained_resources():
    request = medication_request("#m", contained=[medication(OXYCODONE_5MG, id="m")])
    record = assemble(full_prefetch([request], patient_id="p"), patient_id="p", access=None)
    assert opioid_names(record)


def test_a_medication_reference_outside_the_prefetch_is_read_from_the_fhir_server(fhir_transport, fhir_config):
    # The fixture FHIR server holds Medication/fen-med-fentanyl-25 (a 72-hour fentanyl patch).
    prefetch = full_prefetch([medication_request("Medication/fen-med-fentanyl-25")], patient_id="p")
    record = assemble(prefetch, patient_id="p", transport=fhir_transport, access=FIXTURE_SERVER)
    assert fhir_config.seen_paths == ["/Medication?_id=fen-med-fentanyl-25&_count=1"]
    assert opioid_names(record)
    assert record.gaps == ()


def test_a_draft_orders_medication_reference_is_read_from_the_fhir_server(fhir_transport, fhir_config):
    # A draft LDN order pointing at a Medication the EHR keeps (fixture: Medication/ldn-med-ldn-4-5mg).
    draft = draft_order("Medication/ldn-med-ldn-4-5mg", patient_id="p")
    record = assemble(
        full_prefetch([], patient_id="p"),
        patient_id="p",
        drafts=[draft],
        transport=fhir_transport,
        access=FIXTURE_SERVER,
    )
    (order,) = record.selected_orders
    assert order.drug.naltrexone is not None


def test_a_draft_orders_medication_reference_is_resolved_from_the_draft_bundle():
    draft = draft_order("Medication/ldn", patient_id="p")
    ldn = medication(concept("Naltrexone 4.5 mg capsule (compounded)"), id="ldn")
    record = assemble(full_prefetch([], patient_id="p"), patient_id="p", drafts=[draft, ldn], access=None)
    (order,) = record.selected_orders
    assert order.drug.naltrexone is not None


# --- faults (respx) ----------------------------------------------------------------------------

SEARCH_FAULTS = {
    "timeout": httpx.ReadTimeout("slow"),
    "connection refused": httpx.ConnectError("refused"),
    "500": httpx.Response(500),
    "garbage": httpx.Response(200, content=b"not json at all"),
    "OperationOutcome": httpx.Response(200, json=operation_outcome()),
}


def mock_searches(router: respx.MockRouter, failing: str, fault) -> None:
    for resource_type in RECORD_TYPES:
        route = router.get(f"{BASE}/{resource_type}")
        if resource_type != failing:
            route.mock(
                return_value=httpx.Response(
                    200,
                    json=searchset([medication_request(OXYCODONE_5MG)] if resource_type == "MedicationRequest" else []),
                )
            )
        elif isinstance(fault, Exception) or callable(fault):
            route.mock(side_effect=fault)
        else:
            route.mock(return_value=fault)


@pytest.mark.parametrize("fault", SEARCH_FAULTS.values(), ids=list(SEARCH_FAULTS))
def test_a_failing_search_becomes_a_gap_and_the_other_searches_still_count(fault):
    with respx.mock(assert_all_called=False) as router:
        mock_searches(router, "MedicationDispense", fault)
        record = assemble({})
    assert "MedicationDispense" in gap_types(record)
    assert opioid_names(record)


def test_a_search_that_outlives_the_deadline_becomes_a_gap_without_waiting_for_it():
    async def hang(request):
        await asyncio.sleep(10)
        return httpx.Response(200, json=searchset([]))

    with respx.mock(assert_all_called=False) as router:
        mock_searches(router, "MedicationStatement", hang)
        started = time.monotonic()
        record = assemble({}, deadline=0.3)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert "MedicationStatement" in gap_types(record)
    assert opioid_names(record)


def test_the_searches_run_concurrently():
    running = {"now": 0, "peak": 0}

    async def slow(request):
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
        await asyncio.sleep(0.2)
        running["now"] -= 1
        return httpx.Response(200, json=searchset([]))

    with respx.mock(assert_all_called=False) as router:
        for resource_type in RECORD_TYPES:
            router.get(f"{BASE}/{resource_type}").mock(side_effect=slow)
        assemble({})
    assert running["peak"] == len(RECORD_TYPES)


def test_a_medication_that_cannot_be_read_is_a_gap():
    prefetch = full_prefetch([medication_request("Medication/gone")], patient_id="p")
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE}/Medication").mock(return_value=httpx.Response(200, json=searchset([])))
        record = assemble(prefetch, patient_id="p")
    assert "Medication" in gap_types(record)


def test_a_medication_that_cannot_be_read_id_by_id_either_is_a_gap():
    """A server that refuses `_id` searches is asked id by id; a 404 there is a gap too."""
    prefetch = full_prefetch([medication_request("Medication/gone")], patient_id="p")
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE}/Medication").mock(return_value=httpx.Response(400, json=operation_outcome("no _id search")))
        single = router.get(f"{BASE}/Medication/gone").mock(
            return_value=httpx.Response(404, json=operation_outcome("not found"))
        )
        record = assemble(prefetch, patient_id="p")
    assert single.called
    assert "Medication" in gap_types(record)


def test_prefetch_entries_that_are_operation_outcomes_are_ignored():
    bundle = searchset([medication_request(OXYCODONE_5MG)])
    bundle["entry"].append({"resource": operation_outcome("partial"), "search": {"mode": "outcome"}})
    prefetch = {**full_prefetch([], patient_id="p"), "medicationRequests": bundle, "patient": patient("p")}
    record = assemble(prefetch, patient_id="p", access=None)
    assert len(record.medications) == 1
