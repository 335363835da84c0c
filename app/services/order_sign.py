"""order-sign: the same safety check again at signing, on the complete orders."""

from app.rules.ldn_orders import order_findings
from app.services.base import CdsService

SERVICE = CdsService(
    id="ldn-order-sign",
    hook="order-sign",
    title="Naltrexone and opioid safety (order signing)",
    description=(
        "At signing: flags naltrexone ordered despite current opioid exposure, "
        "and opioids ordered for a patient who takes naltrexone."
    ),
    number=2,
    rules=order_findings,
    needs_draft_orders=True,
)
