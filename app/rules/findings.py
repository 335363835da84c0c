"""What the rules conclude. Findings carry facts, never card wording."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.record import ConditionEntry, DataGap, MedicationUse
from app.knowledge.conditions import ConditionKind
from app.knowledge.dose import DoseClass
from app.knowledge.therapies import Line
from app.rules.exposure import Exposure
from app.rules.treatment_history import TriedAgent


@dataclass(frozen=True, slots=True)
class OpioidConflict:
    """Naltrexone is being ordered while the patient has (or may have) opioids on board."""

    naltrexone_order: MedicationUse
    exposures: tuple[Exposure, ...]  # inside the opioid-free window, or current
    uncertain: tuple[Exposure, ...] = ()  # end of use unknown: may still be inside it
    gaps: tuple[DataGap, ...] = ()


@dataclass(frozen=True, slots=True)
class OpioidStatusUnchecked:
    """Naltrexone is being ordered but opioid use could not be fully checked.

    Part of the medication record could not be read, or an opioid's end of use is unknown.
    """

    naltrexone_order: MedicationUse
    uncertain: tuple[Exposure, ...] = ()
    gaps: tuple[DataGap, ...] = ()


@dataclass(frozen=True, slots=True)
class NaltrexoneBlocksOpioid:
    """An opioid is being ordered while naltrexone blocks (or may still block) opioids."""

    opioid_order: MedicationUse
    blockades: tuple[Exposure, ...]


@dataclass(frozen=True, slots=True)
class OpioidDependenceOnRecord:
    """Naltrexone is being ordered for a patient with opioid dependence, withdrawal or
    long-term opioid therapy on the problem list."""

    naltrexone_order: MedicationUse
    diagnoses: tuple[ConditionEntry, ...]


@dataclass(frozen=True, slots=True)
class UnsupportedFhirVersion:
    """The client sent pre-R4 resources (DSTU2 ``MedicationOrder``)."""

    resource_type: str


class Stance(StrEnum):
    refractory = "refractory"  # every line of a condition's standard care tried: LDN's turn
    standard_options_remain = "standard-options-remain"
    not_assessed = "not-assessed"  # only conditions whose standard care the record cannot show
    no_studied_condition = "no-studied-condition"


@dataclass(frozen=True, slots=True)
class LdnPositioning:
    """Where LDN stands for this patient (order hooks)."""

    stance: Stance
    conditions: tuple[ConditionKind, ...]  # LDN-studied conditions the patient has
    tried: tuple[TriedAgent, ...]
    untried: tuple[Line, ...]  # lines of standard care not yet tried
    places: tuple[str, ...]  # where LDN stands for the refractory conditions ("3rd/4th-line")
    diagnoses: tuple[ConditionEntry, ...]  # what a titration order would be for (its reasonCode)
    order: MedicationUse
    offer_titration: bool  # the titration order may be suggested on this card


class DoseConcern(StrEnum):
    start_above_initial = "start-above-initial"  # LDN start above 1.5 mg without prior LDN
    below_ldn_range = "below-ldn-range"  # below ldn_unit_error_below_mg: a unit slip?
    above_ldn_max = "above-ldn-max"
    standard_dose_with_ldn_condition = "standard-dose-with-ldn-condition"
    dose_unknown = "dose-unknown"


@dataclass(frozen=True, slots=True)
class NaltrexoneDoseConcern:
    concern: DoseConcern
    order: MedicationUse
    dose_class: DoseClass
    dose_mg: float | None
    conditions: tuple[ConditionKind, ...]  # LDN-studied conditions the patient has
    offer_titration: bool
    untried: tuple[Line, ...] = ()  # lines of standard care remaining ("did you mean low-dose?")
    diagnoses: tuple[ConditionEntry, ...] = ()  # what a titration order would be for
    problem: str | None = None  # why the dose could not be read


@dataclass(frozen=True, slots=True)
class LdnStepDue:
    """Patient on LDN below target, and the current step has lasted its planned weeks."""

    current_dose_mg: float
    next_dose_mg: float
    weeks_on_therapy: int
    weeks_on_current_dose: int


@dataclass(frozen=True, slots=True)
class LdnReassessmentDue:
    """Patient on LDN at target dose for at least the minimum trial length."""

    current_dose_mg: float
    weeks_on_therapy: int
    weeks_at_target: int


@dataclass(frozen=True, slots=True)
class LdnCandidate:
    """patient-view: studied condition, refractory, opioid-free, never on LDN."""

    conditions: tuple[ConditionKind, ...]
    tried: tuple[TriedAgent, ...]
    places: tuple[str, ...]
    diagnoses: tuple[ConditionEntry, ...]


@dataclass(frozen=True, slots=True)
class OpioidExposureOnLdn:
    """patient-view: naltrexone blocks opioids today and the patient has opioid exposure."""

    naltrexone: tuple[Exposure, ...]
    exposures: tuple[Exposure, ...]


Finding = (
    OpioidConflict
    | OpioidStatusUnchecked
    | NaltrexoneBlocksOpioid
    | OpioidDependenceOnRecord
    | UnsupportedFhirVersion
    | LdnPositioning
    | NaltrexoneDoseConcern
    | LdnStepDue
    | LdnReassessmentDue
    | LdnCandidate
    | OpioidExposureOnLdn
)
