"""One positioning rule on every card that could hand over LDN: the LDN order's card,
"did you mean low-dose?" and the patient-view candidate. When standard options remain they
say so and offer no ready LDN order; a patient who has had LDN is never a "candidate"; no
card offers LDN to a patient with opioid dependence on record, or says "no opioids" to them.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.support.cards import cards_for
from tests.support.fhir import (
    LDN_TEXT_ONLY,
    NALTREXONE_50MG,
    concept,
    draft_order,
    full_prefetch,
    hook_body,
    medication_request,
    medication_statement,
)
from tests.support.scenarios import card_kind

TODAY = date(2026, 11, 26)
FIBROMYALGIA = {"resourceType": "Condition", "id": "fm", "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": concept("Fibromyalgia", code="M79.7", system="http://hl7.org/fhir/sid/icd-10-cm")}  # fmt: skip
OUD = {"resourceType": "Condition", "id": "oud", "clinicalStatus": {"coding": [{"code": "active"}]},
       "code": concept("Opioid dependence", code="F11.20", system="http://hl7.org/fhir/sid/icd-10-cm")}  # fmt: skip


def weeks_of(text: str, weeks: int) -> dict:
    end = TODAY - timedelta(days=60)
    return medication_statement(concept(text), status="completed", start=end - timedelta(days=7 * weeks), end=end)


REFRACTORY = [FIBROMYALGIA, weeks_of("duloxetine 60 mg", 12), weeks_of("pregabalin 75 mg", 12)]
NOT_REFRACTORY = [FIBROMYALGIA, weeks_of("duloxetine 60 mg", 12)]


def offers_ldn(card: dict) -> bool:
    return any(
        a["type"] in {"create", "update"} and a["resource"]["resourceType"] == "MedicationRequest"
        for s in card.get("suggestions", [])
        for a in s["actions"]
    )


def cards(api, hook: str, resources: list[dict], drafts: list[dict] = ()) -> list[dict]:  # type: ignore[assignment]
    return cards_for(api, hook_body(hook, list(drafts), prefetch=full_prefetch(resources)))


def test_did_you_mean_low_dose_offers_the_ldn_order_only_where_ldns_turn_has_come(api):
    (refractory,) = cards(api, "order-select", REFRACTORY, [draft_order(NALTREXONE_50MG)])
    assert card_kind(refractory) == "naltrexone-standard-dose-ldn-condition" and offers_ldn(refractory)
    (not_yet,) = cards(api, "order-select", NOT_REFRACTORY, [draft_order(NALTREXONE_50MG)])
    assert card_kind(not_yet) == "naltrexone-standard-dose-ldn-condition" and not offers_ldn(not_yet)
    assert "gabapentinoid" in not_yet["detail"] and "LDN usually comes after them" in not_yet["detail"]


def test_the_candidate_card_follows_the_same_rule(api):
    assert [card_kind(c) for c in cards(api, "patient-view", REFRACTORY)] == ["ldn-candidate"]
    assert cards(api, "patient-view", NOT_REFRACTORY) == []


def test_an_ldn_order_positions_by_the_same_rule(api):
    ldn_15 = draft_order(concept("Naltrexone 1.5 mg capsule (compounded)"))
    (yes,) = cards(api, "order-select", REFRACTORY, [ldn_15])
    (no,) = cards(api, "order-select", NOT_REFRACTORY, [ldn_15])
    assert (card_kind(yes), offers_ldn(yes)) == ("ldn-positioning-refractory", True)
    assert (card_kind(no), offers_ldn(no)) == ("ldn-positioning-not-refractory", False)


def test_ldn_stopped_for_lack_of_benefit_is_not_suggested_again(api):
    stopped = medication_request(
        LDN_TEXT_ONLY, status="stopped", authored_on="2026-03-01", statusReason={"text": "no benefit"}
    )
    assert cards(api, "patient-view", [*REFRACTORY, stopped]) == []


def test_ldn_anywhere_in_the_record_means_no_candidate_card(api):
    for status in ("stopped", "completed", "cancelled", "on-hold"):
        old_ldn = medication_request(LDN_TEXT_ONLY, status=status, authored_on="2025-03-01")
        shown = {card_kind(c) for c in cards(api, "patient-view", [*REFRACTORY, old_ldn])}
        assert "ldn-candidate" not in shown, status


def test_opioid_dependence_on_record_blocks_every_ready_ldn_order_and_every_no_opioids_claim(api):
    everything = [
        *cards(api, "patient-view", [*REFRACTORY, OUD]),
        *cards(api, "order-select", [*REFRACTORY, OUD], [draft_order(NALTREXONE_50MG)]),
        *cards(
            api, "order-select", [*REFRACTORY, OUD], [draft_order(concept("Naltrexone 1.5 mg capsule (compounded)"))]
        ),
        *cards(api, "order-sign", [*REFRACTORY, OUD], [draft_order(LDN_TEXT_ONLY)]),
    ]
    assert "opioid-dependence-on-record" in {card_kind(c) for c in everything}
    assert not [c for c in everything if offers_ldn(c)]
    assert not [c for c in everything if "no opioid" in (c["summary"] + c.get("detail", "")).lower()]
