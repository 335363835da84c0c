"""The CDS services this deployment offers: each one's discovery entry and the rules it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.clinical_settings import ClinicalSettings
from app.domain.record import PatientRecord
from app.rules.findings import Finding
from app.rules.follow_up import patient_view_findings
from app.rules.order_findings import order_findings

Rules = Callable[[PatientRecord, date, ClinicalSettings], list[Finding]]


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    rules: Rules
    needs_draft_orders: bool


# order-select: the clinician has picked a medication but not signed it yet.
ORDER_SELECT = CdsService(
    id="ldn-order-select",
    hook="order-select",
    title="Naltrexone ordering: opioid safety and low-dose positioning",
    description=(
        "While naltrexone or an opioid is being ordered: flags current opioid exposure "
        "(precipitated withdrawal, blocked analgesia), naltrexone that would block an opioid, "
        "checks the naltrexone dose and says where low-dose naltrexone stands for this patient."
    ),
    rules=order_findings,
    needs_draft_orders=True,
)

# order-sign: the same checks at signing, on every draft order (safety cards only by default).
ORDER_SIGN = CdsService(
    id="ldn-order-sign",
    hook="order-sign",
    title="Naltrexone and opioid safety (order signing)",
    description=(
        "At signing: flags naltrexone ordered despite recent or current opioid use or opioid "
        "dependence on record, and opioids ordered while naltrexone blocks them; checks the dose."
    ),
    rules=order_findings,
    needs_draft_orders=True,
)

# patient-view: a chart is opened; quiet unless something is due.
PATIENT_VIEW = CdsService(
    id="ldn-patient-view",
    hook="patient-view",
    title="Low-dose naltrexone follow-up",
    description=(
        "When a chart is opened: low-dose naltrexone titration steps and reassessment when due, "
        "opioid exposure while on naltrexone, and LDN as a third/fourth-line option for refractory patients."
    ),
    rules=patient_view_findings,
    needs_draft_orders=False,
)

SERVICES: dict[str, CdsService] = {service.id: service for service in (ORDER_SELECT, ORDER_SIGN, PATIENT_VIEW)}
