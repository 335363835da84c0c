"""The exposure-in-time model, row by row of the status table in docs/clinical-rules.md.

Every case is a real FHIR resource, read by the real parser, with its last possible
day of use worked out by hand. Each by-dates case is then judged at the boundaries
of its window, with a fixed "today": the last day inside (exposure) and the first
day outside (history, or "possible" while an unknown end may still matter).

Day arithmetic: a supply of ``d`` days starting on ``S`` covers ``S .. S+d-1``; a window
of ``W`` days after the last day ``L`` ends on ``L+W``; from ``L+W+1`` it has passed. An
unknown end is assumed to last at most ``max_assumed_supply_days`` (``C``) from its start:
it may matter through ``S+C-1+W``.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.clinical_settings import ClinicalSettings
from app.rules.exposure import opioid_free_window_days
from app.rules.last_use import Certainty, Level, StatusMeaning, judge, last_use
from tests.support.exposure_cases import BY_DATES, CAP, CASES, CLINICAL, CURRENT, NEVER, OXY, Case, day
from tests.support.exposure_cases import on as _on
from tests.support.fhir import medication_administration, medication_dispense
from tests.support.records import record_of


def _use(case: Case):
    uses = record_of([case.resource, *case.extra]).medications
    assert len(uses) == 1, case.id
    return uses[0]


def _level(case: Case, today: date, clinical: ClinicalSettings = CLINICAL) -> Level:
    use = _use(case)
    return judge(use, today, opioid_free_window_days(use, clinical), clinical).level


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_last_possible_day_is_read_from_the_record(case):
    found = last_use(_use(case), _on(0), CLINICAL)
    assert found.meaning is case.meaning
    if case.meaning is not StatusMeaning.by_dates:
        return
    assert found.certainty is case.certainty
    assert found.day == (None if case.last is None else _on(case.last))
    assert found.cap_from == (None if case.cap_from is None else _on(case.cap_from))


BY_DATE_CASES = [c for c in CASES if c.meaning is BY_DATES]


@pytest.mark.parametrize("case", BY_DATE_CASES, ids=[c.id for c in BY_DATE_CASES])
def test_a_finished_record_counts_until_its_window_after_the_last_possible_day_has_passed(case):
    window = opioid_free_window_days(_use(case), CLINICAL)
    if case.last is not None:
        assert _level(case, _on(case.last)) is Level.exposure
        assert _level(case, _on(case.last + window)) is Level.exposure, "the window's last day"
    if case.certainty is Certainty.known and case.last is not None:
        assert _level(case, _on(case.last + window + 1)) is Level.history, "the day after the window"
        return
    if case.cap_from is None:  # no date at all: it cannot be placed in time, ever
        assert _level(case, _on(3000)) is Level.possible
        return
    # At most CAP days of supply from cap_from (its last day cap_from + CAP - 1), then the window.
    doubt_ends = case.cap_from + CAP - 1 + window
    if case.last is not None and case.last + window + 1 <= doubt_ends:
        assert _level(case, _on(case.last + window + 1)) is Level.possible, "past the earliest end: may still be in use"
    assert _level(case, _on(doubt_ends)) is Level.possible
    assert _level(case, _on(doubt_ends + 1)) is Level.history, "past the assumed-supply cap: silent"


CURRENT_CASES = [c for c in CASES if c.meaning is CURRENT]


@pytest.mark.parametrize("case", CURRENT_CASES, ids=[c.id for c in CURRENT_CASES])
def test_a_record_the_ehr_calls_current_is_exposure_however_old(case):
    assert _level(case, _on(0)) is Level.exposure
    assert _level(case, _on(3000)) is Level.exposure


NEVER_CASES = [c for c in CASES if c.meaning is NEVER]


@pytest.mark.parametrize("case", NEVER_CASES, ids=[c.id for c in NEVER_CASES])
def test_a_record_that_never_reached_the_patient_never_counts(case):
    assert _level(case, _on(0)) is Level.none
    assert _level(case, _on(1)) is Level.none


def test_an_administration_in_progress_counts_as_today():
    case = Case(
        "administration in-progress",
        medication_administration(OXY, status="in-progress", given=None, effectivePeriod={"start": day(0)}),
        BY_DATES,
    )
    assert _level(case, _on(400)) is Level.exposure


def test_the_assumed_supply_cap_is_a_setting():
    case = next(c for c in CASES if c.id == "request completed, no supply data at all")
    short = ClinicalSettings(max_assumed_supply_days=30)
    window = short.opioid_free_days_short_acting
    assert _level(case, _on(29 + window), short) is Level.possible
    assert _level(case, _on(30 + window), short) is Level.history


def test_handover_timestamps_count_by_their_calendar_day():
    late_evening = medication_dispense(OXY, handed_over=f"{day(0)}T23:59:00-05:00", days_supply=7)
    assert last_use(record_of([late_evening]).medications[0], _on(0), CLINICAL).day == _on(6)


def test_dates_near_the_end_of_the_calendar_do_not_overflow():
    far = medication_dispense(OXY, handed_over="9999-12-20", days_supply=30)
    use = record_of([far]).medications[0]
    assert judge(use, _on(0), 10, CLINICAL).level is Level.exposure
