"""Where LDN stands for this patient: after the standard care of each LDN-studied condition.

One rule for every card that positions LDN (the LDN order's card, "did you mean low-dose?",
the patient-view candidate): a condition's standard care is exhausted when every one of its
lines has an agent that counts as tried (``treatment_history``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import ConditionEntry, MedicationUse, PatientRecord
from app.knowledge.conditions import LDN_STUDIED_CONDITIONS, ConditionKind
from app.knowledge.therapies import Line, StandardCare, TherapyClass, standard_care
from app.rules.findings import LdnPositioning, Stance
from app.rules.treatment_history import TriedAgent, tried_standard_agents


def studied_conditions(record: PatientRecord) -> tuple[ConditionKind, ...]:
    return tuple(sorted(record.active_condition_kinds & LDN_STUDIED_CONDITIONS))


@dataclass(frozen=True, slots=True)
class Standing:
    """Where LDN stands, before it is tied to an order."""

    stance: Stance
    conditions: tuple[ConditionKind, ...]  # refractory: those LDN's turn has come in; else every studied one
    tried: tuple[TriedAgent, ...]
    untried: tuple[Line, ...]  # the lines not yet tried, each a tuple of its classes (options remain)
    places: tuple[str, ...]  # where LDN stands for the refractory conditions ("3rd/4th-line")
    diagnoses: tuple[ConditionEntry, ...]  # the record's entries for those conditions (an order's reasonCode)


def ldn_standing(record: PatientRecord, today: date, clinical: ClinicalSettings) -> Standing:
    conditions = studied_conditions(record)
    tried = tried_standard_agents(record, today, clinical)
    counted = {a.therapy_class for a in tried if a.counts(clinical)}
    cares = [standard_care()[c] for c in conditions]
    assessed = [care for care in cares if care.assessed]
    refractory = [care for care in assessed if not _missing_lines(care, counted)]
    if not conditions:
        stance = Stance.no_studied_condition
    elif refractory:
        stance = Stance.refractory
    elif not assessed:
        stance = Stance.not_assessed
    else:
        stance = Stance.standard_options_remain
    untried = (
        tuple(dict.fromkeys(line for care in assessed for line in _missing_lines(care, counted)))
        if stance is Stance.standard_options_remain
        else ()
    )
    # A refractory patient's cards name the conditions LDN's turn has come in, not the others.
    if refractory:
        conditions = tuple(care.condition for care in refractory)
    diagnoses = tuple(c for c in record.conditions if c.active and c.kinds & set(conditions))
    return Standing(
        stance, conditions, tried, untried, tuple(dict.fromkeys(care.ldn_place for care in refractory)), diagnoses
    )


def _missing_lines(care: StandardCare, counted: set[TherapyClass]) -> list[Line]:
    return [line for line in care.lines if not counted & set(line)]


def position_ldn(
    record: PatientRecord, order: MedicationUse, today: date, clinical: ClinicalSettings, *, titration_allowed: bool
) -> LdnPositioning:
    standing = ldn_standing(record, today, clinical)
    return LdnPositioning(
        stance=standing.stance,
        conditions=standing.conditions,
        tried=standing.tried,
        untried=standing.untried,
        places=standing.places,
        diagnoses=standing.diagnoses,
        order=order,
        # A ready titration order is offered only where LDN's turn has come.
        offer_titration=titration_allowed and standing.stance is Stance.refractory,
    )
