"""The opioid-conflict rules over a PatientRecord (issue: Cards, as findings).

Naltrexone ordered with current opioid exposure -> conflict; an opioid ordered while the
patient takes naltrexone -> reverse conflict; a record that could not be read -> the
check is reported as incomplete rather than passing silently.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical_settings import ClinicalSettings
from app.domain.record import DataGap, GapReason
from app.rules.findings import NaltrexoneBlocksOpioid, OpioidConflict, OpioidStatusUnchecked
from app.rules.opioid_conflict import opioid_conflicts
from tests.support.fhir import (
    LDN_TEXT_ONLY,
    LISINOPRIL,
    METHADONE_LIQUID,
    NALTREXONE_50MG,
    OXYCODONE_5MG,
    TRAMADOL_50MG,
    concept,
    draft_order,
    medication_dispense,
    medication_request,
    medication_statement,
)
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
DEFAULTS = ClinicalSettings()

NALTREXONE_ORDERS = {
    "compounded LDN": LDN_TEXT_ONLY,
    "naltrexone 50 mg tablet": NALTREXONE_50MG,
    "naltrexone 380 mg injectable": concept(code="637213"),
    "naltrexone/bupropion": concept(code="1551468"),
}


def findings(resources, drafts, **kwargs):
    return opioid_conflicts(record_of(resources, drafts=drafts, **kwargs), TODAY, DEFAULTS)


def of_type(found, kind):
    return [f for f in found if isinstance(f, kind)]


@pytest.mark.parametrize("order", NALTREXONE_ORDERS.values(), ids=list(NALTREXONE_ORDERS))
def test_any_naltrexone_product_ordered_for_a_patient_on_an_opioid_is_a_conflict(order):
    found = findings([medication_request(OXYCODONE_5MG, authored_on="2026-11-10")], [draft_order(order)])
    (conflict,) = of_type(found, OpioidConflict)
    assert conflict.exposures


def test_the_conflict_lists_every_current_opioid():
    history = [
        medication_request(OXYCODONE_5MG, authored_on="2026-11-10", id="oxy"),
        medication_statement(TRAMADOL_50MG, start="2026-11-01", id="tram"),
        medication_dispense(METHADONE_LIQUID, handed_over=TODAY - timedelta(days=2), days_supply=1, id="mtd"),
    ]
    (conflict,) = of_type(findings(history, [draft_order(LDN_TEXT_ONLY)]), OpioidConflict)
    assert sorted(e.use.resource_id for e in conflict.exposures) == ["mtd", "oxy", "tram"]


def test_naltrexone_for_an_opioid_free_patient_is_no_conflict():
    history = [
        medication_request(LISINOPRIL, authored_on="2026-01-01"),
        medication_request(OXYCODONE_5MG, status="stopped", authored_on="2025-01-01"),
    ]
    assert findings(history, [draft_order(LDN_TEXT_ONLY)]) == []


def test_naltrexone_and_an_opioid_in_the_same_draft_orders_conflict():
    ldn, oxycodone = draft_order(LDN_TEXT_ONLY), draft_order(OXYCODONE_5MG)
    found = findings([], [ldn, oxycodone])
    (conflict,) = of_type(found, OpioidConflict)
    assert [e.use.resource_id for e in conflict.exposures] == [oxycodone["id"]]
    assert of_type(found, NaltrexoneBlocksOpioid) == []


def test_an_unselected_opioid_draft_still_counts_when_naltrexone_is_selected():
    ldn, oxycodone = draft_order(LDN_TEXT_ONLY), draft_order(OXYCODONE_5MG)
    found = findings([], [ldn, oxycodone], selections=[f"MedicationRequest/{ldn['id']}"])
    assert of_type(found, OpioidConflict)


def test_a_draft_without_a_medication_yet_is_not_a_naltrexone_order():
    assert findings([medication_request(OXYCODONE_5MG, authored_on="2026-11-10")], [draft_order(None)]) == []


def test_methylnaltrexone_for_a_patient_on_an_opioid_is_not_a_naltrexone_conflict():
    relistor = concept("Relistor (methylnaltrexone) 12 mg/0.6 mL injection")
    found = findings([medication_request(OXYCODONE_5MG, authored_on="2026-11-10")], [draft_order(relistor)])
    assert of_type(found, OpioidConflict) == []


@pytest.mark.parametrize(
    "naltrexone_use",
    [
        medication_request(LDN_TEXT_ONLY, authored_on="2026-09-01"),
        medication_statement(concept("Low-dose naltrexone 4.5 mg nightly"), start="2026-07-18"),
        medication_dispense(NALTREXONE_50MG, handed_over=TODAY - timedelta(days=5), days_supply=30),
    ],
    ids=["active request", "active statement", "dispense with supply left"],
)
def test_an_opioid_ordered_for_a_patient_taking_naltrexone_is_a_reverse_conflict(naltrexone_use):
    found = findings([naltrexone_use], [draft_order(OXYCODONE_5MG)])
    assert len(of_type(found, NaltrexoneBlocksOpioid)) == 1
    assert of_type(found, OpioidConflict) == []


def test_an_opioid_ordered_after_naltrexone_was_stopped_is_no_reverse_conflict():
    assert (
        findings(
            [medication_request(LDN_TEXT_ONLY, status="stopped", authored_on="2026-01-01")],
            [draft_order(OXYCODONE_5MG)],
        )
        == []
    )


def test_morphine_naltrexone_ordered_for_a_patient_on_ldn_is_only_a_reverse_conflict():
    found = findings(
        [medication_request(LDN_TEXT_ONLY, authored_on="2026-09-01")], [draft_order(concept(code="863850"))]
    )
    assert of_type(found, NaltrexoneBlocksOpioid)
    assert of_type(found, OpioidConflict) == []


def test_naloxone_ordered_for_a_patient_on_ldn_raises_nothing():
    assert (
        findings(
            [medication_request(LDN_TEXT_ONLY, authored_on="2026-09-01")],
            [draft_order(concept("Narcan 4 mg nasal spray"))],
        )
        == []
    )


def test_a_naltrexone_order_with_an_unreadable_medication_record_is_reported_as_unchecked():
    record = record_of([], drafts=[draft_order(LDN_TEXT_ONLY)])
    gapped = type(record)(
        patient_id=record.patient_id,
        medications=record.medications,
        draft_orders=record.draft_orders,
        selected_orders=record.selected_orders,
        gaps=(DataGap("MedicationDispense", GapReason.fhir_unreachable),),
    )
    found = opioid_conflicts(gapped, TODAY, DEFAULTS)
    assert len(of_type(found, OpioidStatusUnchecked)) == 1


def test_a_missing_diagnosis_list_alone_does_not_make_the_opioid_check_incomplete():
    record = record_of([], drafts=[draft_order(LDN_TEXT_ONLY)])
    gapped = type(record)(
        patient_id=record.patient_id,
        draft_orders=record.draft_orders,
        selected_orders=record.selected_orders,
        gaps=(DataGap("Condition", GapReason.fhir_unreachable),),
    )
    assert opioid_conflicts(gapped, TODAY, DEFAULTS) == []
