"""Naltrexone dose: read it from text, and say which kind of naltrexone order it is."""

from __future__ import annotations

import re
from enum import StrEnum

from app.knowledge.medications import NaltrexoneProduct
from app.clinical_settings import ClinicalSettings

# "4.5 mg", "4.5mg", "4,5 mg", "1.5 milligrams", "500 mcg"
_DOSE = re.compile(
    r"(?<![\w.,])(\d{1,4}(?:[.,]\d{1,3})?)\s*(mg|milligrams?|mcg|micrograms?|µg)\b",
    re.IGNORECASE,
)

_MG_UNITS = {"mg", "milligram", "milligrams"}
# Not a clinical threshold: a data-sanity bound. No naltrexone product comes near 10 g a
# dose; anything above is a data error (1e308 g), and is read as "dose unknown".
_IMPLAUSIBLE_DOSE_MG = 10_000.0


def _plausible(mg: float) -> float | None:
    return mg if 0 <= mg <= _IMPLAUSIBLE_DOSE_MG else None
_UCUM_TO_MG = {"mg": 1.0, "ug": 0.001, "g": 1000.0}


def dose_mg_from_text(text: str | None) -> float | None:
    """The first dose written in ``text``, in mg; ``None`` if no dose is written."""
    if not text:
        return None
    match = _DOSE.search(text)
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return _plausible(value if match.group(2).lower() in _MG_UNITS else value / 1000.0)


def dose_mg_from_quantity(value: object, unit: object, code: object) -> float | None:
    """A FHIR Quantity in mg (UCUM ``mg``/``ug``/``g``, or a ``unit`` string such as 'mg')."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    for candidate in (code, unit):
        if isinstance(candidate, str):
            factor = _UCUM_TO_MG.get(candidate.strip().lower().replace("µ", "u").replace("mc", "u"))
            if factor is not None:
                return _plausible(float(value) * factor)
    return None


class DoseClass(StrEnum):
    low_dose = "low-dose"
    below_low_dose_range = "below-low-dose-range"
    above_low_dose_max = "above-low-dose-max"
    standard_oral = "standard-oral"
    er_injectable = "er-injectable"
    bupropion_combination = "naltrexone-bupropion"
    unknown = "unknown"


def classify_naltrexone_dose(
    product: NaltrexoneProduct, dose_mg: float | None, clinical: ClinicalSettings
) -> DoseClass:
    """Which naltrexone order this is. A missing dose is ``unknown``, never guessed."""
    if product is NaltrexoneProduct.bupropion_combination:
        return DoseClass.bupropion_combination
    if product is NaltrexoneProduct.er_injectable_380mg:
        return DoseClass.er_injectable
    if product is NaltrexoneProduct.oral_50mg:
        return DoseClass.standard_oral
    if dose_mg is None or dose_mg <= 0:
        return DoseClass.unknown
    if dose_mg < clinical.ldn_min_mg:
        return DoseClass.below_low_dose_range
    if dose_mg <= clinical.ldn_max_mg:
        return DoseClass.low_dose
    if dose_mg < clinical.standard_oral_mg:
        return DoseClass.above_low_dose_max
    if dose_mg >= clinical.er_injectable_mg:
        return DoseClass.er_injectable
    return DoseClass.standard_oral
