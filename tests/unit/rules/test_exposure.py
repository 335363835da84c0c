"""Which window applies to which opioid, and how long naltrexone keeps blocking opioids."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical_settings import ClinicalSettings
from app.rules.exposure import certain, naltrexone_blockades, opioid_exposures, uncertain
from app.rules.last_use import Level
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
    medication_administration,
    medication_dispense,
    medication_request,
    medication_statement,
)
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
DEFAULTS = ClinicalSettings()
VIVITROL = concept("Naltrexone ER 380 mg IM injection (Vivitrol)", code="637213", display="naltrexone 380 MG Injection")


def exposed(resources, *, today=TODAY, clinical=DEFAULTS, drafts=()) -> bool:
    return bool(certain(opioid_exposures(record_of(resources, drafts=drafts), today, clinical)))


def last_day_dispense(medication_concept, last: date, days_supply: int = 7, **extra):
    """A dispense whose supply's last day is ``last``."""
    return medication_dispense(
        medication_concept, handed_over=last - timedelta(days=days_supply - 1), days_supply=days_supply, **extra
    )


# --- the window per opioid class ----------------------------------------------------------------

SHORT_ACTING = {"oxycodone": OXYCODONE_5MG, "tramadol": TRAMADOL_50MG, "Percocet": concept("Percocet 5/325 mg")}
AGONIST_THERAPY = {"methadone": METHADONE_LIQUID, "buprenorphine/naloxone": concept(code="1010604")}
EXTENDED_RELEASE = {
    "fentanyl patch": FENTANYL_PATCH,
    "OxyContin (coded)": concept(code="1049504"),
    "morphine ER (name only)": concept("morphine sulfate ER 30 mg tablet"),
}
WINDOWS = [
    *((name, opioid, "opioid_free_days_short_acting") for name, opioid in SHORT_ACTING.items()),
    *((name, opioid, "opioid_free_days_methadone_buprenorphine") for name, opioid in AGONIST_THERAPY.items()),
    *((name, opioid, "opioid_free_days_extended_release") for name, opioid in EXTENDED_RELEASE.items()),
]


@pytest.mark.parametrize("days", [3, 7, 21])
@pytest.mark.parametrize(("name", "opioid", "setting"), WINDOWS, ids=[w[0] for w in WINDOWS])
def test_each_opioid_class_counts_for_its_own_window_after_the_last_day(name, opioid, setting, days):
    clinical = ClinicalSettings(**{setting: days})
    last = date(2026, 11, 10)
    dispense = last_day_dispense(opioid, last)
    assert exposed([dispense], today=last + timedelta(days=days), clinical=clinical)
    assert not exposed([dispense], today=last + timedelta(days=days + 1), clinical=clinical)


def test_one_classs_window_does_not_move_anothers():
    last = date(2026, 11, 10)
    clinical = ClinicalSettings(
        opioid_free_days_short_acting=3,
        opioid_free_days_methadone_buprenorphine=14,
        opioid_free_days_extended_release=30,
    )
    assert not exposed([last_day_dispense(OXYCODONE_5MG, last)], today=last + timedelta(days=4), clinical=clinical)
    assert exposed([last_day_dispense(METHADONE_LIQUID, last)], today=last + timedelta(days=14), clinical=clinical)
    assert not exposed([last_day_dispense(METHADONE_LIQUID, last)], today=last + timedelta(days=15), clinical=clinical)
    assert exposed([last_day_dispense(FENTANYL_PATCH, last)], today=last + timedelta(days=30), clinical=clinical)


def test_the_fixture_story_twelve_days_after_a_patch_is_exposure_but_twelve_days_after_oxycodone_is_not():
    last = TODAY - timedelta(days=12)
    assert exposed([last_day_dispense(FENTANYL_PATCH, last, days_supply=30)])
    assert not exposed([last_day_dispense(OXYCODONE_5MG, last)])


def test_a_referenced_or_contained_medication_decides_the_class():
    patch = medication(FENTANYL_PATCH, id="patch")
    assert exposed([last_day_dispense("Medication/patch", TODAY - timedelta(days=12), days_supply=30), patch])
    contained = last_day_dispense("#m1", TODAY - timedelta(days=12), contained=[medication(METHADONE_LIQUID, id="m1")])
    assert exposed([contained])


