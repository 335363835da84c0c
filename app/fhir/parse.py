"""Raw FHIR R4 JSON -> record entries, by light reading.

Full ``fhir.resources`` validation costs ~100x a JSON parse and real EHR data is
quirky, so inputs are read defensively: a field of the wrong shape is ignored,
never an error. Only what the rules need is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from app.domain.record import ConditionEntry, DailyUse, DoseStep, MedicationSource, MedicationUse, SupplyFacts
from app.fhir.dosage import daily_use, dose_steps
from app.fhir.memo import Memo, content_key
from app.fhir.values import Json, as_dict, as_list, as_str, duration_days, number, parse_date
from app.knowledge.conditions import ConditionKind, classify_condition, condition_display, in_remission
from app.knowledge.medications import (
    NOT_A_KNOWN_DRUG,
    DrugProfile,
    NaltrexoneProduct,
    classify_medication,
    is_injectable,
)
from app.knowledge.strength import Strength, strength_from_names, strength_from_ratio
from app.knowledge.terminology import RXNORM, canonical_system
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

# More refills than any prescription allows: beyond it the number is a data error.
_MAX_REPEATS = 100

# Readings of repeated pieces (app/fhir/memo.py): a drug's concept and Medication, a dosing,
# a diagnosis code. A patient's record has a few dozen distinct ones; a worker keeps the
# latest thousand of each: typically under a MiB in all, at most ~12 MiB (2 KiB keys).
_PRODUCTS_KEPT = 1024
_DOSINGS_KEPT = 1024
_DIAGNOSES_KEPT = 1024


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


def _medication_concepts(medication: Json) -> list[Any]:
    concepts = [medication.get("code")]
    concepts.extend(as_dict(i).get("itemCodeableConcept") for i in as_list(medication.get("ingredient")))
    return concepts


_UNREAD: Any = object()


class _Product:
    """What a record's drug is, from its concept, its Medication and the reference's display.

    One reading per distinct content, shared by every record that names the drug the same
    way; the strength is read the first time a record needs it (from the same content).
    """

    __slots__ = ("_strength", "drug", "names")

    def __init__(self, names: tuple[str, ...], drug: DrugProfile):
        self.names = names
        self.drug = drug
        self._strength: Strength | None = _UNREAD

    def strength(self, medication: Json | None) -> Strength | None:
        if self._strength is _UNREAD:
            self._strength = _product_strength(medication, [*self.names, self.drug.code_display or ""])
        return self._strength


def _read_product(concept: Any, medication: Json | None, display: Any) -> _Product:
    concepts: list[Any] = [concept]
    if medication is not None:
        concepts.extend(_medication_concepts(medication))
    names: list[str] = []
    rxnorm: list[str] = []
    for each in concepts:
        text, concept_codings = read_concept(each)
        names.extend(concept_names(text, concept_codings))
        rxnorm.extend(code for system, code, _ in concept_codings if system == RXNORM and code)
    if reference_display := _name(display):
        names.append(reference_display)
    return _Product(tuple(names), classify_medication(rxnorm, names))


_products: Memo[_Product] = Memo(_PRODUCTS_KEPT)
_daily_uses: Memo[tuple[DailyUse | None, bool]] = Memo(_DOSINGS_KEPT)
_dose_steps: Memo[tuple[DoseStep, ...]] = Memo(_DOSINGS_KEPT)
_injectables: Memo[bool] = Memo(_DOSINGS_KEPT)  # naltrexone: its routes and dose form say injection


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

    Of a drug the rules are about, only what they read is read (``SupplyFacts`` and
    ``MedicationUse`` say which fields are left empty when): a supply stated in days makes
    the dosing irrelevant to its end, the product's strength matters only for naltrexone
    doses and for a quantity the dosing does not count in, and why a drug was stopped only
    for standard therapies.
    """
    status = (as_str(resource.get("status")) or "").lower()
    if status == "entered-in-error":
        return None

    medication_reference = as_dict(resource.get("medicationReference"))
    medication = _resolve_medication(resource, as_str(medication_reference.get("reference")), medications)
    concept, display = resource.get("medicationCodeableConcept"), medication_reference.get("display")
    product_key = content_key(concept, medication, display)
    product = _products.get(product_key, lambda: _read_product(concept, medication, display))
    drug, names = product.drug, product.names
    if drug is NOT_A_KNOWN_DRUG:
        return None
    # Every drug classified here has a timeline the rules read: opioids (exposure), naltrexone
    # (blockade, LDN history) and standard therapies (trial length). Only naltrexone needs its
    # dose read (dose class, titration state).
    wants_dose = drug.naltrexone is not None
    dosage = _dosage_of(resource, source)
    started = _start(resource, source)
    supply = _supply_facts(resource, source, dosage, started)
    strength = product.strength(medication) if wants_dose or supply.needs_strength else None
    steps: tuple[DoseStep, ...] = ()
    if wants_dose:
        dosage_key = content_key(dosage)
        steps = _dose_steps.get(
            None if dosage_key is None else (dosage_key, strength), lambda: dose_steps(dosage, strength)
        )
        if drug.naltrexone is NaltrexoneProduct.unspecified and _injectables.get(
            None if dosage_key is None or product_key is None else (dosage_key, product_key),
            lambda: is_injectable(_form_words(dosage, medication)),
        ):
            drug = replace(drug, naltrexone=NaltrexoneProduct.er_injectable_380mg)

    return MedicationUse(
        source=source,
        resource_id=as_str(resource.get("id")),
        status=status,
        name=names[0] if names else drug.code_display or "unnamed medication",
        drug=drug,
        started=started,
        supply=supply,
        dose_steps=steps,
        strength=strength,
        status_reason=_status_reason(resource) if drug.therapies else None,  # trial history only
        is_draft=is_draft,
    )


