"""patient-view: LDN follow-up, safety and candidacy when a chart is opened."""

from app.rules.ldn_followup import patient_view_findings
from app.services.base import CdsService

SERVICE = CdsService(
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
