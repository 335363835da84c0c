"""Which of the service's conditions a coded (or named) diagnosis is."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache

from app.knowledge.terminology import ICD10CM, MAX_CACHED_TEXT, SNOMED, normalise_icd10, terminology


class ConditionKind(StrEnum):
    """Condition groups, named as in ``conditions.csv``'s ``condition`` column."""

    multiple_sclerosis = "multiple_sclerosis"
    fibromyalgia = "fibromyalgia"
    complex_regional_pain_syndrome = "complex_regional_pain_syndrome"
    crohns_disease = "crohns_disease"
    painful_diabetic_neuropathy = "painful_diabetic_neuropathy"
    neuropathic_corneal_pain = "neuropathic_corneal_pain"
    chronic_pain = "chronic_pain"
    opioid_use_disorder = "opioid_use_disorder"
    long_term_opioid_use = "long_term_opioid_use"
    alcohol_use_disorder = "alcohol_use_disorder"
    seizure_disorder_epilepsy = "seizure_disorder_epilepsy"
    acute_hepatitis = "acute_hepatitis"
    liver_failure = "liver_failure"


# Conditions in which LDN has been studied (source article; Toljan & Vrooman 2018).
LDN_STUDIED_CONDITIONS = frozenset(
    {
        ConditionKind.fibromyalgia,
        ConditionKind.multiple_sclerosis,
        ConditionKind.complex_regional_pain_syndrome,
        ConditionKind.crohns_disease,
        ConditionKind.painful_diabetic_neuropathy,
        ConditionKind.neuropathic_corneal_pain,
    }
)

# Free-text diagnoses without a code: only unambiguous names.
_NAMES = {
    "fibromyalgia": ConditionKind.fibromyalgia,
    "multiple sclerosis": ConditionKind.multiple_sclerosis,
    "complex regional pain syndrome": ConditionKind.complex_regional_pain_syndrome,
    "crohn's disease": ConditionKind.crohns_disease,
    "crohn disease": ConditionKind.crohns_disease,
    "painful diabetic neuropathy": ConditionKind.painful_diabetic_neuropathy,
    "neuropathic corneal pain": ConditionKind.neuropathic_corneal_pain,
    "corneal neuropathic pain": ConditionKind.neuropathic_corneal_pain,
    "opioid use disorder": ConditionKind.opioid_use_disorder,
    "opioid dependence": ConditionKind.opioid_use_disorder,
    "opiate dependence": ConditionKind.opioid_use_disorder,
    "opioid withdrawal": ConditionKind.opioid_use_disorder,
    "long-term opioid therapy": ConditionKind.long_term_opioid_use,
    "long term opioid therapy": ConditionKind.long_term_opioid_use,
    "long term (current) use of opiate analgesic": ConditionKind.long_term_opioid_use,
    "heroin dependence": ConditionKind.opioid_use_disorder,
    "oud": ConditionKind.opioid_use_disorder,
    "alcohol use disorder": ConditionKind.alcohol_use_disorder,
}
_NAME_PATTERN = re.compile(r"\b(" + "|".join(re.escape(n) for n in _NAMES) + r")\b", re.I)

_REMISSION_TEXT = re.compile(r"\bin remission\b", re.I)

# An ICD-10-CM code belongs to a group if it, or one of its ancestors, is listed:
# descendants share their ancestor's prefix (G35 -> G35.A, M79.7 -> M79.7x).
_SHORTEST_ICD10_CATEGORY = 3


def classify_condition(codings: Iterable[tuple[str, str]], names: Iterable[str]) -> frozenset[ConditionKind]:
    key_codings, key_names = tuple(codings), tuple(names)
    if sum(map(len, key_names)) > MAX_CACHED_TEXT:
        return _classify.__wrapped__(key_codings, key_names)  # too big to keep in the cache
    return _classify(key_codings, key_names)


@lru_cache(maxsize=8192)
def _classify(codings: tuple[tuple[str, str], ...], names: tuple[str, ...]) -> frozenset[ConditionKind]:
    terms = terminology()
    kinds: set[str] = set()
    for system, code in codings:
        if system == SNOMED:
            kinds.update(terms.snomed_conditions.get(code, ()))
        elif system == ICD10CM:
            normalised = normalise_icd10(code)
            for end in range(len(normalised), _SHORTEST_ICD10_CATEGORY - 1, -1):
                if found := terms.icd10_conditions.get(normalised[:end]):
                    kinds.update(found)
                    break
    if not kinds:
        for name in names:
            for match in _NAME_PATTERN.finditer(name or ""):
                kinds.add(_NAMES[match.group(1).lower()])
    return frozenset(ConditionKind(k) for k in kinds)


def condition_display(codings: Iterable[tuple[str, str]]) -> str | None:
    """The value sets' name of the first known code, for a diagnosis sent without text."""
    displays = terminology().condition_displays
    for system, code in codings:
        if found := displays.get((system, normalise_icd10(code) if system == ICD10CM else code)):
            return found
    return None


def in_remission(codings: Iterable[tuple[str, str]], names: Iterable[str]) -> bool:
    """Whether the diagnosis itself says "in remission" (F11.21, SNOMED 191821007, or its text)."""
    remission = terminology().remission_codes
    for system, code in codings:
        if (system, normalise_icd10(code) if system == ICD10CM else code) in remission:
            return True
    return any(_REMISSION_TEXT.search(name or "") for name in names)
