"""Dose reading and classification, treatment history, and condition codes."""

from __future__ import annotations

from datetime import date

import pytest

from app.clinical_settings import ClinicalSettings
from app.fhir.record import ConditionEntry, MedicationSource, MedicationUse, PatientRecord
from app.knowledge.conditions import ConditionKind, classify_condition
from app.knowledge.dose import DoseClass, classify_naltrexone_dose, dose_mg_from_text
from app.knowledge.medications import NaltrexoneProduct, classify_medication
from app.knowledge.terminology import ICD10CM, SNOMED
from app.rules.treatment_history import is_refractory, tried_standard_agents

CLINICAL = ClinicalSettings()


@pytest.mark.parametrize(
    ("text", "mg"),
    [
        ("Naltrexone 4.5 mg capsule", 4.5),
        ("naltrexone 4.5mg", 4.5),
        ("Naltrexone 4,5 mg at bedtime", 4.5),
        ("LDN 1.5 milligrams", 1.5),
        ("naltrexone 500 mcg", 0.5),
        ("Naltrexone capsule (compounded)", None),
        ("", None),
    ],
)
def test_dose_is_read_from_free_text(text, mg):
    assert dose_mg_from_text(text) == mg


@pytest.mark.parametrize(
    ("product", "dose", "expected"),
    [
        (NaltrexoneProduct.unspecified, 1.5, DoseClass.low_dose),
        (NaltrexoneProduct.unspecified, 4.5, DoseClass.low_dose),
        (NaltrexoneProduct.unspecified, 0.5, DoseClass.low_dose),
        (NaltrexoneProduct.unspecified, 0.1, DoseClass.below_low_dose_range),
        (NaltrexoneProduct.unspecified, 4.51, DoseClass.above_low_dose_max),
        (NaltrexoneProduct.unspecified, 25, DoseClass.above_low_dose_max),
        (NaltrexoneProduct.unspecified, 50, DoseClass.standard_oral),
        (NaltrexoneProduct.unspecified, 380, DoseClass.er_injectable),
        (NaltrexoneProduct.unspecified, None, DoseClass.unknown),
        (NaltrexoneProduct.oral_50mg, None, DoseClass.standard_oral),
        (NaltrexoneProduct.er_injectable_380mg, None, DoseClass.er_injectable),
        (NaltrexoneProduct.bupropion_combination, 8, DoseClass.bupropion_combination),
    ],
)
def test_naltrexone_dose_classes(product, dose, expected):
    assert classify_naltrexone_dose(product, dose, CLINICAL) is expected


def test_dose_bounds_are_settings():
    stricter = ClinicalSettings(ldn_max_mg=3.0)
    assert classify_naltrexone_dose(NaltrexoneProduct.unspecified, 4.5, stricter) is DoseClass.above_low_dose_max


@pytest.mark.parametrize(
    ("system", "code", "kind"),
    [
        (ICD10CM, "G35", ConditionKind.multiple_sclerosis),  # before the FY2026 split
        (ICD10CM, "G35.A", ConditionKind.multiple_sclerosis),
        (ICD10CM, "g35a", ConditionKind.multiple_sclerosis),
        (ICD10CM, "G35.C1", ConditionKind.multiple_sclerosis),
        (ICD10CM, "M79.7", ConditionKind.fibromyalgia),
        (ICD10CM, "M797", ConditionKind.fibromyalgia),
        (ICD10CM, "G90.512", ConditionKind.complex_regional_pain_syndrome),
        (ICD10CM, "K50.90", ConditionKind.crohns_disease),
        (ICD10CM, "F10.20", ConditionKind.alcohol_use_disorder),
        (ICD10CM, "F11.20", ConditionKind.opioid_use_disorder),
        (SNOMED, "24700007", ConditionKind.multiple_sclerosis),
        (SNOMED, "203082005", ConditionKind.fibromyalgia),
    ],
)
def test_conditions_by_code_with_descendants(system, code, kind):
    assert kind in classify_condition([(system, code)], [])


def test_unrelated_icd_codes_do_not_match_by_accident():
    assert classify_condition([(ICD10CM, "M79.6")], []) == frozenset()  # pain in limb, not fibromyalgia
    assert classify_condition([(ICD10CM, "E11.9")], []) == frozenset()  # diabetes without neuropathy


def _use(name: str, status: str = "stopped", started: date | None = date(2025, 1, 1)) -> MedicationUse:
    return MedicationUse(
        source=MedicationSource.request,
        resource_id=name,
        status=status,
        name=name,
        drug=classify_medication([], [name]),
        started=started,
    )


def test_refractory_needs_agents_from_two_different_classes():
    two_tricyclics = PatientRecord("p", medications=(_use("amitriptyline 10 mg"), _use("nortriptyline 25 mg")))
    assert not is_refractory(tried_standard_agents(two_tricyclics), CLINICAL)
    tricyclic_and_gabapentinoid = PatientRecord("p", medications=(_use("amitriptyline 10 mg"), _use("pregabalin 75 mg")))
    assert is_refractory(tried_standard_agents(tricyclic_and_gabapentinoid), CLINICAL)
    assert not is_refractory(tried_standard_agents(tricyclic_and_gabapentinoid), ClinicalSettings(refractory_min_agents=3))


def test_dispenses_alone_do_not_count_as_a_tried_therapy_but_any_prescription_status_does():
    dispense = MedicationUse(
        source=MedicationSource.dispense, resource_id="d", status="completed", name="duloxetine 60 mg",
        drug=classify_medication([], ["duloxetine 60 mg"]),
    )
    assert tried_standard_agents(PatientRecord("p", medications=(dispense,))) == ()
    tried = tried_standard_agents(PatientRecord("p", medications=(_use("duloxetine 60 mg", status="completed"),)))
    assert [a.ingredient for a in tried] == ["duloxetine"]


def test_inactive_and_refuted_conditions_do_not_count():
    record = PatientRecord(
        "p",
        conditions=(
            ConditionEntry("c1", "Fibromyalgia", frozenset({ConditionKind.fibromyalgia}), active=False),
            ConditionEntry("c2", "MS", frozenset({ConditionKind.multiple_sclerosis}), active=True),
        ),
    )
    assert record.active_condition_kinds == {ConditionKind.multiple_sclerosis}
