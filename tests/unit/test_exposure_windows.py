"""Current opioid exposure at a given date, with exact day boundaries (issue: Knowledge).

Current exposure = an active, on-hold or draft opioid MedicationRequest; an active
MedicationStatement; a MedicationDispense whose supply ended within the opioid-free
interval; or an opioid among the same draftOrders.

Day arithmetic used throughout: a supply of ``d`` days handed over on day ``H`` covers
days ``H .. H+d-1``; it ends on day ``E = H+d`` (the first day without supply). An
opioid-free interval of ``N`` days is therefore complete on day ``E+N``: on ``E+N-1``
the patient still counts as exposed, on ``E+N`` no longer.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical_settings import ClinicalSettings
from app.rules.exposure import current_naltrexone, current_opioid_exposure
from tests.support.fhir import (
    FENTANYL_PATCH,
    LDN_TEXT_ONLY,
    LISINOPRIL,
    METHADONE_LIQUID,
    OXYCODONE_5MG,
    TRAMADOL_50MG,
    concept,
    draft_order,
    medication,
    medication_dispense,
    medication_request,
    medication_statement,
)
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
DEFAULTS = ClinicalSettings()


def exposed(resources, *, today=TODAY, clinical=DEFAULTS, drafts=()) -> bool:
    record = record_of(resources, drafts=drafts)
    return bool(current_opioid_exposure(record, today, clinical))


def dispense_ending(medication_concept, end: date, days_supply: int = 7, **extra):
    """A dispense whose supply ends on ``end`` (first day without supply)."""
    return medication_dispense(medication_concept, handed_over=end - timedelta(days=days_supply), days_supply=days_supply, **extra)


# --- MedicationRequest status ---------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "on-hold", "draft"])
def test_an_active_on_hold_or_draft_opioid_prescription_is_current_exposure(status):
    assert exposed([medication_request(OXYCODONE_5MG, status=status, authored_on="2025-01-01")])


@pytest.mark.parametrize("status", ["completed", "stopped", "cancelled", "entered-in-error", "unknown"])
def test_an_opioid_prescription_that_is_no_longer_current_is_not_exposure_by_itself(status):
    assert not exposed([medication_request(OXYCODONE_5MG, status=status, authored_on=TODAY - timedelta(days=2))])


def test_an_active_prescription_for_a_non_opioid_is_not_exposure():
    assert not exposed([medication_request(LISINOPRIL, authored_on=TODAY)])


# --- MedicationStatement status -------------------------------------------------------------


def test_an_active_patient_reported_opioid_is_current_exposure():
    assert exposed([medication_statement(TRAMADOL_50MG, status="active", start="2020-01-01")])


@pytest.mark.parametrize("status", ["completed", "stopped", "not-taken", "entered-in-error"])
def test_a_patient_reported_opioid_that_is_not_active_is_not_exposure(status):
    assert not exposed([medication_statement(TRAMADOL_50MG, status=status, start="2020-01-01", end="2021-01-01")])


# --- MedicationDispense: supply end + opioid-free interval -------------------------------


def test_an_opioid_still_within_its_dispensed_supply_is_current_exposure():
    assert exposed([medication_dispense(OXYCODONE_5MG, handed_over=TODAY - timedelta(days=3), days_supply=30)])


def test_supply_end_is_the_handover_date_plus_days_supply():
    # 7 days handed over on 2026-11-01: supply ends 2026-11-08; 10-day interval complete on 2026-11-18.
    dispense = medication_dispense(OXYCODONE_5MG, handed_over="2026-11-01", days_supply=7)
    clinical = ClinicalSettings(opioid_free_days_short_acting=10)
    assert exposed([dispense], today=date(2026, 11, 17), clinical=clinical)
    assert not exposed([dispense], today=date(2026, 11, 18), clinical=clinical)


def test_handover_timestamps_count_by_their_calendar_day():
    dispense = medication_dispense(OXYCODONE_5MG, handed_over="2026-11-01T23:59:00-05:00", days_supply=7)
    clinical = ClinicalSettings(opioid_free_days_short_acting=10)
    assert exposed([dispense], today=date(2026, 11, 17), clinical=clinical)
    assert not exposed([dispense], today=date(2026, 11, 18), clinical=clinical)


SHORT_ACTING_SETTINGS = [ClinicalSettings(), ClinicalSettings(opioid_free_days_short_acting=7), ClinicalSettings(opioid_free_days_short_acting=3)]


@pytest.mark.parametrize("clinical", SHORT_ACTING_SETTINGS, ids=lambda c: f"{c.opioid_free_days_short_acting}-day interval")
@pytest.mark.parametrize("opioid", [OXYCODONE_5MG, TRAMADOL_50MG, concept("Percocet 5/325 mg")], ids=["oxycodone", "tramadol", "Percocet"])
def test_a_short_acting_dispense_counts_until_the_short_acting_interval_is_complete(clinical, opioid):
    end = date(2026, 11, 10)
    interval = clinical.opioid_free_days_short_acting
    dispense = dispense_ending(opioid, end)
    assert exposed([dispense], today=end, clinical=clinical)
    assert exposed([dispense], today=end + timedelta(days=interval - 1), clinical=clinical)
    assert not exposed([dispense], today=end + timedelta(days=interval), clinical=clinical)


LONG_ACTING_SETTINGS = [ClinicalSettings(), ClinicalSettings(opioid_free_days_long_acting=21), ClinicalSettings(opioid_free_days_long_acting=11)]
LONG_ACTING_OPIOIDS = {
    "methadone": METHADONE_LIQUID,
    "buprenorphine/naloxone": concept(code="1010604"),
    "fentanyl patch": FENTANYL_PATCH,
    "OxyContin (coded)": concept(code="1049504"),
    "morphine ER (name only)": concept("morphine sulfate ER 30 mg tablet"),
}


@pytest.mark.parametrize("clinical", LONG_ACTING_SETTINGS, ids=lambda c: f"{c.opioid_free_days_long_acting}-day interval")
@pytest.mark.parametrize("opioid", LONG_ACTING_OPIOIDS.values(), ids=list(LONG_ACTING_OPIOIDS))
def test_a_long_acting_dispense_counts_until_the_long_acting_interval_is_complete(clinical, opioid):
    end = date(2026, 11, 10)
    interval = clinical.opioid_free_days_long_acting
    dispense = dispense_ending(opioid, end, days_supply=28)
    assert exposed([dispense], today=end + timedelta(days=interval - 1), clinical=clinical)
    assert not exposed([dispense], today=end + timedelta(days=interval), clinical=clinical)


def test_an_extended_release_brand_written_only_by_name_gets_the_long_acting_interval():
    # OxyContin is extended-release oxycodone even when the EHR sends only the brand name.
    end = TODAY - timedelta(days=DEFAULTS.opioid_free_days_long_acting - 1)
    assert exposed([dispense_ending(concept("OxyContin 20 mg tablet"), end, days_supply=30)])


def test_the_short_acting_setting_does_not_shorten_the_long_acting_interval():
    end = date(2026, 11, 10)
    clinical = ClinicalSettings(opioid_free_days_short_acting=3, opioid_free_days_long_acting=14)
    assert exposed([dispense_ending(METHADONE_LIQUID, end)], today=end + timedelta(days=13), clinical=clinical)
    assert not exposed([dispense_ending(OXYCODONE_5MG, end)], today=end + timedelta(days=3), clinical=clinical)


def test_the_long_acting_setting_does_not_lengthen_the_short_acting_interval():
    end = date(2026, 11, 10)
    clinical = ClinicalSettings(opioid_free_days_short_acting=10, opioid_free_days_long_acting=30)
    assert not exposed([dispense_ending(OXYCODONE_5MG, end)], today=end + timedelta(days=10), clinical=clinical)
    assert exposed([dispense_ending(FENTANYL_PATCH, end)], today=end + timedelta(days=29), clinical=clinical)


def test_the_fixture_story_twelve_days_after_a_patch_is_exposure_but_twelve_days_after_oxycodone_is_not():
    end = TODAY - timedelta(days=12)
    assert exposed([dispense_ending(FENTANYL_PATCH, end, days_supply=30)])
    assert not exposed([dispense_ending(OXYCODONE_5MG, end)])


@pytest.mark.parametrize("status", ["cancelled", "declined", "entered-in-error"])
def test_a_dispense_that_never_reached_the_patient_is_not_exposure(status):
    assert not exposed([medication_dispense(OXYCODONE_5MG, handed_over=TODAY - timedelta(days=2), days_supply=7, status=status)])


def test_a_dispense_whose_medication_is_a_referenced_medication_resource_is_classified_by_that_resource():
    patch = medication(FENTANYL_PATCH, id="patch")
    dispense = dispense_ending("Medication/patch", TODAY - timedelta(days=12), days_supply=30)
    assert exposed([dispense, patch])


def test_a_dispense_whose_medication_is_contained_is_classified_by_the_contained_resource():
    dispense = dispense_ending("#m1", TODAY - timedelta(days=2), contained=[medication(METHADONE_LIQUID, id="m1")])
    assert exposed([dispense])


# --- the same draftOrders ----------------------------------------------------------------------


def test_an_opioid_in_the_same_draft_orders_is_current_exposure():
    ldn = draft_order(LDN_TEXT_ONLY)
    oxycodone = draft_order(OXYCODONE_5MG)
    record = record_of([], drafts=[ldn, oxycodone], selections=[f"MedicationRequest/{ldn['id']}"])
    exposures = current_opioid_exposure(record, TODAY, DEFAULTS)
    assert [e.use.resource_id for e in exposures] == [oxycodone["id"]]


def test_the_exposure_names_the_resource_it_rests_on():
    request = medication_request(OXYCODONE_5MG, authored_on="2026-11-10", id="oxy-rx")
    statement = medication_statement(TRAMADOL_50MG, start="2026-11-01", id="tram-self")
    dispense = dispense_ending(METHADONE_LIQUID, TODAY - timedelta(days=3), id="mtd-disp")
    noise = medication_request(LISINOPRIL, authored_on="2026-01-01", id="acei")
    exposures = current_opioid_exposure(record_of([request, statement, dispense, noise]), TODAY, DEFAULTS)
    assert sorted(e.use.resource_id for e in exposures) == ["mtd-disp", "oxy-rx", "tram-self"]


# --- current naltrexone (for the reverse conflict) -----------------------------------------


def test_an_active_naltrexone_prescription_is_current_naltrexone():
    assert current_naltrexone(record_of([medication_request(LDN_TEXT_ONLY, authored_on="2026-09-01")]), TODAY)


def test_an_active_patient_reported_naltrexone_is_current_naltrexone():
    assert current_naltrexone(record_of([medication_statement(concept("Low-dose naltrexone 4.5 mg nightly"), start="2026-07-01")]), TODAY)


def test_a_stopped_naltrexone_prescription_is_not_current_naltrexone():
    assert not current_naltrexone(record_of([medication_request(LDN_TEXT_ONLY, status="stopped", authored_on="2026-01-01")]), TODAY)


def test_naltrexone_dispensed_with_supply_left_is_current_naltrexone():
    dispense = medication_dispense(LDN_TEXT_ONLY, handed_over=TODAY - timedelta(days=10), days_supply=30)
    assert current_naltrexone(record_of([dispense]), TODAY)


def test_naltrexone_whose_supply_ran_out_weeks_ago_is_not_current_naltrexone():
    dispense = medication_dispense(LDN_TEXT_ONLY, handed_over=TODAY - timedelta(days=60), days_supply=30)
    assert not current_naltrexone(record_of([dispense]), TODAY)
