"""order-select: the clinician has picked a medication but not signed it yet."""

from app.rules.opioid_conflict import opioid_conflicts
from app.services.base import CdsService

SERVICE = CdsService(
    id="ldn-order-select",
    hook="order-select",
    title="Naltrexone and opioid safety (order selection)",
    description=(
        "While naltrexone or an opioid is being ordered: flags current opioid exposure "
        "(precipitated withdrawal, blocked analgesia) and naltrexone that would block an opioid."
    ),
    number=1,
    rules=opioid_conflicts,
    needs_draft_orders=True,
)
