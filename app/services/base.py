"""What a CDS service is: its discovery entry and the rules it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.fhir.record import PatientRecord
from app.rules.findings import Finding
from app.clinical_settings import ClinicalSettings

Rules = Callable[[PatientRecord, date, ClinicalSettings], list[Finding]]


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    rules: Rules
    needs_draft_orders: bool
