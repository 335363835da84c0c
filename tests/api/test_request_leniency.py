"""Lenient requests (issue: Protocol and Record assembly): what real clients send must work."""

from __future__ import annotations

import copy

import pytest

from devtools.fixtures import hook_request, scenario
from tests.support.cards import cards_for, conflict_cards
from tests.support.fhir import (
    LDN_TEXT_ONLY,
    OXYCODONE_5MG,
    RXNORM_OID,
    concept,
    draft_order,
    full_prefetch,
    hook_body,
    medication_request,
)

ON_OXYCODONE = [medication_request(OXYCODONE_5MG, authored_on="2026-11-10")]


def conflict_request(**changes) -> dict:
    return hook_body(
        "order-select", [draft_order(LDN_TEXT_ONLY, id="ldn")], prefetch=full_prefetch(ON_OXYCODONE), **changes
    )


def test_the_baseline_request_gives_the_conflict(api):
    assert conflict_cards(cards_for(api, conflict_request()))


def test_unknown_fields_anywhere_in_the_request_are_ignored(api):
    request = conflict_request()
    request["extension"] = {"org.example.trace": {"id": "abc"}}
    request["somethingNew"] = [1, 2, 3]
    request["context"]["encounterId"] = "enc-1"
    request["context"]["vendorFlag"] = {"x": True}
    request["prefetch"]["vendorExtraKey"] = {"resourceType": "Bundle", "entry": []}
    request["fhirAuthorization"] = {
        "access_token": "t",
        "token_type": "Bearer",
        "expires_in": 30,
        "scope": "x",
        "subject": "s",
        "newField": 1,
    }
    assert conflict_cards(cards_for(api, request))


def test_a_draft_orders_bundle_without_type_is_accepted(api):
    request = conflict_request()
    request["context"]["draftOrders"].pop("type")
    assert conflict_cards(cards_for(api, request))


def test_category_given_as_a_single_object_instead_of_a_list_is_accepted(api):
    category = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "outpatient"}]
    }
    history = [medication_request(OXYCODONE_5MG, authored_on="2026-11-10", category=category)]
    request = hook_body(
        "order-select", [draft_order(LDN_TEXT_ONLY, category=category)], prefetch=full_prefetch(history)
    )
    assert conflict_cards(cards_for(api, request))


@pytest.mark.parametrize("patient_id", ["Patient/test-patient", " test-patient "], ids=["reference form", "padded"])
def test_a_patient_id_written_as_a_reference_is_accepted(api, patient_id):
    request = conflict_request()
    request["context"]["patientId"] = patient_id
    assert conflict_cards(cards_for(api, request))


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_a_first_call_whose_draft_has_no_medication_yet_is_a_quiet_200(api, hook):
    bare = {
        "resourceType": "MedicationRequest",
        "id": "typing",
        "status": "draft",
        "subject": {"reference": "Patient/test-patient"},
    }
    request = hook_body(hook, [bare], prefetch=full_prefetch(ON_OXYCODONE))
    assert conflict_cards(cards_for(api, request)) == []


def test_a_draft_with_only_an_id_is_a_quiet_200(api):
    request = hook_body(
        "order-select", [{"resourceType": "MedicationRequest", "id": "x"}], prefetch=full_prefetch(ON_OXYCODONE)
    )
    assert conflict_cards(cards_for(api, request)) == []


def test_an_empty_draft_orders_bundle_is_a_quiet_200(api):
    request = hook_body("order-sign", [], prefetch=full_prefetch(ON_OXYCODONE))
    assert conflict_cards(cards_for(api, request)) == []


def test_rxnorm_written_as_its_oid_in_the_draft_is_recognised(api):
    ldn = draft_order(concept(code="7243", system=RXNORM_OID, display="naltrexone"))
    request = hook_body("order-select", [ldn], prefetch=full_prefetch(ON_OXYCODONE))
    assert conflict_cards(cards_for(api, request))


def test_an_order_sign_call_has_no_selections_and_checks_every_draft(api):
    request = hook_body(
        "order-sign",
        [draft_order(concept("Lisinopril 10 mg")), draft_order(LDN_TEXT_ONLY)],
        prefetch=full_prefetch(ON_OXYCODONE),
    )
    assert "selections" not in request["context"]
    assert conflict_cards(cards_for(api, request))


def test_draft_orders_may_mix_in_non_medication_requests(api):
    request = conflict_request()
    request["context"]["draftOrders"]["entry"].append(
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "lab-1",
                "status": "draft",
                "code": {"text": "Liver function tests"},
            }
        }
    )
    assert conflict_cards(cards_for(api, request))


def test_a_fixture_request_survives_a_json_round_trip_unchanged_in_meaning(api):
    request = hook_request(scenario("codeine-statement-ldn-select"))
    assert conflict_cards(cards_for(api, copy.deepcopy(request)))


def test_a_revised_naltrexone_order_being_re_signed_is_checked_even_if_not_a_draft(api):
    # order-sign may carry revised orders whose status is no longer "draft".
    revised = draft_order(LDN_TEXT_ONLY)
    revised["status"] = "active"
    request = hook_body("order-sign", [revised], prefetch=full_prefetch(ON_OXYCODONE))
    assert conflict_cards(cards_for(api, request))
