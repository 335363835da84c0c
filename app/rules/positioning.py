"""Where LDN stands for this patient: third/fourth line, after standard therapies."""

from __future__ import annotations

from app.clinical_settings import ClinicalSettings
from app.fhir.record import MedicationUse, PatientRecord
from app.knowledge.conditions import LDN_STUDIED_CONDITIONS, ConditionKind
from app.knowledge.therapies import STANDARD_OPTIONS, TherapyClass
from app.rules.findings import LdnPositioning, Stance, TriedAgent
from app.rules.treatment_history import is_refractory, tried_classes, tried_standard_agents


def studied_conditions(record: PatientRecord) -> tuple[ConditionKind, ...]:
    return tuple(sorted(record.active_condition_kinds & LDN_STUDIED_CONDITIONS))


def untried_options(conditions: tuple[ConditionKind, ...], tried: tuple[TriedAgent, ...]) -> tuple[TherapyClass, ...]:
    done = tried_classes(tried)
    options = (option for condition in conditions for option in STANDARD_OPTIONS.get(condition, ()))
    return tuple(dict.fromkeys(o for o in options if o not in done))


def position_ldn(
    record: PatientRecord, order: MedicationUse, clinical: ClinicalSettings, *, titration_allowed: bool
) -> LdnPositioning:
    conditions = studied_conditions(record)
    tried = tried_standard_agents(record)
    if not conditions:
        stance = Stance.no_studied_condition
    elif is_refractory(tried, clinical):
        stance = Stance.refractory
    else:
        stance = Stance.standard_options_remain
    return LdnPositioning(
        stance=stance,
        conditions=conditions,
        tried=tried,
        untried=untried_options(conditions, tried) if stance is Stance.standard_options_remain else (),
        order=order,
        # A ready titration order is offered only where LDN's turn has come.
        offer_titration=titration_allowed and stance is Stance.refractory,
    )
