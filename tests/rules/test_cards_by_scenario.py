"""Every fixture scenario gives exactly the card kinds the clinical rules call for.

Expectations are derived by hand from the rules table (DESIGN §3, issue 3), per
patient: conditions and standard therapies on record, opioid exposure, prior LDN.
Kinds are read from the card uuid, which is how feedback is attributed too.
"""

from __future__ import annotations

import pytest

from app.cards.kinds import decode_card_uuid
from devtools.fixtures import hook_request, scenario, scenarios
from tests.conformance import assert_conformant_response

CONFLICT = "opioid-conflict"
BLOCKS = "naltrexone-blocks-opioid"
START_HIGH = "ldn-dose-start-above-initial"
ABOVE_MAX = "ldn-dose-above-max"
STANDARD_DOSE = "naltrexone-standard-dose-ldn-condition"
REFRACTORY = "ldn-positioning-refractory"
NOT_REFRACTORY = "ldn-positioning-not-refractory"
OFF_LABEL = "ldn-positioning-off-label"
STEP_DUE = "ldn-step-due"
REASSESS = "ldn-reassess-due"
CANDIDATE = "ldn-candidate"

# scenario -> (card kinds, kinds that carry the LDN titration suggestion)
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    # Fibromyalgia, no standard agent on record, active oxycodone; LDN 4.5 mg first order.
    "oxycodone-active-ldn-select": ({CONFLICT, START_HIGH, NOT_REFRACTORY}, set()),
    # 50 mg for fibromyalgia without a use disorder: did you mean LDN? No ready order while on opioids.
    "oxycodone-active-naltrexone-50-sign": ({CONFLICT, STANDARD_DOSE}, set()),
    "oxycodone-active-draft-no-medication": (set(), set()),
    "oxycodone-active-patient-view": (set(), set()),
    # Opioid use disorder only: no LDN-studied condition; 1.5 mg is the right start.
    "methadone-ldn-select": ({CONFLICT, OFF_LABEL}, set()),
    "methadone-naltrexone-injection-select": ({CONFLICT}, set()),
    # MS on glatiramer only (one class tried), opioid stopped months ago.
    "stopped-opioid-ldn-select": ({START_HIGH, NOT_REFRACTORY}, {START_HIGH}),
    "stopped-opioid-ldn-sign": ({START_HIGH, NOT_REFRACTORY}, {START_HIGH}),
    "tramadol-recent-dispense-ldn-select": ({CONFLICT, START_HIGH, NOT_REFRACTORY}, set()),
    # Chronic low back pain is not an LDN-studied condition.
    "fentanyl-patch-ended-12d-ldn-select": ({CONFLICT, OFF_LABEL}, set()),
    "fentanyl-patch-ended-12d-ldn-sign": ({CONFLICT, START_HIGH, OFF_LABEL}, set()),
    # Opioid use disorder on record: a 50 mg order is expected, only the conflict matters.
    "buprenorphine-naloxone-naltrexone-50-select": ({CONFLICT}, set()),
    "buprenorphine-naloxone-ldn-contained-select": ({CONFLICT, START_HIGH, NOT_REFRACTORY}, set()),
    "codeine-statement-ldn-select": ({CONFLICT, START_HIGH, NOT_REFRACTORY}, set()),
    "on-ldn-oxycodone-select": ({BLOCKS}, set()),
    "on-ldn-oxycodone-sign": ({BLOCKS}, set()),
    "on-ldn-morphine-naltrexone-select": ({BLOCKS}, set()),
    "on-ldn-naloxone-select": (set(), set()),
    # On 4.5 mg since 2026-09-01: 12 weeks at target, past the 4-week minimum.
    "on-ldn-patient-view": ({REASSESS}, set()),
    # Duloxetine, pregabalin, amitriptyline: three classes. The dose card carries the order.
    "refractory-fibromyalgia-ldn-select": ({START_HIGH, REFRACTORY}, {START_HIGH}),
    "refractory-fibromyalgia-no-medication-select": (set(), set()),
    "refractory-fibromyalgia-patient-view": ({CANDIDATE}, {CANDIDATE}),
    # The oxycodone in the same draft orders is current exposure.
    "not-refractory-ldn-plus-oxycodone-select": ({CONFLICT, START_HIGH, NOT_REFRACTORY}, set()),
    "not-refractory-ldn-6mg-select": ({ABOVE_MAX, NOT_REFRACTORY}, {ABOVE_MAX}),
    "not-refractory-patient-view": (set(), set()),
    # Dimethyl fumarate (MS DMT) and gabapentin: two classes.
    "ms-dmt-ldn-contained-select": ({START_HIGH, REFRACTORY}, {START_HIGH}),
    "ms-dmt-patient-view": ({CANDIDATE}, {CANDIDATE}),
    # Nortriptyline and gabapentin; 1.5 mg start is right, so positioning carries the order.
    "crps-ldn-select": ({REFRACTORY}, {REFRACTORY}),
    "crps-patient-view": ({CANDIDATE}, {CANDIDATE}),
    "aud-naltrexone-50-select": (set(), set()),
    "aud-naltrexone-bupropion-select": (set(), set()),
    # LDN already in the record: continuing titration needs no card.
    "mid-titration-next-step-sign": (set(), set()),
    # 3 mg since 2026-11-12: two weeks on the step.
    "mid-titration-patient-view": ({STEP_DUE}, set()),
    "past-reassessment-patient-view": ({REASSESS}, set()),
    "past-reassessment-oxycodone-sign": ({BLOCKS}, set()),
    # Refuted, entered-in-error and resolved conditions do not count.
    "refuted-ldn-select": ({START_HIGH, OFF_LABEL}, {START_HIGH}),
    "refuted-patient-view": (set(), set()),
}

SERVICE = {"order-select": "ldn-order-select", "order-sign": "ldn-order-sign", "patient-view": "ldn-patient-view"}


def test_every_scenario_has_an_expectation():
    assert {s.name for s in scenarios()} == set(EXPECTED)


def case_selection(case) -> set[str]:
    request = hook_request(case)
    return {f"MedicationRequest/{e['resource']['id']}" for e in request["context"].get("draftOrders", {}).get("entry", [])}


def _kind(uuid: str) -> str:
    decoded = decode_card_uuid(uuid)
    assert decoded is not None, f"card uuid {uuid} does not carry a card kind"
    return decoded[0].slug


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_gives_the_expected_cards(client, name):
    case = scenario(name)
    expected_kinds, with_titration = EXPECTED[name]
    response = client.post(f"/cds-services/{SERVICE[case.hook]}", json=hook_request(case))
    assert response.status_code == 200, response.text
    cards = assert_conformant_response(response.json())

    assert {_kind(c["uuid"]) for c in cards} == expected_kinds
    carrying = {
        _kind(c["uuid"])
        for c in cards
        for s in c.get("suggestions", [])
        if any(a["type"] in {"create", "update"} and a["resource"]["resourceType"] == "MedicationRequest" for a in s["actions"])
    }
    assert carrying == with_titration
    for card in cards:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                if action["type"] == "update":  # replaces the selected draft, keeping its id
                    assert f"MedicationRequest/{action['resource']['id']}" in case_selection(case)
    indicators = [c["indicator"] for c in cards]
    assert indicators == sorted(indicators, key=["critical", "warning", "info"].index), "cards ordered by urgency"
