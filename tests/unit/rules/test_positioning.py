"""'Refractory' means tried and failed, per condition's standard care.

An agent counts when the record shows it taken for at least ``min_trial_weeks`` (from its
start to its last possible use) or stopped because it failed or was not tolerated.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.clinical_settings import ClinicalSettings
from app.knowledge.therapies import TherapyClass
from app.rules.findings import Stance
from app.rules.positioning import ldn_standing
from app.rules.treatment_history import tried_standard_agents
from tests.support.fhir import concept, medication_dispense, medication_request, medication_statement
from tests.support.records import record_of

TODAY = date(2026, 11, 26)
CLINICAL = ClinicalSettings()
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"

DULOXETINE = concept("Duloxetine 60 mg DR capsule")
AMITRIPTYLINE = concept("Amitriptyline 25 mg tablet")
PREGABALIN = concept("Pregabalin 75 mg capsule")
GABAPENTIN = concept("Gabapentin 300 mg capsule")
FINGOLIMOD = concept("Fingolimod 0.5 mg capsule")


def condition(text: str, code: str | None = None, system: str = ICD10) -> dict:
    return {
        "resourceType": "Condition",
        "id": f"c-{abs(hash(text)) % 10_000}",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": concept(text, code=code, system=system) if code else {"text": text},
    }


FIBROMYALGIA = condition("Fibromyalgia", "M79.7")
MS = condition("Multiple sclerosis", "G35")
CROHNS = condition("Crohn's disease", "K50.90")
NCP = condition("Neuropathic corneal pain")


def taken_for(medication_concept, weeks: int, *, ended_days_ago: int = 100, **extra) -> dict:
    end = TODAY - timedelta(days=ended_days_ago)
    start = end - timedelta(days=weeks * 7 - 1)
    return medication_statement(medication_concept, status="completed", start=start, end=end, **extra)


def stance(*resources, clinical=CLINICAL) -> Stance:
    return ldn_standing(record_of(list(resources)), TODAY, clinical).stance


@pytest.mark.parametrize("weeks", [CLINICAL.min_trial_weeks - 1, CLINICAL.min_trial_weeks])
def test_fibromyalgia_needs_a_first_and_a_second_line_agent_each_tried_long_enough(weeks):
    long_enough = weeks >= CLINICAL.min_trial_weeks
    found = stance(FIBROMYALGIA, taken_for(DULOXETINE, weeks), taken_for(PREGABALIN, 12))
    assert found is (Stance.refractory if long_enough else Stance.standard_options_remain)


def test_two_agents_of_the_same_line_are_not_enough():
    assert (
        stance(FIBROMYALGIA, taken_for(DULOXETINE, 12), taken_for(AMITRIPTYLINE, 12)) is Stance.standard_options_remain
    )


def test_prescribed_two_days_ago_is_not_tried():
    started = TODAY - timedelta(days=2)
    found = stance(
        FIBROMYALGIA,
        medication_request(
            DULOXETINE,
            authored_on=started,
            dispenseRequest={"expectedSupplyDuration": {"value": 30, "unit": "d", "code": "d"}},
        ),
        medication_request(PREGABALIN, authored_on=started),
    )
    assert found is Stance.standard_options_remain


def test_a_stated_failure_counts_whatever_the_duration():
    failed = medication_request(
        DULOXETINE, status="stopped", authored_on="2025-01-01", statusReason={"text": "Ineffective"}
    )
    intolerant = medication_request(
        PREGABALIN, status="stopped", authored_on="2025-06-01", statusReason={"coding": [{"code": "sintol"}]}
    )
    assert stance(FIBROMYALGIA, failed, intolerant) is Stance.refractory


def test_a_stop_for_another_reason_with_no_duration_does_not_count():
    moved = medication_request(
        DULOXETINE, status="stopped", authored_on="2025-01-01", statusReason={"text": "Patient moved pharmacy"}
    )
    agents = tried_standard_agents(record_of([moved]), TODAY, CLINICAL)
    assert [(a.ingredient, a.weeks, a.stopped_because, a.counts(CLINICAL)) for a in agents] == [
        ("duloxetine", None, None, False)
    ]


def test_refills_picked_up_a_few_days_late_make_one_course():
    fills = [
        medication_dispense(DULOXETINE, handed_over=date(2026, 3, 1) + timedelta(days=offset), days_supply=30)
        for offset in (0, 33, 66)  # three days late each time
    ]
    (agent,) = tried_standard_agents(record_of(fills), TODAY, CLINICAL)
    assert agent.weeks == (66 + 30) // 7


def test_the_minimum_trial_length_is_a_setting():
    resources = (FIBROMYALGIA, taken_for(DULOXETINE, 6), taken_for(PREGABALIN, 6))
    assert stance(*resources) is Stance.refractory
    assert stance(*resources, clinical=ClinicalSettings(min_trial_weeks=8)) is Stance.standard_options_remain


def test_neuropathic_corneal_pain_needs_one_failed_first_line_agent():
    assert stance(NCP, taken_for(AMITRIPTYLINE, 8)) is Stance.refractory
    assert stance(NCP, taken_for(PREGABALIN, 8)) is Stance.standard_options_remain


def test_ms_disease_modifying_therapy_is_not_a_pain_trial():
    assert stance(MS, taken_for(FINGOLIMOD, 52), taken_for(GABAPENTIN, 12)) is Stance.standard_options_remain
    assert stance(MS, taken_for(AMITRIPTYLINE, 8), taken_for(GABAPENTIN, 12)) is Stance.refractory


def test_crohns_disease_is_not_assessed_from_the_record():
    assert (
        stance(CROHNS, medication_request(concept("Adalimumab 40 mg pen"), authored_on="2025-01-01"))
        is Stance.not_assessed
    )


def test_the_options_left_are_the_lines_not_yet_tried():
    standing = ldn_standing(record_of([FIBROMYALGIA, taken_for(DULOXETINE, 12)]), TODAY, CLINICAL)
    assert standing.untried == ((TherapyClass.gabapentinoid,),)


def test_one_refractory_condition_is_enough_and_names_where_ldn_stands():
    standing = ldn_standing(record_of([NCP, CROHNS, taken_for(AMITRIPTYLINE, 8)]), TODAY, CLINICAL)
    assert standing.stance is Stance.refractory
    assert standing.places == ("2nd-line (expert review)",)
    assert [d.name for d in standing.diagnoses] == ["Neuropathic corneal pain"]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("cancelled", "Patient declined - worried about side effects"),
        ("cancelled", "Ineffective"),  # never reached the patient
        ("stopped", "prior authorization failed"),
        ("stopped", "Failed to refill"),
        ("stopped", "pain resolved; stopped without side effects"),
        ("stopped", "risk of adverse effects discussed"),
    ],
)
def test_a_reason_that_is_not_a_failure_of_a_therapy_taken_does_not_count(status, reason):
    record = record_of(
        [medication_request(DULOXETINE, status=status, authored_on="2025-01-01", statusReason={"text": reason})]
    )
    (agent,) = tried_standard_agents(record, TODAY, CLINICAL)
    assert not agent.counts(CLINICAL), reason
