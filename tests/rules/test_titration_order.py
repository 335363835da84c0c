"""The suggested LDN order is one valid FHIR R4 MedicationRequest built from settings."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from app.cards.templates import load_templates
from app.cards.titration_order import titration_doses, titration_order
from app.clinical_settings import ClinicalSettings
from app.settings import PROJECT_ROOT

WORDING = load_templates(PROJECT_ROOT / "cards").titration
VALUES = {"start_mg": "1.5", "step_mg": "1.5", "step_weeks": 2, "target_mg": "4.5", "reassess_min": 4, "reassess_max": 8}


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


def test_note_carries_counselling_and_reassessment():
    note = titration_order("p1", ClinicalSettings(), WORDING, VALUES)["note"][0]["text"]
    for word in ("vivid dreams", "headache", "nausea", "No laboratory monitoring", "Reassess", "compounded"):
        assert word in note


@pytest.mark.parametrize(
    ("start", "step", "target", "doses"),
    [(1.5, 1.5, 4.5, [1.5, 3.0, 4.5]), (1.0, 1.0, 4.5, [1.0, 2.0, 3.0, 4.0, 4.5]), (0.5, 2.0, 4.5, [0.5, 2.5, 4.5])],
)
def test_steps_follow_the_settings_and_end_on_the_target(start, step, target, doses):
    clinical = ClinicalSettings(titration_start_mg=start, titration_step_mg=step, titration_target_mg=target)
    assert titration_doses(clinical) == doses
    MedicationRequest.model_validate(titration_order("p1", clinical, WORDING, VALUES))
