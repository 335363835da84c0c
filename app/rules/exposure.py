"""Opioid exposure and naltrexone blockade on a given day, from the last-use model.

An opioid counts until its opioid-free window has passed after its last possible
use; naltrexone counts as blocking until its supply ends plus a margin, or for
about 28 days after an extended-release injection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import MedicationUse, PatientRecord
from app.knowledge.medications import NaltrexoneProduct, OpioidClass
from app.rules.last_use import Judgement, Level, judge


@dataclass(frozen=True, slots=True)
class Exposure:
    """One opioid or naltrexone record that still bears on today."""

    use: MedicationUse
    judgement: Judgement

    @property
    def level(self) -> Level:
        return self.judgement.level


def opioid_free_window_days(use: MedicationUse, clinical: ClinicalSettings) -> int:
    if use.drug.opioid_class is OpioidClass.methadone_buprenorphine:
        return clinical.opioid_free_days_methadone_buprenorphine
    if use.drug.opioid_class is OpioidClass.extended_release:
        return clinical.opioid_free_days_extended_release
    return clinical.opioid_free_days_short_acting


def blockade_window_days(use: MedicationUse, clinical: ClinicalSettings) -> int:
    if use.drug.naltrexone is NaltrexoneProduct.er_injectable_380mg:
        return clinical.naltrexone_er_blockade_days
    return clinical.naltrexone_oral_blockade_margin_days


def opioid_exposures(
    record: PatientRecord, today: date, clinical: ClinicalSettings, exclude: Iterable[MedicationUse] = ()
) -> tuple[Exposure, ...]:
    """Opioids taken now, or possibly within their opioid-free window (levels exposure and possible).

    ``exclude`` leaves out the orders under consideration themselves.
    """
    return _bearing_on_today(
        (u for u in _uses(record, exclude) if u.drug.is_opioid), today, clinical, opioid_free_window_days
    )


def naltrexone_blockades(
    record: PatientRecord, today: date, clinical: ClinicalSettings, exclude: Iterable[MedicationUse] = ()
) -> tuple[Exposure, ...]:
    """Naltrexone that blocks (or possibly still blocks) opioids today."""
    return _bearing_on_today(
        (u for u in _uses(record, exclude) if u.drug.naltrexone is not None), today, clinical, blockade_window_days
    )


def _uses(record: PatientRecord, exclude: Iterable[MedicationUse]) -> Iterable[MedicationUse]:
    skipped = {id(use) for use in exclude}
    return (use for use in (*record.medications, *record.draft_orders) if id(use) not in skipped)


def _bearing_on_today(
    uses: Iterable[MedicationUse],
    today: date,
    clinical: ClinicalSettings,
    window: Callable[[MedicationUse, ClinicalSettings], int],
) -> tuple[Exposure, ...]:
    found: list[Exposure] = []
    for use in uses:
        judgement = judge(use, today, window(use, clinical), clinical)
        if judgement.level >= Level.possible:
            found.append(Exposure(use, judgement))
    return tuple(found)


def certain(exposures: Iterable[Exposure]) -> tuple[Exposure, ...]:
    return tuple(e for e in exposures if e.level is Level.exposure)


def uncertain(exposures: Iterable[Exposure]) -> tuple[Exposure, ...]:
    return tuple(e for e in exposures if e.level is Level.possible)
