"""order-sign: the same safety check again at signing, on the complete orders."""

from app.rules.ldn_orders import order_findings
from app.services.base import CdsService

SERVICE = CdsService(
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
