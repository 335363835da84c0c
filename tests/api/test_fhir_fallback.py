"""FHIR fallback through the HTTP API against a real FHIR server on loopback (issue: Record assembly).

The fixture FHIR server (devtools.fhir_server) runs in a thread, requires a bearer
token and records the Authorization headers and paths it was asked for.
"""

from __future__ import annotations

import time
from datetime import timedelta

from starlette.responses import JSONResponse

from app.fhir.prefetch import PREFETCH_TEMPLATES
from devtools.fhir_server import FhirServerConfig, FixtureStore, create_fhir_app
from devtools.fixtures import FIXTURE_TODAY, hook_request, patient_resources, scenario
from tests.support.cards import cards_for, conflict_cards, not_checked_cards, reverse_cards
from tests.support.fhir import (
    LDN_TEXT_ONLY,
    LISINOPRIL,
    OXYCODONE_5MG,
    draft_order,
    hook_body,
    medication_request,
    operation_outcome,
    patient,
)
from tests.support.fhir_server import FHIR_TOKEN, fhir_server_running
from tests.support.servers import closed_port_url, serve_in_thread, silent_tcp_server

OXY = scenario("oxycodone-active-ldn-select")  # active oxycodone prescription; LDN ordered
RECORD_TYPES = {"MedicationRequest", "MedicationStatement", "MedicationDispense"}


def fallback_request(server_url: str, *, token: str | None = FHIR_TOKEN, which=OXY, **kwargs) -> dict:
    return hook_request(which, with_prefetch=False, fhir_server=server_url, access_token=token, **kwargs)


# --- the happy path ---------------------------------------------------------------------------


def test_without_prefetch_the_record_is_read_from_the_fhir_server_and_the_conflict_found(api, fhir_server):
    cards = cards_for(api, fallback_request(fhir_server.base_url))
    (card,) = conflict_cards(cards)
    assert card["indicator"] == "critical" and "oxycodone" in card["summary"].lower()
    assert set(fhir_server.searched_types) >= RECORD_TYPES


def test_every_fhir_request_carries_the_bearer_token(api, fhir_server):
    cards_for(api, fallback_request(fhir_server.base_url))
    assert fhir_server.config.seen_authorization
    assert set(fhir_server.config.seen_authorization) == {f"Bearer {FHIR_TOKEN}"}


def test_a_patient_id_given_as_a_reference_is_searched_as_the_bare_id(api, fhir_server):
    request = fallback_request(fhir_server.base_url)
    request["context"]["patientId"] = "Patient/" + request["context"]["patientId"]
    assert conflict_cards(cards_for(api, request))
    searches = [p for p in fhir_server.config.seen_paths if "?" in p]
    assert searches and all("patient=opioid-active-oxycodone" in p for p in searches), searches


def test_a_wrong_token_gives_a_could_not_check_card_not_an_all_clear(api, fhir_server):
    cards = cards_for(api, fallback_request(fhir_server.base_url, token="stolen-or-expired"))
    assert not_checked_cards(cards), cards
    assert conflict_cards(cards) == []


def test_no_token_gives_a_could_not_check_card(api, fhir_server):
    cards = cards_for(api, fallback_request(fhir_server.base_url, token=None))
    assert not_checked_cards(cards), cards
    assert set(fhir_server.config.seen_authorization) == {None}


def test_the_token_is_withheld_when_it_was_issued_for_another_patient(api, fhir_server):
    request = fallback_request(fhir_server.base_url)
    request["fhirAuthorization"]["patient"] = "someone-else"
    cards = cards_for(api, request)
    assert f"Bearer {FHIR_TOKEN}" not in fhir_server.config.seen_authorization
    assert not_checked_cards(cards)


def test_the_token_is_used_when_its_patient_is_written_as_a_reference(api, fhir_server):
    request = fallback_request(fhir_server.base_url)
    request["fhirAuthorization"]["patient"] = "Patient/opioid-active-oxycodone"
    assert conflict_cards(cards_for(api, request))


