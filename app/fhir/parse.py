"""Raw FHIR R4 JSON -> record entries, by light reading.

Full ``fhir.resources`` validation costs ~100x a JSON parse and real EHR data is
quirky, so inputs are read defensively: a field of the wrong shape is ignored,
never an error. Only what the rules need is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.fhir.dosage import daily_use
from app.fhir.record import ConditionEntry, DoseStep, MedicationSource, MedicationUse, SupplyFacts
from app.fhir.values import Json, as_dict, as_list, as_str, number, parse_date
from app.knowledge.conditions import classify_condition, in_remission
from app.knowledge.dose import dose_mg_from_quantity, dose_mg_from_text
from app.knowledge.medications import NOT_A_KNOWN_DRUG, classify_medication
from app.knowledge.terminology import RXNORM, canonical_system
from app.knowledge.strength import Strength, strength_from_names, strength_from_ratio
from app.knowledge.units import amount

__all__ = ["Json", "as_dict", "as_list", "as_str", "parse_date"]  # re-exported for assembly

_INACTIVE_CONDITION = frozenset({"inactive", "remission", "resolved"})
_UNTRUSTED_CONDITION = frozenset({"refuted", "entered-in-error"})
# Longer than any drug or diagnosis name, and than any code: the rest of a longer string
# is noise, and scanning it (or caching it) would only cost time and memory.
_MAX_NAME_CHARS = 512
_MAX_CODE_CHARS = 32
# Real concepts carry a handful of codings (one per code system); more is padding.
_MAX_CODINGS = 16

# Longer than any supply or titration step; beyond it a value is a data error, not a plan.
_MAX_DURATION_DAYS = 3660
_DAYS_PER_UNIT = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30}
# More refills than any prescription allows: beyond it the number is a data error.
_MAX_REPEATS = 100


def _name(value: Any) -> str | None:
    text = as_str(value)
    return text[:_MAX_NAME_CHARS] if text else None


def read_concept(concept: Any) -> tuple[str | None, list[tuple[str, str | None, str | None]]]:
    """(text, [(canonical system, code or None, display)]) of a CodeableConcept, in one pass.

    Codings without a code are kept for their display: a name is evidence too.
    """
    if not isinstance(concept, dict):
        return None, []
    read: list[tuple[str, str | None, str | None]] = []
    for coding in as_list(concept.get("coding"))[:_MAX_CODINGS]:
        if not isinstance(coding, dict):
            continue
        code = coding.get("code")
        if isinstance(code, bool) or not isinstance(code, (str, int)):
            code = None
        else:
            code = str(code).strip()
            if not code or len(code) > _MAX_CODE_CHARS:
                code = None  # empty, or longer than any code of a system we read
        read.append((canonical_system(as_str(coding.get("system"))), code, _name(coding.get("display"))))
    return _name(concept.get("text")), read


def concept_names(text: str | None, codings: list[tuple[str, str | None, str | None]]) -> list[str]:
    return [name for name in (text, *(display for _, _, display in codings)) if name]


def _duration_days(duration: Any) -> int | None:
    duration = as_dict(duration)
    value = duration.get("value")
    unit = as_str(duration.get("code")) or as_str(duration.get("unit"))
    if not isinstance(value, (int, float)) or isinstance(value, bool) or unit is None:
        return None
    factor = _DAYS_PER_UNIT.get(unit.lower())
    if not factor or not 0 <= value * factor <= _MAX_DURATION_DAYS:
        return None  # negative, absurd (1e308 months) or unknown unit: not a duration we can use
    return round(value * factor)


def _quantity_mg(quantity: Any) -> float | None:
    quantity = as_dict(quantity)
    return dose_mg_from_quantity(quantity.get("value"), quantity.get("unit"), quantity.get("code"))


def dose_steps(dosages: Any) -> tuple[DoseStep, ...]:
    steps: list[DoseStep] = []
    for index, dosage in enumerate(as_list(dosages)):
        dosage = as_dict(dosage)
        dose: float | None = None
        for dose_and_rate in as_list(dosage.get("doseAndRate")):
            dose = _quantity_mg(as_dict(dose_and_rate).get("doseQuantity"))
            if dose is not None:
                break
        if dose is None:  # STU3 shape, still sent by some clients; MedicationAdministration.dosage.dose
            dose = _quantity_mg(dosage.get("doseQuantity")) or _quantity_mg(dosage.get("dose"))
        text = as_str(dosage.get("text")) or as_str(dosage.get("patientInstruction"))
        if dose is None:
            dose = dose_mg_from_text(text)
        sequence = dosage.get("sequence")
        repeat = as_dict(as_dict(dosage.get("timing")).get("repeat"))
        steps.append(
            DoseStep(
                sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else index + 1,
                dose_mg=dose,
                duration_days=_duration_days(repeat.get("boundsDuration")),
                text=text,
            )
        )
    return tuple(sorted(steps, key=lambda s: s.sequence))


def _medication_strength_mg(medication: Json) -> float | None:
    """Per-unit strength of a single-ingredient Medication (numerator mg / 1 unit)."""
    for ingredient in as_list(medication.get("ingredient")):
        ratio = as_dict(as_dict(ingredient).get("strength"))
        numerator = _quantity_mg(ratio.get("numerator"))
        denominator = as_dict(ratio.get("denominator")).get("value", 1)
        if numerator is not None and denominator == 1:
            return numerator
    return None


def _medication_concepts(medication: Json) -> list[Any]:
    concepts = [medication.get("code")]
    concepts.extend(as_dict(i).get("itemCodeableConcept") for i in as_list(medication.get("ingredient")))
    return concepts


def medication_use(
    resource: Json,
    source: MedicationSource,
    medications: Mapping[str, Json],
    *,
    is_draft: bool = False,
) -> MedicationUse | None:
    """One MedicationRequest/Statement/Dispense/Administration.

    ``None`` for entered-in-error, and for drugs no rule is about (not an opioid,
    naltrexone or standard therapy): a heavy record is mostly those, and their
    dates and dosages need not be read.
    """
    status = (as_str(resource.get("status")) or "").lower()
    if status == "entered-in-error":
        return None

    concepts: list[Any] = [resource.get("medicationCodeableConcept")]
    strength: float | None = None
    medication_reference = as_dict(resource.get("medicationReference"))
    medication = _resolve_medication(resource, as_str(medication_reference.get("reference")), medications)
    if medication is not None:
        concepts.extend(_medication_concepts(medication))
        strength = _medication_strength_mg(medication)

    names: list[str] = []
    rxnorm: list[str] = []
    for concept in concepts:
        text, concept_codings = read_concept(concept)
        names.extend(concept_names(text, concept_codings))
        rxnorm.extend(code for system, code, _ in concept_codings if system == RXNORM and code)
    if reference_display := _name(medication_reference.get("display")):
        names.append(reference_display)
    drug = classify_medication(rxnorm, names)
    if drug is NOT_A_KNOWN_DRUG:
        return None
    # Only naltrexone needs its dose read (dose class, titration state); only opioids and
    # naltrexone need their timeline (exposure, blockade).
    wants_dose = drug.naltrexone is not None
    wants_supply = wants_dose or drug.is_opioid
    dosage = _dosage_of(resource, source)
    supply = (
        _supply_facts(resource, source, dosage, _product_strength(medication, names))
        if wants_supply
        else SupplyFacts(start=_start(resource, source))
    )

    return MedicationUse(
        source=source,
        resource_id=as_str(resource.get("id")),
        status=status,
        name=names[0] if names else drug.code_display or "unnamed medication",
        drug=drug,
        started=supply.start,
        supply=supply,
        dose_steps=dose_steps(dosage) if wants_dose else (),
        strength_mg=strength if wants_dose else None,
        dose_mg_in_name=next((d for d in map(dose_mg_from_text, names) if d is not None), None) if wants_dose else None,
        is_draft=is_draft,
    )


def _dosage_of(resource: Json, source: MedicationSource) -> Any:
    if source is MedicationSource.statement:
        return resource.get("dosage")
    if source is MedicationSource.administration:
        return as_list(resource.get("dosage"))  # a single Dosage-like element
    return resource.get("dosageInstruction")


def _start(resource: Json, source: MedicationSource) -> date | None:
    """The day the record begins: written, started, handed over, or given."""
    if source is MedicationSource.request:
        return parse_date(resource.get("authoredOn"))
    if source is MedicationSource.dispense:
        return parse_date(resource.get("whenHandedOver")) or parse_date(resource.get("whenPrepared"))
    period = as_dict(resource.get("effectivePeriod"))
    return (
        parse_date(period.get("start"))
        or parse_date(resource.get("effectiveDateTime"))
        or (parse_date(resource.get("dateAsserted")) if source is MedicationSource.statement else None)
        or parse_date(period.get("end"))
    )


def _product_strength(medication: Json | None, names: list[str]) -> Strength | None:
    """mg per unit: a single-ingredient Medication's strength ratio, else the one strength the names give."""
    if medication is not None:
        ingredients = as_list(medication.get("ingredient"))
        if len(ingredients) == 1:
            ratio = as_dict(as_dict(ingredients[0]).get("strength"))
            numerator, denominator = as_dict(ratio.get("numerator")), as_dict(ratio.get("denominator"))
            found = strength_from_ratio(
                amount(numerator.get("value"), numerator.get("unit"), numerator.get("code")),
                amount(denominator.get("value"), denominator.get("unit"), denominator.get("code")) if denominator else None,
            )
            if found is not None:
                return found
    return strength_from_names(names)


