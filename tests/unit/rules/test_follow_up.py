"""patient-view follow-up cards show only inside their window, with a fixed "today"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical_settings import ClinicalSettings
from app.rules.findings import LdnReassessmentDue, LdnStepDue
from app.rules.follow_up import patient_view_findings
from tests.support.fhir import UCUM, concept, medication_request
from tests.support.records import record_of

CLINICAL = ClinicalSettings()
START = date(2026, 9, 1)


def ldn(mg: float, started: date, *, status: str = "active", **extra) -> dict:
    dosage = {"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
              "doseAndRate": [{"doseQuantity": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}]}  # fmt: skip
    return medication_request(
        concept(f"Naltrexone {mg:g} mg capsule (compounded)"),
        status=status,
        authored_on=started,
        dosageInstruction=[dosage],
        **extra,
    )


def finding_on(resources, day_offset: int):
    found = patient_view_findings(record_of(resources), START + timedelta(days=day_offset), CLINICAL)
    return type(found[0]) if found else None


@pytest.mark.parametrize(
    ("day", "expected"),
    [(13, None), (14, LdnStepDue), (27, LdnStepDue), (28, None), (175, None)],
    ids=["a day before due", "due", "last day before the next step", "a full step late: held", "25 weeks on 1.5 mg"],
)
def test_the_step_card_shows_from_due_until_the_next_step_would_be_due(day, expected):
    assert finding_on([ldn(1.5, START)], day) is expected


@pytest.mark.parametrize(
    ("weeks", "expected"), [(3, None), (4, LdnReassessmentDue), (8, LdnReassessmentDue), (9, None), (104, None)]
)
def test_the_reassessment_card_shows_inside_the_planned_window_at_target(weeks, expected):
    assert finding_on([ldn(4.5, START)], weeks * 7) is expected


def test_the_window_is_the_setting():
    late = ClinicalSettings(reassess_after_weeks_min=6, reassess_after_weeks_max=12)
    record = record_of([ldn(4.5, START)])
    assert not patient_view_findings(record, START + timedelta(weeks=5), late)
    assert patient_view_findings(record, START + timedelta(weeks=12), late)


def test_a_later_stop_removes_the_premise():
    stopped_later = ldn(1.5, START + timedelta(days=10), status="stopped", statusReason={"text": "vivid dreams"})
    assert finding_on([ldn(1.5, START), stopped_later], 14) is None


def test_a_multi_step_order_steps_by_itself_and_needs_no_step_card():
    steps = [
        {"sequence": 1, "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "boundsDuration": {"value": 2, "unit": "wk", "code": "wk"}}},
         "doseAndRate": [{"doseQuantity": {"value": 1.5, "unit": "mg", "code": "mg"}}]},
        {"sequence": 2, "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
         "doseAndRate": [{"doseQuantity": {"value": 3, "unit": "mg", "code": "mg"}}]},
    ]  # fmt: skip
    titration = medication_request(
        concept("Naltrexone (low-dose, compounded)"), authored_on=START, dosageInstruction=steps
    )
    assert finding_on([titration], 16) is None  # on the 3 mg step since day 14
    assert finding_on([titration], 28) is LdnStepDue  # 3 mg for its two weeks
