"""What the cards say, checked through the API: only verified links, and numbers from settings.

Every URL a card carries (source and links) must be in ``cards/allowed-links.toml`` (the
evidence review's card-ready table, plus the CDS Hooks spec). Every number a card quotes
comes from a setting: render with *altered* settings and the new numbers appear.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from app.cards.kinds import CardKind
from app.settings import PROJECT_ROOT
from devtools.fixtures import hook_request, patient_resources, scenario, scenarios
from tests.support.cards import cards_for
from tests.support.fhir import draft_order, full_prefetch, hook_body
from tests.support.scenarios import card_kind

ALLOWED = tomllib.loads((PROJECT_ROOT / "cards" / "allowed-links.toml").read_text())
CLINICAL_URLS = {entry["url"] for entry in ALLOWED["clinical"]}
OTHER_URLS = {entry["url"] for entry in ALLOWED["non_clinical"]}


def urls(card: dict[str, Any]) -> set[str]:
    found = {card["source"]["url"]} if "url" in card["source"] else set()
    return found | {link["url"] for link in card.get("links", [])}


def every_card(client) -> list[dict[str, Any]]:
    """The cards of every fixture scenario, plus the two kinds no scenario shows."""
    cards = [card for case in scenarios() for card in cards_for(client, hook_request(case))]
    dstu2 = {
        "resourceType": "MedicationOrder",
        "id": "m1",
        "medicationCodeableConcept": {"text": "Naltrexone 50 mg tablet"},
    }
    cards += cards_for(client, hook_body("order-select", [dstu2], prefetch=full_prefetch([])))
    no_dose = draft_order(
        {"text": "Naltrexone oral suspension (compounded)"}, dosageInstruction=[{"text": "as directed"}]
    )
    cards += cards_for(client, hook_body("order-select", [no_dose], prefetch=full_prefetch([])))
    return cards


def test_every_card_kind_links_only_verified_sources(api):
    cards = every_card(api)
    assert {card_kind(c) for c in cards} == {kind.slug for kind in CardKind}, "every card kind was rendered"
    for card in cards:
        for url in urls(card):
            assert url in CLINICAL_URLS | OTHER_URLS, f"{card_kind(card)} links {url}, not in cards/allowed-links.toml"


def test_the_allowed_clinical_links_are_exactly_the_evidence_reviews_card_ready_table():
    # A clinical URL enters only with an entry of the review; each entry keeps its section number.
    assert sorted(e["entry"] for e in ALLOWED["clinical"]) == sorted(
        ["1", "2", "3", "4a", "4b", "4c", "4d", "4e", "5a", "5b+", "5c", "6a", "6b"]
    )


def card_of(client, name: str, kind: str) -> str:
    cards = cards_for(client, hook_request(scenario(name)))
    text = [f"{c['summary']}\n{c.get('detail', '')}" for c in cards if card_kind(c) == kind]
    assert text, f"{name}: no {kind} card"
    return text[0]


ALTERED = [
    ("oxycodone-active-ldn-select", "opioid-conflict", {"opioid_free_days_short_acting": 12}, "applies 12 days"),
    ("methadone-ldn-select", "opioid-conflict", {"opioid_free_days_methadone_buprenorphine": 21}, "21 days after methadone"),
    ("fentanyl-patch-ended-12d-ldn-select", "opioid-conflict", {"opioid_free_days_extended_release": 16}, "16-day window"),
    ("dispense-undated-ldn-select", "opioid-status-unchecked", {"opioid_free_days_short_acting": 12}, "last 12 days"),
    ("vivitrol-given-10d-oxycodone-select", "naltrexone-blocks-opioid", {"naltrexone_er_blockade_days": 30}, "until about 2026-12-16"),
    ("on-ldn-oxycodone-select", "naltrexone-blocks-opioid", {"naltrexone_oral_blockade_margin_days": 5}, "for 5 days after its supply"),
    ("refractory-fibromyalgia-ldn-select", "ldn-positioning-refractory", {"min_trial_weeks": 6}, "at least 6 weeks"),
    ("refractory-fibromyalgia-ldn-select", "ldn-dose-start-above-initial", {"titration_start_mg": 1.0, "titration_step_mg": 1.0}, "usually starts at 1 mg"),
    ("refractory-fibromyalgia-ldn-select", "ldn-positioning-refractory", {"reassess_after_weeks_min": 6, "reassess_after_weeks_max": 10}, "6-10 weeks at 4.5 mg"),
    ("refractory-ldn-4_5mcg-select", "ldn-dose-below-range", {"ldn_unit_error_below_mg": 0.5}, "A dose below 0.5 mg"),
    ("not-refractory-ldn-6mg-select", "ldn-dose-above-max", {"ldn_max_mg": 5.0}, "maximum of 5 mg"),
    ("not-refractory-naltrexone-50-select", "naltrexone-standard-dose-ldn-condition", {"min_trial_weeks": 5}, "at least 5 weeks"),
    ("ldn-at-target-5w-patient-view", "ldn-reassess-due", {"reassess_after_weeks_min": 3, "reassess_after_weeks_max": 9}, "3-9 weeks"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kind", "clinical", "expected"), ALTERED, ids=[f"{a[1]}: {a[3]}" for a in ALTERED])
def test_cards_quote_the_numbers_of_the_settings_in_force(make_client, name, kind, clinical, expected):
    assert expected in card_of(make_client(clinical=clinical), name, kind)


SANDBOX_TABLET = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1483744",
                              "display": "naltrexone hydrochloride 50 MG Oral Tablet"}]}  # fmt: skip


def _refractory_patient_ordering(api, order: dict[str, Any]) -> list[dict[str, Any]]:
    resources = patient_resources("no-opioids-fibromyalgia-refractory")
    body = hook_body("order-select", [order], prefetch=full_prefetch(resources))
    return cards_for(api, body)


def test_the_sandboxs_pill_dose_of_the_50_mg_tablet_reads_as_50_mg(api):
    # The CDS Hooks sandbox writes every dose as 1 {pill}; read as one tablet, it is 50 mg.
    pill = {"value": 1, "system": "http://unitsofmeasure.org", "code": "{pill}"}
    order = draft_order(SANDBOX_TABLET, dosageInstruction=[
        {"doseAndRate": [{"doseQuantity": pill}], "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}])  # fmt: skip
    kinds = [card_kind(c) for c in _refractory_patient_ordering(api, order)]
    assert kinds == ["naltrexone-standard-dose-ldn-condition"]


def _steps(*doses_mg: float, first_days: int = 3) -> list[dict[str, Any]]:
    return [
        {"sequence": i + 1, "doseAndRate": [{"doseQuantity": {"value": mg, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}],
         "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", **({"boundsDuration": {"value": first_days, "code": "d"}} if i == 0 else {})}}}
        for i, mg in enumerate(doses_mg)
    ]  # fmt: skip


def _ordering(api, patient: str, order: dict[str, Any]) -> list[dict[str, Any]]:
    body = hook_body("order-select", [order], prefetch=full_prefetch(patient_resources(patient)))
    return cards_for(api, body)


def test_an_order_that_reaches_50_mg_is_a_standard_dose_order_started_low(api):
    # 1.5 mg then 60 mg is not "LDN above its maximum": it reaches the standard dose.
    order = draft_order({"text": "Naltrexone 1.5 mg capsule (compounded)"}, dosageInstruction=_steps(1.5, 60))
    kinds = [card_kind(c) for c in _ordering(api, "no-opioids-fibromyalgia-refractory", order)]
    assert "ldn-dose-above-max" not in kinds
    assert kinds == ["naltrexone-standard-dose-ldn-condition"]


@pytest.mark.parametrize(
    "dosage",
    [
        _steps(25, 50),  # the usual induction: 25 mg for three days, then 50 mg
        [
            {
                "doseAndRate": [
                    {"doseQuantity": {"value": 0.5, "system": "http://unitsofmeasure.org", "code": "{pill}"}}
                ],
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            }
        ],  # half a 50 mg tablet
    ],
    ids=["25 then 50 mg", "half a 50 mg tablet"],
)
def test_a_patient_treated_for_dependence_is_never_steered_to_ldn(api, dosage):
    order = draft_order(SANDBOX_TABLET, dosageInstruction=dosage)
    cards = _ordering(api, "alcohol-use-disorder", order)
    assert not [c for c in cards if card_kind(c) in {"ldn-dose-above-max", "naltrexone-standard-dose-ldn-condition"}]
    assert not [s for c in cards for s in c.get("suggestions", []) if "LDN" in s["label"]]


def test_25_mg_without_a_use_disorder_is_questioned_as_neither_low_dose_nor_standard(api):
    order = draft_order(SANDBOX_TABLET, dosageInstruction=[
        {"doseAndRate": [{"doseQuantity": {"value": 0.5, "system": "http://unitsofmeasure.org", "code": "{pill}"}}],
         "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}])  # fmt: skip
    (card,) = [
        c for c in _ordering(api, "no-opioids-fibromyalgia-refractory", order) if card_kind(c) == "ldn-dose-above-max"
    ]
    assert "25 mg" in card[
        "summary"
    ] and "above the usual low-dose range and below the 50 mg dose used for dependence" in " ".join(
        card["detail"].split()
    )