def _supply_facts(resource: Json, source: MedicationSource, dosage: Any, strength: Strength | None) -> SupplyFacts:
    start = _start(resource, source)
    if source in (MedicationSource.statement, MedicationSource.administration):
        period = as_dict(resource.get("effectivePeriod"))
        return SupplyFacts(
            start=start,
            asserted=parse_date(resource.get("dateAsserted")),
            stated_end=parse_date(period.get("end")) or parse_date(resource.get("effectiveDateTime")),
        )
    daily, free_text = daily_use(dosage)
    if source is MedicationSource.dispense:
        quantity = as_dict(resource.get("quantity"))
        return SupplyFacts(
            start=start,
            supply_days=_duration_days(resource.get("daysSupply")),
            quantity=amount(quantity.get("value"), quantity.get("unit"), quantity.get("code")),
            daily=daily,
            free_text_dosing=free_text,
            strength=strength,
        )
    dispense = as_dict(resource.get("dispenseRequest"))
    quantity = as_dict(dispense.get("quantity"))
    repeats = number(dispense.get("numberOfRepeatsAllowed"))
    return SupplyFacts(
        start=start,
        supply_days=_duration_days(dispense.get("expectedSupplyDuration")),
        quantity=amount(quantity.get("value"), quantity.get("unit"), quantity.get("code")),
        repeats=int(repeats) if repeats is not None and 0 <= repeats <= _MAX_REPEATS else 0,
        validity_end=parse_date(as_dict(dispense.get("validityPeriod")).get("end")),
        daily=daily,
        free_text_dosing=free_text,
        strength=strength,
    )


