"""Raw FHIR R4 JSON -> record entries, by light reading.

Full ``fhir.resources`` validation costs ~100x a JSON parse and real EHR data is
quirky, so inputs are read defensively: a field of the wrong shape is ignored,
never an error. Only what the rules need is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from app.fhir.record import ConditionEntry, DoseStep, MedicationSource, MedicationUse
from app.knowledge.conditions import classify_condition
from app.knowledge.dose import dose_mg_from_quantity, dose_mg_from_text
from app.knowledge.medications import NOT_A_KNOWN_DRUG, classify_medication
from app.knowledge.terminology import RXNORM, canonical_system

Json = dict[str, Any]

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


def as_dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """FHIR arrays; some clients send a single object where an array belongs."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _name(value: Any) -> str | None:
    text = as_str(value)
    return text[:_MAX_NAME_CHARS] if text else None


def parse_date(value: Any) -> date | None:
    """FHIR date/dateTime/instant -> its calendar date (partial dates -> first day)."""
    text = as_str(value)
    if text is None:
        return None
    try:
        if len(text) >= 10:
            return date.fromisoformat(text[:10])
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        if len(text) == 4:
            return date(int(text), 1, 1)
    except ValueError:
        return None
    return None


def _add_days(day: date | None, days: int) -> date | None:
    try:
        return day + timedelta(days=days) if day else None
    except OverflowError:  # whenHandedOver "9999-12-31" plus a supply
        return date.max


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
        if dose is None:  # STU3 shape, still sent by some clients
            dose = _quantity_mg(dosage.get("doseQuantity"))
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
    """One MedicationRequest/Statement/Dispense.

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
    # Only naltrexone needs its dose read (dose class, titration state).
    wants_dose = drug.naltrexone is not None

    if source is MedicationSource.request:
        started = parse_date(resource.get("authoredOn"))
        supply_end = None
        steps = dose_steps(resource.get("dosageInstruction")) if wants_dose else ()
    elif source is MedicationSource.statement:
        period = as_dict(resource.get("effectivePeriod"))
        started = (
            parse_date(period.get("start"))
            or parse_date(resource.get("effectiveDateTime"))
            or parse_date(resource.get("dateAsserted"))
        )
        supply_end = parse_date(period.get("end"))
        steps = dose_steps(resource.get("dosage")) if wants_dose else ()
    else:
        started = parse_date(resource.get("whenHandedOver")) or parse_date(resource.get("whenPrepared"))
        days = _duration_days(resource.get("daysSupply"))
        supply_end = _add_days(started, days) if days is not None else started
        steps = dose_steps(resource.get("dosageInstruction")) if wants_dose else ()

    return MedicationUse(
        source=source,
        resource_id=as_str(resource.get("id")),
        status=status,
        name=names[0] if names else "unnamed medication",
        drug=drug,
        started=started,
        supply_end=supply_end,
        dose_steps=steps,
        strength_mg=strength if wants_dose else None,
        dose_mg_in_name=next((d for d in map(dose_mg_from_text, names) if d is not None), None) if wants_dose else None,
        is_draft=is_draft,
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
    )