# --- which keys are fetched ------------------------------------------------------------------


def test_null_prefetch_keys_are_not_fetched(api, fhir_server):
    request = fallback_request(fhir_server.base_url, which=scenario("refractory-fibromyalgia-ldn-select"))
    request["prefetch"] = dict.fromkeys(PREFETCH_TEMPLATES)
    cards = cards_for(api, request)
    assert fhir_server.searched_types == []
    assert not_checked_cards(cards) == []


def test_an_operation_outcome_in_a_prefetch_key_is_fetched_from_the_fhir_server(api, fhir_server):
    full = hook_request(OXY)["prefetch"]
    request = fallback_request(fhir_server.base_url)
    request["prefetch"] = {**full, "medicationRequests": operation_outcome("EHR search timed out")}
    assert conflict_cards(cards_for(api, request))
    assert fhir_server.searched_types == ["MedicationRequest"]


def test_a_complete_prefetch_is_not_fetched_again(api, fhir_server):
    request = hook_request(OXY, fhir_server=fhir_server.base_url, access_token=FHIR_TOKEN)
    assert conflict_cards(cards_for(api, request))
    assert fhir_server.searched_types == []


def test_a_referenced_medication_arrives_with_the_search_in_one_round_trip(api, fhir_server):
    request = fallback_request(fhir_server.base_url, which=scenario("fentanyl-patch-ended-12d-ldn-select"))
    assert conflict_cards(cards_for(api, request))
    searches = [p for p in fhir_server.config.seen_paths if p.startswith("/MedicationRequest?")]
    assert searches and all(
        "_include=MedicationRequest%3Amedication" in p or "_include=MedicationRequest:medication" in p for p in searches
    )
    assert "/Medication/fen-med-fentanyl-25" not in fhir_server.config.seen_paths, "no second round trip"


def test_a_server_that_refuses_include_is_asked_again_without_it(api):
    inner = create_fhir_app(FhirServerConfig())

    async def refuse_include(scope, receive, send):
        if scope["type"] == "http" and b"_include" in scope.get("query_string", b""):
            await JSONResponse({"resourceType": "OperationOutcome", "issue": []}, status_code=400)(scope, receive, send)
        else:
            await inner(scope, receive, send)

    with serve_in_thread(refuse_include) as server:
        request = fallback_request(server.base_url, which=scenario("fentanyl-patch-ended-12d-ldn-select"))
        assert conflict_cards(cards_for(api, request))


def test_a_draft_orders_medication_reference_is_read_from_the_fhir_server(api, fhir_server):
    # The EHR keeps the compounded LDN as Medication/ldn-med-ldn-4-5mg; the draft only points at it.
    request = fallback_request(fhir_server.base_url)
    draft = draft_order("Medication/ldn-med-ldn-4-5mg", patient_id="opioid-active-oxycodone", id="ldn-by-ref")
    request["context"]["draftOrders"]["entry"] = [{"resource": draft}]
    request["context"]["selections"] = ["MedicationRequest/ldn-by-ref"]
    assert conflict_cards(cards_for(api, request))


# --- faults ---------------------------------------------------------------------------------------


def test_an_unreachable_fhir_server_gives_a_could_not_check_card(api):
    cards = cards_for(api, fallback_request(closed_port_url()))
    assert not_checked_cards(cards), cards
    assert conflict_cards(cards) == []


def test_an_unreachable_fhir_server_does_not_hide_an_opioid_in_the_same_draft_orders(api):
    request = fallback_request(closed_port_url())
    request["context"]["draftOrders"]["entry"].append(
        {"resource": draft_order(OXYCODONE_5MG, patient_id="opioid-active-oxycodone")}
    )
    request["context"]["selections"] = [
        f"MedicationRequest/{e['resource']['id']}" for e in request["context"]["draftOrders"]["entry"]
    ]
    assert conflict_cards(cards_for(api, request))