def _resolve_medication(resource: Json, reference: str | None, medications: Mapping[str, Json]) -> Json | None:
    if reference is None:
        return None
    if reference.startswith("#"):
        for contained in as_list(resource.get("contained")):
            contained = as_dict(contained)
            if contained.get("resourceType") == "Medication" and f"#{contained.get('id')}" == reference:
                return contained
        return None
    return medications.get(reference) or medications.get(medication_key(reference))


def medication_key(reference: str) -> str:
    """``http://ehr/fhir/Medication/7`` and ``Medication/7`` index alike."""
    parts = reference.rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference


def medication_reference(resource: Json) -> str | None:
    """A ``medicationReference`` that points outside the resource (not ``#contained``)."""
    reference = as_str(as_dict(resource.get("medicationReference")).get("reference"))
    return reference if reference and not reference.startswith("#") else None


def _status_code(concept: Any) -> str | None:
    """The first coding's code (or the text) of a status concept: 'active', 'refuted'…"""
    concept = as_dict(concept)
    for coding in as_list(concept.get("coding"))[:_MAX_CODINGS]:
        if code := as_str(as_dict(coding).get("code")):
            return code.lower()
    text = as_str(concept.get("text"))
    return text.lower() if text else None


def condition_entry(resource: Json) -> ConditionEntry | None:
    verification = _status_code(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        return None
    text, concept_codings = read_concept(resource.get("code"))
    names = concept_names(text, concept_codings)
    kinds = classify_condition(((s, c) for s, c, _ in concept_codings if c), names)
    if not kinds:
        return None  # not a condition any rule is about
    clinical = _status_code(resource.get("clinicalStatus"))
    return ConditionEntry(
        resource_id=as_str(resource.get("id")),
        name=names[0] if names else "unnamed condition",
        kinds=kinds,
        # A missing clinicalStatus is read as active: problem lists often omit it.
        active=clinical not in _INACTIVE_CONDITION and verification not in _UNTRUSTED_CONDITION,
        onset=parse_date(resource.get("onsetDateTime")) or parse_date(resource.get("recordedDate")),
        in_remission=clinical == "remission" or in_remission(((s, c) for s, c, _ in concept_codings if c), names),
        clinical_status=clinical,
        refuted=verification == "refuted",
    )
