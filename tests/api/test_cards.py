"""What the cards say and offer (issue: Cards), through the HTTP API with prefetch."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario
from tests.support.cards import (
    call_service,
    card_text,
    cards_for,
    conflict_cards,
    not_checked_cards,
    reverse_cards,
)
from tests.support.fhir import (
    FENTANYL_PATCH,
    LDN_TEXT_ONLY,
    LISINOPRIL,
    METHADONE_LIQUID,
    NALTREXONE_50MG,
    OXYCODONE_5MG,
    TRAMADOL_50MG,
    concept,
    draft_order,
    full_prefetch,
    hook_body,
    medication,
    medication_dispense,
    medication_request,
    medication_statement,
    searchset,
)

TODAY = FIXTURE_TODAY


def line_mentioning(text: str, word: str) -> str:
    lines = [line for line in text.splitlines() if word.lower() in line.lower()]
    assert lines, f"{word!r} is not named in:\n{text}"
    return lines[0]


# --- the critical opioid-conflict card --------------------------------------------------------


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_naltrexone_for_a_patient_on_an_opioid_gets_one_critical_card_naming_the_opioid(api, hook):
    history = [medication_request(OXYCODONE_5MG, authored_on="2026-11-10")]
    cards = cards_for(api, hook_body(hook, [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch(history)))
    (card,) = conflict_cards(cards)
    assert card["indicator"] == "critical"
    assert "oxycodone" in card["summary"].lower()


def test_the_conflict_card_names_each_opioid_with_its_status_and_date(api):
    history = [
        medication_request(OXYCODONE_5MG, authored_on="2026-11-10"),
        medication_request(concept("hydromorphone 2 mg tablet"), status="on-hold", authored_on="2026-10-02"),
        medication_statement(TRAMADOL_50MG, start="2026-11-01"),
        medication_dispense(METHADONE_LIQUID, handed_over="2026-11-23", days_supply=1),
        medication_request(LISINOPRIL, authored_on="2026-05-04"),
    ]
    (card,) = conflict_cards(
        cards_for(api, hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch(history)))
    )
    detail = card["detail"]

    oxycodone = line_mentioning(detail, "oxycodone")
    assert "2026-11-10" in oxycodone and "active" in oxycodone.lower()
    hydromorphone = line_mentioning(detail, "hydromorphone")
    assert "2026-10-02" in hydromorphone and "hold" in hydromorphone.lower()
    tramadol = line_mentioning(detail, "tramadol")
    assert "2026-11-01" in tramadol and re.search(r"active|current|tak(ing|en)|report", tramadol, re.I)
    methadone = line_mentioning(detail, "methadone")
    assert re.search(r"2026-11-2[34]", methadone) and "dispens" in methadone.lower()
    assert "lisinopril" not in detail.lower()


def test_the_conflict_card_says_why_withdrawal_and_blocked_pain_relief(api):
    request = hook_request(scenario("oxycodone-active-ldn-select"))
    (card,) = conflict_cards(cards_for(api, request))
    text = card_text(card).lower()
    assert "withdrawal" in text
    assert "analgesia" in text or "pain relief" in text


def test_the_conflict_card_links_its_source(api):
    (card,) = conflict_cards(cards_for(api, hook_request(scenario("oxycodone-active-ldn-select"))))
    assert card["source"]["url"].startswith("https://")


def test_the_conflict_card_suggests_deleting_the_naltrexone_draft(api):
    ldn = draft_order(LDN_TEXT_ONLY, id="ldn-draft-42")
    oxycodone = draft_order(OXYCODONE_5MG, id="oxy-draft-7")
    (card,) = conflict_cards(cards_for(api, hook_body("order-select", [ldn, oxycodone], prefetch=full_prefetch())))
    actions = [a for s in card["suggestions"] for a in s.get("actions", [])]
    assert [(a["type"], a["resourceId"]) for a in actions] == [("delete", "MedicationRequest/ldn-draft-42")]


def test_the_conflict_card_offers_override_reasons_with_display(api):
    (card,) = conflict_cards(cards_for(api, hook_request(scenario("oxycodone-active-ldn-select"))))
    assert card["overrideReasons"]
    assert all(reason["display"].strip() for reason in card["overrideReasons"])


def test_the_summary_stays_under_140_characters_with_many_opioids(api):
    names = [
        "oxycodone",
        "hydromorphone",
        "morphine",
        "tapentadol",
        "tramadol",
        "codeine",
        "oxymorphone",
        "levorphanol",
    ]
    history = [
        medication_request(concept(f"{n} long descriptive product name for a test"), authored_on="2026-11-01")
        for n in names
    ]
    (card,) = conflict_cards(
        cards_for(api, hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch(history)))
    )
    assert len(card["summary"]) < 140


def test_a_dispense_inside_the_long_acting_interval_gives_the_critical_card(api):
    patch = medication_dispense(
        FENTANYL_PATCH, handed_over=TODAY - timedelta(days=42), days_supply=30
    )  # ended 12 days ago
    cards = cards_for(api, hook_body("order-select", [draft_order(NALTREXONE_50MG)], prefetch=full_prefetch([patch])))
    assert conflict_cards(cards)


def test_the_opioid_free_interval_is_read_from_the_settings(make_client):
    tramadol = medication_dispense(
        TRAMADOL_50MG, handed_over=TODAY - timedelta(days=11), days_supply=7
    )  # ended 4 days ago
    request = hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch([tramadol]))
    assert conflict_cards(cards_for(make_client(), request))
    shorter = make_client(clinical={"opioid_free_days_short_acting": 4})
    assert conflict_cards(cards_for(shorter, request)) == []


# --- the reverse conflict -----------------------------------------------------------------------


def test_an_opioid_ordered_for_a_patient_on_ldn_gets_a_warning_naming_both(api):
    history = [medication_request(concept("Naltrexone 4.5 mg capsule (compounded)"), authored_on="2026-09-01")]
    cards = cards_for(api, hook_body("order-sign", [draft_order(OXYCODONE_5MG)], prefetch=full_prefetch(history)))
    (card,) = reverse_cards(cards)
    assert card["indicator"] == "warning"
    assert "oxycodone" in card_text(card).lower()
    assert "naltrexone" in card["detail"].lower()
    assert conflict_cards(cards) == []


# --- nothing to say / could not check ----------------------------------------------------------


def test_when_nothing_applies_the_answer_is_an_empty_card_list(api):
    # Neither naltrexone nor an opioid is ordered, and the patient takes neither.
    request = hook_body(
        "order-select",
        [draft_order(LISINOPRIL)],
        prefetch=full_prefetch([medication_request(TRAMADOL_50MG, status="stopped")]),
    )
    status, body = call_service(api, "ldn-order-select", request)
    assert (status, body) == (200, {"cards": []})


def test_patient_view_for_a_patient_with_nothing_relevant_answers_with_an_empty_card_list(api):
    request = hook_body(
        "patient-view", prefetch=full_prefetch([medication_request(LISINOPRIL, authored_on="2026-01-01")])
    )
    status, body = call_service(api, "ldn-patient-view", request)
    assert (status, body) == (200, {"cards": []})


def test_missing_medication_data_without_a_fhir_server_gives_a_could_not_check_card(api):
    prefetch = {"medicationRequests": searchset([medication_request(LISINOPRIL)]), "conditions": searchset([])}
    cards = cards_for(api, hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=prefetch))
    assert not_checked_cards(cards), cards
    assert conflict_cards(cards) == []


def test_an_opioid_found_in_a_partial_record_still_gives_the_critical_card(api):
    prefetch = {"medicationRequests": searchset([medication_request(OXYCODONE_5MG, authored_on="2026-11-10")])}
    cards = cards_for(api, hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=prefetch))
    (card,) = conflict_cards(cards)
    assert card["indicator"] == "critical"


def test_a_medication_that_cannot_be_resolved_without_a_fhir_server_is_not_a_silent_all_clear(api):
    # The opioid prescription points at a Medication the prefetch does not include,
    # and there is no fhirServer to read it from: the service cannot know what it is.
    history = [medication_request("Medication/unknown-to-us", authored_on="2026-11-10")]
    cards = cards_for(api, hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch(history)))
    assert not_checked_cards(cards) or conflict_cards(cards), "no card although a medication could not be identified"


def test_a_resolvable_medication_reference_gives_the_critical_card(api):
    history = [medication_request("Medication/patch", authored_on="2026-11-10"), medication(FENTANYL_PATCH, id="patch")]
    cards = cards_for(api, hook_body("order-select", [draft_order(LDN_TEXT_ONLY)], prefetch=full_prefetch(history)))
    assert conflict_cards(cards)


# --- FHIR version ------------------------------------------------------------------------------


def dstu2_request(with_prefetch: bool) -> dict:
    order = {
        "resourceType": "MedicationOrder",
        "id": "order-123",
        "status": "draft",
        "patient": {"reference": "Patient/test-patient"},
        "dateWritten": "2026-11-26",
        "medicationCodeableConcept": {"text": "Naltrexone 4.5 mg capsule (compounded)"},
    }
    return hook_body("order-select", [order], prefetch=full_prefetch() if with_prefetch else None)


@pytest.mark.parametrize("with_prefetch", [True, False], ids=["with prefetch", "without prefetch"])
def test_a_dstu2_medication_order_gets_a_card_saying_r4_is_required(api, with_prefetch):
    cards = cards_for(api, dstu2_request(with_prefetch))
    assert any("R4" in card_text(c) for c in cards), cards
    assert conflict_cards(cards) == [] and reverse_cards(cards) == []


def test_a_dstu2_form_with_no_medication_yet_gets_no_card(api):
    # The sandbox fires order-select as soon as Rx View opens; warning then would be noise.
    request = dstu2_request(with_prefetch=True)
    del request["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"]
    assert cards_for(api, request) == []
