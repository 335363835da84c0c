"""Naltrexone and opioids must not meet: precipitated withdrawal, blocked analgesia."""

from __future__ import annotations

from datetime import date

from app.fhir.record import PatientRecord
from app.rules.exposure import current_naltrexone, current_opioid_exposure
from app.rules.findings import Finding, NaltrexoneBlocksOpioid, OpioidConflict, OpioidStatusUnchecked
from app.clinical_settings import ClinicalSettings

# The record parts whose absence leaves opioid exposure unknown.
_MEDICATION_RECORD = frozenset({"MedicationRequest", "MedicationStatement", "MedicationDispense", "Medication"})


def opioid_conflicts(record: PatientRecord, today: date, clinical: ClinicalSettings) -> list[Finding]:
    findings: list[Finding] = []
    gaps = tuple(gap for gap in record.gaps if gap.resource_type in _MEDICATION_RECORD)

    naltrexone_orders = [o for o in record.selected_orders if o.drug.naltrexone is not None]
    if naltrexone_orders:
        exposures = current_opioid_exposure(record, today, clinical, exclude=naltrexone_orders)
        for order in naltrexone_orders:
            if exposures:
                findings.append(OpioidConflict(naltrexone_order=order, exposures=exposures, gaps=gaps))
            elif gaps:
                findings.append(OpioidStatusUnchecked(naltrexone_order=order, gaps=gaps))

    opioid_orders = [o for o in record.selected_orders if o.drug.is_opioid]
    if opioid_orders:
        # A naltrexone order selected with the opioid is already the critical conflict above.
        naltrexone = current_naltrexone(record, today, exclude=[*opioid_orders, *naltrexone_orders])
        if naltrexone:
            findings.extend(NaltrexoneBlocksOpioid(opioid_order=o, naltrexone=naltrexone) for o in opioid_orders)
    return findings