# FHIR medicationrequest-status-reason codes that may arrive without a display.
_STATUS_REASON_CODES = {"sintol": "suspected intolerance"}


def _status_reason(resource: Json) -> str | None:
    """statusReason (a CodeableConcept on requests, a list on statements) as one line of text."""
    names: list[str] = []
    for concept in as_list(resource.get("statusReason")):
        text, codings = read_concept(concept)
        names.extend(concept_names(text, codings) or [_STATUS_REASON_CODES.get(c, c) for _, c, _ in codings if c])
    return "; ".join(dict.fromkeys(names)) or None


def _form_words(dosage: Any, medication: Json | None) -> list[str]:
    """Route and dose-form words: they, not a product name's "suspension", tell an injection."""
    words: list[str] = []
    for item in as_list(dosage):
        text, codings = read_concept(as_dict(item).get("route"))
        words.extend(concept_names(text, codings))
    if medication is not None:
        text, codings = read_concept(medication.get("form"))
        words.extend(concept_names(text, codings))
    return words


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
                amount(denominator.get("value"), denominator.get("unit"), denominator.get("code"))
                if denominator
                else None,
            )
            if found is not None:
                return found
    return strength_from_names(names)


def _supply_facts(resource: Json, source: MedicationSource, dosage: Any, start: date | None) -> SupplyFacts:
    if source in (MedicationSource.statement, MedicationSource.administration):
        period = as_dict(resource.get("effectivePeriod"))
        stated_end = parse_date(period.get("end")) or parse_date(resource.get("effectiveDateTime"))
        return SupplyFacts(
            start=start,
            asserted=parse_date(resource.get("dateAsserted")),
            stated_end=stated_end,
            open_ended=stated_end is None and parse_date(period.get("start")) is not None,
        )
    if source is MedicationSource.dispense:
        supply_days = duration_days(resource.get("daysSupply"))
        if supply_days:  # a stated supply is the supply: quantity and dosing are not read
            return SupplyFacts(start=start, supply_days=supply_days)
        quantity = as_dict(resource.get("quantity"))
        daily, free_text = _daily_use(dosage)
        return SupplyFacts(
            start=start,
            supply_days=supply_days,
            quantity=amount(quantity.get("value"), quantity.get("unit"), quantity.get("code")),
            daily=daily,
            free_text_dosing=free_text,
        )
    dispense = as_dict(resource.get("dispenseRequest"))
    supply_days = duration_days(dispense.get("expectedSupplyDuration"))
    repeats = number(dispense.get("numberOfRepeatsAllowed"))
    repeats = int(repeats) if repeats is not None and 0 <= repeats <= _MAX_REPEATS else 0
    validity_end = parse_date(as_dict(dispense.get("validityPeriod")).get("end"))
    if supply_days:  # a stated supply is the supply: quantity and dosing are not read
        return SupplyFacts(start=start, supply_days=supply_days, repeats=repeats, validity_end=validity_end)
    quantity = as_dict(dispense.get("quantity"))
    daily, free_text = _daily_use(dosage)
    return SupplyFacts(
        start=start,
        supply_days=supply_days,
        quantity=amount(quantity.get("value"), quantity.get("unit"), quantity.get("code")),
        repeats=repeats,
        validity_end=validity_end,
        daily=daily,
        free_text_dosing=free_text,
    )


def _daily_use(dosage: Any) -> tuple[DailyUse | None, bool]:
    return _daily_uses.get(content_key(dosage), lambda: daily_use(dosage))


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


@dataclass(frozen=True, slots=True)
class _Diagnosis:
    """What a Condition's ``code`` says, read once per distinct code (app/fhir/memo.py)."""

    kinds: frozenset[ConditionKind]
    name: str
    in_remission: bool  # the code or its text says so (F11.21, "in remission")
    codings: tuple[tuple[str, str, str | None], ...]


def _read_diagnosis(code: Any) -> _Diagnosis:
    text, concept_codings = read_concept(code)
    names = concept_names(text, concept_codings)
    kinds = classify_condition(((s, c) for s, c, _ in concept_codings if c), names)
    if not kinds:
        return _NOT_A_KNOWN_DIAGNOSIS
    return _Diagnosis(
        kinds=kinds,
        name=names[0]
        if names
        else condition_display((s, c) for s, c, _ in concept_codings if c) or "unnamed condition",
        in_remission=in_remission(((s, c) for s, c, _ in concept_codings if c), names),
        codings=tuple((system, code, display) for system, code, display in concept_codings if code),
    )


_NOT_A_KNOWN_DIAGNOSIS = _Diagnosis(frozenset(), "", False, ())
_diagnoses: Memo[_Diagnosis] = Memo(_DIAGNOSES_KEPT)


def condition_entry(resource: Json) -> ConditionEntry | None:
    verification = _status_code(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        return None
    code = resource.get("code")
    diagnosis = _diagnoses.get(content_key(code), lambda: _read_diagnosis(code))
    if not diagnosis.kinds:
        return None  # not a condition any rule is about
    clinical = _status_code(resource.get("clinicalStatus"))
    return ConditionEntry(
        resource_id=as_str(resource.get("id")),
        name=diagnosis.name,
        kinds=diagnosis.kinds,
        # A missing clinicalStatus is read as active: problem lists often omit it.
        active=clinical not in _INACTIVE_CONDITION and verification not in _UNTRUSTED_CONDITION,
        onset=parse_date(resource.get("onsetDateTime")) or parse_date(resource.get("recordedDate")),
        in_remission=clinical == "remission" or diagnosis.in_remission,
        clinical_status=clinical,
        refuted=verification == "refuted",
        codings=diagnosis.codings,
    )