def test_an_opioid_in_the_same_draft_orders_is_exposure_and_the_order_itself_is_left_out():
    ldn, oxycodone = draft_order(LDN_TEXT_ONLY), draft_order(OXYCODONE_5MG)
    record = record_of([], drafts=[ldn, oxycodone], selections=[f"MedicationRequest/{ldn['id']}"])
    found = opioid_exposures(record, TODAY, DEFAULTS, exclude=record.selected_orders)
    assert [e.use.resource_id for e in found] == [oxycodone["id"]]


def test_each_exposure_names_the_record_it_rests_on_and_non_opioids_are_ignored():
    request = medication_request(OXYCODONE_5MG, authored_on="2026-11-10", id="oxy-rx")
    statement = medication_statement(TRAMADOL_50MG, start="2026-11-01", id="tram-self")
    dispense = last_day_dispense(METHADONE_LIQUID, TODAY - timedelta(days=3), id="mtd-disp")
    undated = medication_request(OXYCODONE_5MG, status="completed", id="oxy-undated")
    noise = medication_request(LISINOPRIL, authored_on="2026-01-01", id="acei")
    found = opioid_exposures(record_of([request, statement, dispense, undated, noise]), TODAY, DEFAULTS)
    assert sorted(e.use.resource_id for e in certain(found)) == ["mtd-disp", "oxy-rx", "tram-self"]
    assert [e.use.resource_id for e in uncertain(found)] == ["oxy-undated"]


# --- naltrexone blockade ----------------------------------------------------------------------------

GIVEN = date(2026, 11, 1)
INJECTION_RECORDS = {
    "administration": medication_administration(VIVITROL, given=GIVEN),
    "completed order": medication_request(VIVITROL, status="completed", authored_on=GIVEN),
    "dispense": medication_dispense(VIVITROL, handed_over=GIVEN, days_supply=None),
    "patient report": medication_statement(VIVITROL, status="completed", effectiveDateTime=GIVEN.isoformat()),
}


def blocking(resources, today, clinical=DEFAULTS) -> Level | None:
    found = naltrexone_blockades(record_of(resources), today, clinical)
    return max((b.level for b in found), default=None)


@pytest.mark.parametrize("days", [28, 35])
@pytest.mark.parametrize("record", INJECTION_RECORDS.values(), ids=list(INJECTION_RECORDS))
def test_the_extended_release_injection_blocks_for_its_setting_after_the_day_it_was_given(record, days):
    clinical = ClinicalSettings(naltrexone_er_blockade_days=days)
    assert blocking([record], GIVEN + timedelta(days=days), clinical) is Level.exposure
    after = blocking([record], GIVEN + timedelta(days=days + 1), clinical)
    if record["resourceType"] in ("MedicationRequest", "MedicationDispense"):
        # Written or handed over that day: the injection was given then or later, so it may still block.
        assert after is Level.possible
        cap = clinical.max_assumed_supply_days
        assert blocking([record], GIVEN + timedelta(days=cap + days), clinical) is None
    else:
        assert after is None


def test_an_active_injection_order_blocks_however_old():
    assert blocking([medication_request(VIVITROL, authored_on="2024-01-01")], TODAY) is Level.exposure


@pytest.mark.parametrize("margin", [0, 3, 7])
def test_oral_naltrexone_blocks_until_its_supply_ends_plus_the_margin(margin):
    clinical = ClinicalSettings(naltrexone_oral_blockade_margin_days=margin)
    dispense = medication_dispense(LDN_TEXT_ONLY, handed_over="2026-10-01", days_supply=30)  # last day 2026-10-30
    assert blocking([dispense], date(2026, 10, 30) + timedelta(days=margin), clinical) is Level.exposure
    assert blocking([dispense], date(2026, 10, 31) + timedelta(days=margin), clinical) is None


def test_oral_naltrexone_with_an_unknown_end_may_still_block_until_the_assumed_supply_cap():
    stopped = medication_request(LDN_TEXT_ONLY, status="stopped", authored_on="2026-10-01")
    assert blocking([stopped], date(2026, 11, 26)) is Level.possible
    assert blocking([stopped], date(2027, 6, 1)) is None


@pytest.mark.parametrize(
    "record",
    [
        medication_request(LDN_TEXT_ONLY, authored_on="2026-09-01"),
        medication_statement(concept("Low-dose naltrexone 4.5 mg nightly"), start="2026-07-01"),
    ],
    ids=["active prescription", "active report"],
)
def test_naltrexone_the_ehr_calls_current_blocks_now(record):
    assert blocking([record], TODAY) is Level.exposure
