"""patient-view: naltrexone plus opioids is critical; an unreadable record never yields an LDN suggestion."""

from __future__ import annotations

import copy

from devtools.fixtures import hook_request, scenario
from tests.support.conformance import assert_conformant_response

OXYCODONE_REQUEST = {
    "resourceType": "MedicationRequest",
    "id": "test-oxycodone-active",
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {"text": "Oxycodone hydrochloride 5 mg tablet"},
    "subject": {"reference": "Patient/on-ldn-needs-opioid"},
    "authoredOn": "2026-11-20",
}


def _kinds(cards):
    return [c["source"]["topic"]["code"] for c in cards]


def test_patient_on_ldn_with_an_active_opioid_gets_one_critical_card(client):
    request = hook_request(scenario("on-ldn-patient-view"))
    request["prefetch"]["medicationRequests"]["entry"].append({"resource": copy.deepcopy(OXYCODONE_REQUEST)})
    response = client.post("/cds-services/ldn-patient-view", json=request)
    cards = assert_conformant_response(response.json())
    assert _kinds(cards) == ["opioid-exposure-on-ldn"]
    assert cards[0]["indicator"] == "critical"
    assert "Oxycodone" in cards[0]["detail"] and "oxycodone" in cards[0]["summary"]


def test_no_ldn_suggestion_when_the_medication_record_could_not_be_read(client):
    request = hook_request(scenario("refractory-fibromyalgia-patient-view"))
    del request["prefetch"]["medicationDispenses"]  # missing, and no fhirServer to read it from
    response = client.post("/cds-services/ldn-patient-view", json=request)
    assert response.status_code == 200
    assert assert_conformant_response(response.json()) == []


def test_refractory_patient_view_suggests_the_titration_order_for_this_patient(client):
    response = client.post(
        "/cds-services/ldn-patient-view", json=hook_request(scenario("refractory-fibromyalgia-patient-view"))
    )
    (card,) = assert_conformant_response(response.json())
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "create"
    assert action["resource"]["subject"]["reference"] == "Patient/no-opioids-fibromyalgia-refractory"
    assert "evidence" in card["detail"].lower() and "compounded" in card["detail"]