def test_a_hung_fhir_server_is_abandoned_at_the_read_timeout(make_client):
    # The default read timeout (2.5 s) would not pass this test: the setting must be applied.
    client = make_client(fhir_read_timeout_seconds=0.3, fhir_deadline_seconds=10)
    with silent_tcp_server() as url:
        started = time.monotonic()
        cards = cards_for(client, fallback_request(url))
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert not_checked_cards(cards)


def test_a_slow_fhir_server_is_abandoned_at_the_overall_deadline(make_client):
    # The default deadline (3 s) would not pass this test: the setting must be applied.
    client = make_client(fhir_deadline_seconds=0.4, fhir_read_timeout_seconds=10)
    with fhir_server_running(FhirServerConfig(required_token=FHIR_TOKEN, delay_seconds=3, today=FIXTURE_TODAY)) as slow:
        started = time.monotonic()
        cards = cards_for(client, fallback_request(slow.base_url))
        elapsed = time.monotonic() - started
    assert elapsed < 2
    assert not_checked_cards(cards)


def test_the_fhir_searches_run_concurrently_within_the_deadline(make_client):
    # Each request takes 0.5 s; one after another they would take at least 2 s.
    client = make_client(fhir_deadline_seconds=1.6)
    with fhir_server_running(
        FhirServerConfig(required_token=FHIR_TOKEN, delay_seconds=0.5, today=FIXTURE_TODAY)
    ) as slow:
        cards = cards_for(client, fallback_request(slow.base_url))
    assert conflict_cards(cards)
    assert not_checked_cards(cards) == []


# --- paging -----------------------------------------------------------------------------------------


def busy_patient(opioid_last: int = 6) -> list[dict]:
    """A patient whose active oxycodone prescription comes after several other prescriptions."""
    others = [
        medication_request(LISINOPRIL, authored_on="2026-01-01", patient_id="busy", id=f"busy-acei-{i}")
        for i in range(opioid_last)
    ]
    opioid = medication_request(
        OXYCODONE_5MG, authored_on=FIXTURE_TODAY - timedelta(days=3), patient_id="busy", id="busy-oxy"
    )
    return [patient("busy"), *others, opioid]


def busy_request(server_url: str) -> dict:
    return hook_body(
        "order-select",
        [draft_order(LDN_TEXT_ONLY, patient_id="busy")],
        patient_id="busy",
        fhir_server=server_url,
        access_token=FHIR_TOKEN,
    )


def test_search_results_are_followed_across_pages(make_client):
    config = FhirServerConfig(required_token=FHIR_TOKEN, page_size=2, today=FIXTURE_TODAY)
    store = FixtureStore(FIXTURE_TODAY, extra={"busy": busy_patient()})
    with fhir_server_running(config, store) as server:
        cards = cards_for(make_client(), busy_request(server.base_url))
    assert conflict_cards(cards)
    assert sum(p.startswith("/MedicationRequest?") for p in config.seen_paths) == 4


def test_a_search_cut_off_by_the_page_cap_is_said_to_be_unchecked(make_client):
    config = FhirServerConfig(required_token=FHIR_TOKEN, page_size=2, today=FIXTURE_TODAY)
    store = FixtureStore(FIXTURE_TODAY, extra={"busy": busy_patient()})
    with fhir_server_running(config, store) as server:
        cards = cards_for(make_client(fhir_max_pages=2), busy_request(server.base_url))
    assert conflict_cards(cards) == []
    assert not_checked_cards(cards)
    assert sum(p.startswith("/MedicationRequest?") for p in config.seen_paths) == 2


# --- the reverse conflict via fallback ------------------------------------------------------------


def test_the_reverse_conflict_is_found_from_the_fhir_server_too(api, fhir_server):
    request = fallback_request(fhir_server.base_url, which=scenario("on-ldn-oxycodone-sign"))
    assert reverse_cards(cards_for(api, request))


def test_the_fixture_server_really_holds_the_patients_the_tests_rely_on():
    ids = {r["id"] for r in patient_resources("opioid-active-oxycodone")}
    assert "oxa-mr-oxycodone-5mg" in ids
