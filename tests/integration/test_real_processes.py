"""End to end: the real service process (``ldn-cds serve``) reading from a real FHIR server
process over loopback HTTP with a bearer token, on today's date."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from devtools.fixtures import hook_request, scenario
from tests.support.cards import (
    SERVICE_FOR_HOOK,
    call_service,
    cards_for,
    conflict_cards,
    not_checked_cards,
    reverse_cards,
)
from tests.support.conformance import error_message
from tests.support.fhir_server import FHIR_TOKEN
from tests.support.scenarios import check_scenario_cards
from tests.support.servers import closed_port_url

OXY = scenario("oxycodone-active-ldn-select")


def fallback_request(fhir_url: str, token: str | None, which=OXY) -> dict:
    return hook_request(which, with_prefetch=False, fhir_server=fhir_url, access_token=token, today=date.today())


# --- the FHIR server really checks the token ---------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {FHIR_TOKEN}"], ids=["none", "wrong", "not bearer"]
)
def test_the_fhir_server_rejects_requests_without_the_right_bearer_token(fhir_process, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(
        f"{fhir_process.base_url}/MedicationRequest", params={"patient": "opioid-active-oxycodone"}, headers=headers
    )
    assert response.status_code == 401


def test_the_fhir_server_answers_with_the_right_bearer_token(fhir_process):
    response = httpx.get(
        f"{fhir_process.base_url}/MedicationRequest",
        params={"patient": "opioid-active-oxycodone"},
        headers={"Authorization": f"Bearer {FHIR_TOKEN}"},
    )
    assert response.status_code == 200 and response.json()["entry"]


# --- the fallback path through the real service --------------------------------------------------


def test_discovery_over_http_lists_the_three_services(service):
    response = service.get("/cds-services")
    assert response.status_code == 200
    assert {s["id"] for s in response.json()["services"]} == {"ldn-order-select", "ldn-order-sign", "ldn-patient-view"}


def test_without_prefetch_the_service_reads_the_fhir_server_with_the_token_and_finds_the_conflict(
    service, fhir_process
):
    cards = cards_for(service, fallback_request(fhir_process.base_url, FHIR_TOKEN))
    (card,) = conflict_cards(cards)
    assert card["indicator"] == "critical" and "oxycodone" in card["summary"].lower()
    assert not_checked_cards(cards) == []


def test_a_wrong_token_gives_a_could_not_check_card_not_a_false_all_clear(service, fhir_process):
    cards = cards_for(service, fallback_request(fhir_process.base_url, "wrong-token"))
    assert not_checked_cards(cards), [c["summary"] for c in cards]
    assert conflict_cards(cards) == []


def test_a_missing_token_gives_a_could_not_check_card(service, fhir_process):
    cards = cards_for(service, fallback_request(fhir_process.base_url, None))
    assert not_checked_cards(cards), [c["summary"] for c in cards]


def test_an_unreachable_fhir_server_gives_a_could_not_check_card(service):
    cards = cards_for(service, fallback_request(closed_port_url(), FHIR_TOKEN))
    assert not_checked_cards(cards), [c["summary"] for c in cards]


def test_the_reverse_conflict_end_to_end(service, fhir_process):
    cards = cards_for(service, fallback_request(fhir_process.base_url, FHIR_TOKEN, scenario("on-ldn-oxycodone-sign")))
    assert reverse_cards(cards)


# --- a sample of the scenario table through the real process -------------------------------------

PREFETCH_SAMPLE = [
    "oxycodone-active-naltrexone-50-sign",
    "tramadol-recent-dispense-ldn-select",
    "fentanyl-patch-ended-12d-ldn-select",
    "stopped-opioid-ldn-select",
    "on-ldn-morphine-naltrexone-select",
    "refuted-ldn-select",
]
FALLBACK_SAMPLE = [
    "methadone-ldn-select",
    "buprenorphine-naloxone-ldn-contained-select",
    "aud-naltrexone-50-select",
    "on-ldn-naloxone-select",
]


@pytest.mark.parametrize("name", PREFETCH_SAMPLE)
def test_scenario_with_prefetch_through_the_real_service(service, name):
    which = scenario(name)
    request = hook_request(which, today=date.today())
    check_scenario_cards(which, request, cards_for(service, request, SERVICE_FOR_HOOK[which.hook]))


@pytest.mark.parametrize("name", FALLBACK_SAMPLE)
def test_scenario_read_from_the_real_fhir_server(service, fhir_process, name):
    which = scenario(name)
    request = fallback_request(fhir_process.base_url, FHIR_TOKEN, which)
    check_scenario_cards(which, request, cards_for(service, request, SERVICE_FOR_HOOK[which.hook]))


# --- protocol errors over real HTTP ----------------------------------------------------------------


def test_malformed_json_over_http_is_a_400_json_error(service):
    status, body = call_service(service, "ldn-order-select", None, raw=b'{"hook": ')
    assert status == 400 and "json" in error_message(body).lower()


def test_no_prefetch_and_no_fhir_server_over_http_is_412(service):
    request = hook_request(OXY, with_prefetch=False, today=date.today())
    status, body = call_service(service, "ldn-order-select", request)
    assert status == 412 and error_message(body)
