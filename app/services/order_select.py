"""order-select: the clinician has picked a medication but not signed it yet."""

from app.rules.ldn_orders import order_findings
from app.services.base import CdsService

SERVICE = CdsService(
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
