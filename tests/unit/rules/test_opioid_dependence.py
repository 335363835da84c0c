"""Opioid dependence, withdrawal or long-term opioid therapy on the problem list."""

from __future__ import annotations

from datetime import date

import pytest

from app.clinical_settings import ClinicalSettings
from app.rules.opioid_dependence import opioid_dependence_diagnoses, opioid_dependence_findings
from tests.support.fhir import LDN_TEXT_ONLY, concept, draft_order, medication_administration
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


def condition(
    code: str,
    system: str = ICD10,
    *,
    status: str | None = "active",
    verification: str | None = None,
    text: str | None = None,
):
    resource = {"resourceType": "Condition", "id": f"c-{code}", "code": concept(text, code=code, system=system)}
    if status is not None:
        resource["clinicalStatus"] = {"coding": [{"code": status}]}
    if verification is not None:
        resource["verificationStatus"] = {"coding": [{"code": verification}]}
    return resource


@pytest.mark.parametrize(
    ("code", "system", "what"),
    [
        ("F11.10", ICD10, "opioid abuse"),
        ("F11.20", ICD10, "opioid dependence"),
        ("F11.90", ICD10, "opioid use, unspecified"),
        ("F11.13", ICD10, "opioid abuse with withdrawal"),
        ("F11.23", ICD10, "opioid dependence with withdrawal"),
        ("F11.93", ICD10, "opioid use with withdrawal"),
        ("F11.21", ICD10, "opioid dependence, in remission"),
        ("F11.11", ICD10, "opioid abuse, in remission"),
        ("Z79.891", ICD10, "long-term opioid therapy"),
        ("87132004", SNOMED, "opioid withdrawal syndrome"),
        ("1081000119105", SNOMED, "opioid dependence, on agonist therapy"),
    ],
)
def test_each_diagnosis_that_may_mean_opioids_on_board_is_found(code, system, what):
    assert opioid_dependence_diagnoses(record_of([condition(code, system)])), what


@pytest.mark.parametrize(
    ("status", "found"),
    [("active", True), ("recurrence", True), ("relapse", True), (None, True), ("inactive", False), ("resolved", False)],
)
def test_current_clinical_statuses_count(status, found):
    assert bool(opioid_dependence_diagnoses(record_of([condition("F11.20", status=status)]))) is found


def test_a_use_disorder_in_remission_counts_and_long_term_therapy_in_remission_does_not():
    assert opioid_dependence_diagnoses(record_of([condition("F11.20", status="remission")]))[0].in_remission
    assert not opioid_dependence_diagnoses(record_of([condition("Z79.891", status="remission")]))


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_or_mistaken_diagnoses_do_not_count(verification):
    assert not opioid_dependence_diagnoses(record_of([condition("F11.20", verification=verification)]))


@pytest.mark.parametrize("code", ["290174008", "242253008", "216466002"])
def test_a_poisoning_or_overdose_is_not_a_use_disorder(code):
    assert not opioid_dependence_diagnoses(record_of([condition(code, SNOMED)]))


def test_a_bare_code_is_named_from_the_value_sets():
    (found,) = opioid_dependence_diagnoses(record_of([condition("Z79.891")]))
    assert found.name == "Long term (current) use of opiate analgesic"


def test_a_naltrexone_order_gets_the_warning_unless_naltrexone_already_blocks():
    ldn = draft_order(LDN_TEXT_ONLY)
    record = record_of([condition("F11.20")], drafts=[ldn])
    assert opioid_dependence_findings(record, TODAY, ClinicalSettings())
    injection = medication_administration(concept("Vivitrol 380 mg injection"), given="2026-11-10")
    on_injection = record_of(
        [condition("F11.20"), injection], drafts=[draft_order(concept("Vivitrol 380 mg injection"))]
    )
    assert opioid_dependence_findings(on_injection, TODAY, ClinicalSettings()) == []
