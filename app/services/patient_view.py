"""patient-view: LDN follow-up and candidacy when a chart is opened."""

from datetime import date

from app.fhir.record import PatientRecord
from app.rules.findings import Finding
from app.services.base import CdsService
from app.clinical_settings import ClinicalSettings


def _no_findings_yet(record: PatientRecord, today: date, clinical: ClinicalSettings) -> list[Finding]:
    return []


SERVICE = CdsService(
    id="ldn-patient-view",
    hook="patient-view",
    title="Low-dose naltrexone follow-up",
    description="When a chart is opened: low-dose naltrexone titration and safety for patients on or considering it.",
    number=3,
    rules=_no_findings_yet,
    needs_draft_orders=False,
)
