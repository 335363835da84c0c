"""Naltrexone and opioids must not meet: precipitated withdrawal, blocked analgesia."""

from __future__ import annotations

from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import PatientRecord
from app.rules.exposure import certain, naltrexone_blockades, opioid_exposures, uncertain
from app.rules.findings import Finding, NaltrexoneBlocksOpioid, OpioidConflict, OpioidStatusUnchecked

# The record parts whose absence leaves opioid exposure unknown.
MEDICATION_RECORD = frozenset(
    {"MedicationRequest", "MedicationStatement", "MedicationDispense", "MedicationAdministration", "Medication"}
)


def opioid_conflicts(record: PatientRecord, today: date, clinical: ClinicalSettings) -> list[Finding]:
    findings: list[Finding] = []
    gaps = tuple(gap for gap in record.gaps if gap.resource_type in MEDICATION_RECORD)

    naltrexone_orders = [o for o in record.selected_orders if o.drug.naltrexone is not None]
    if naltrexone_orders:
        bearing = opioid_exposures(record, today, clinical, exclude=naltrexone_orders)
        sure, unsure = certain(bearing), uncertain(bearing)
        for order in naltrexone_orders:
            if sure:
                findings.append(OpioidConflict(naltrexone_order=order, exposures=sure, uncertain=unsure, gaps=gaps))
            elif unsure or gaps:
                findings.append(OpioidStatusUnchecked(naltrexone_order=order, uncertain=unsure, gaps=gaps))

    opioid_orders = [o for o in record.selected_orders if o.drug.is_opioid]
    if opioid_orders:
        # A naltrexone order selected with the opioid is already the critical conflict above.
        blocking = naltrexone_blockades(record, today, clinical, exclude=[*opioid_orders, *naltrexone_orders])
        if blocking:
            findings.extend(NaltrexoneBlocksOpioid(opioid_order=o, blockades=blocking) for o in opioid_orders)
    return findings
