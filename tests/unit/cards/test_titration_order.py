"""The suggested LDN order is one valid FHIR R4 MedicationRequest built from settings."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from app.cards.render import RenderContext
from app.cards.templates import load_templates
from app.cards.titration_order import titration_doses, titration_order
from app.clinical_settings import ClinicalSettings
from app.domain.record import ConditionEntry
from app.knowledge.conditions import ConditionKind
from app.settings import PROJECT_ROOT

TEXTS = load_templates(PROJECT_ROOT / "cards")
WORDING = TEXTS.titration
VALUES = RenderContext(TEXTS, ClinicalSettings(), "p1").numbers()
FIBROMYALGIA = ConditionEntry(
    "c1", "Fibromyalgia", frozenset({ConditionKind.fibromyalgia}), active=True,
    codings=(("http://hl7.org/fhir/sid/icd-10-cm", "M79.7", "Fibromyalgia"),),
)  # fmt: skip


def test_default_plan_is_1_5_then_3_then_4_5_mg_at_bedtime_with_two_week_steps():
    order = titration_order("p1", ClinicalSettings(), WORDING, VALUES)
    MedicationRequest.model_validate(order)
    assert order["status"] == "draft" and order["intent"] == "order"
    assert order["subject"] == {"reference": "Patient/p1"}
    steps = order["dosageInstruction"]
    assert [s["sequence"] for s in steps] == [1, 2, 3]
    assert [s["doseAndRate"][0]["doseQuantity"]["value"] for s in steps] == [1.5, 3.0, 4.5]
    for step in steps:
        quantity = step["doseAndRate"][0]["doseQuantity"]
        assert (quantity["system"], quantity["code"]) == ("http://unitsofmeasure.org", "mg")
        assert step["timing"]["repeat"]["when"] == ["HS"]
        assert step["text"]
    assert [s["timing"]["repeat"].get("boundsDuration", {}).get("value") for s in steps] == [2, 2, None]
    assert steps[0]["timing"]["repeat"]["boundsDuration"]["code"] == "wk"


def test_order_renders_in_the_sandbox_rx_view():
    # The sandbox applies a create suggestion only with medicationCodeableConcept.text and a coding code.
    concept = titration_order("p1", ClinicalSettings(), WORDING, VALUES)["medicationCodeableConcept"]
    assert concept["text"] and concept["coding"][0]["code"] == "7243"


def test_note_carries_counselling_and_the_stop_criterion():
    note = titration_order("p1", ClinicalSettings(), WORDING, VALUES)["note"][0]["text"]
    for words in (
        "vivid dreams",
        "headache",
        "nausea",
        "no laboratory monitoring",
        "organ transplant",
        "compounded",
        "opioid",
    ):
        assert words in note
    assert "Reassess after 4-8 weeks at 4.5 mg; stopping is reasonable if no benefit is seen by then" in note


def test_the_order_is_complete_enough_to_sign():
    order = titration_order("p1", ClinicalSettings(), WORDING, VALUES, [FIBROMYALGIA])
    MedicationRequest.model_validate(order)
    assert order["reasonCode"] == [
        {
            "text": "Fibromyalgia",
            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M79.7", "display": "Fibromyalgia"}],
        }
    ]
    assert order["medicationCodeableConcept"]["text"] == "Naltrexone 1.5 mg capsule (low-dose, compounded)"
    # The fill covers the titration: one 1.5 mg capsule a night for two weeks, then two for two weeks.
    assert order["dispenseRequest"]["quantity"] == {"value": 14 + 28, "unit": "capsule"}
    assert order["dispenseRequest"]["expectedSupplyDuration"]["value"] == 28
    instructions = [s["patientInstruction"] for s in order["dosageInstruction"]]
    assert instructions[0].startswith("Take 1 capsule(s) (1.5 mg) by mouth at bedtime for 2 weeks.")
    assert instructions[2].startswith("Then take 3 capsule(s) (4.5 mg) by mouth at bedtime.")
    assert all("Do not take with any opioid" in i for i in instructions)


def test_the_compounded_strength_is_a_setting():
    clinical = ClinicalSettings(titration_compounded_strength_mg=0.5)
    values = RenderContext(TEXTS, clinical, "p1").numbers()
    order = titration_order("p1", clinical, WORDING, values)
    assert order["medicationCodeableConcept"]["text"].startswith("Naltrexone 0.5 mg capsule")
    assert order["dispenseRequest"]["quantity"]["value"] == (3 + 6) * 14
    assert "9 capsule(s) (4.5 mg)" in order["dosageInstruction"][2]["patientInstruction"]


@pytest.mark.parametrize(
    ("start", "step", "target", "doses"),
    [(1.5, 1.5, 4.5, [1.5, 3.0, 4.5]), (1.0, 1.0, 4.5, [1.0, 2.0, 3.0, 4.0, 4.5]), (0.5, 2.0, 4.5, [0.5, 2.5, 4.5])],
)
def test_steps_follow_the_settings_and_end_on_the_target(start, step, target, doses):
    clinical = ClinicalSettings(titration_start_mg=start, titration_step_mg=step, titration_target_mg=target)
    assert titration_doses(clinical) == doses
    MedicationRequest.model_validate(titration_order("p1", clinical, WORDING, VALUES))
