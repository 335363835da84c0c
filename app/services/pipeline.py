"""One hook call end to end: record assembly -> rules -> cards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.cards.render import RenderContext, render_cards
from starlette.concurrency import run_in_threadpool

from app.cards.templates import CardTexts
from app.feedback.identity import CardIdentity
from app.fhir.assembly import Fallback, HookData, assemble_record
from app.fhir.prefetch import RECORD_KEYS
from app.protocol.errors import PreconditionFailed
from app.protocol.models import Card
from app.rules.findings import UnsupportedFhirVersion
from app.security.auth import Principal
from app.security.deployment_secret import patient_key
from app.services.base import CdsService
from app.settings import Settings


# order-sign's cards when it repeats nothing order-select already said (CDS_ORDER_SIGN_SAFETY_ONLY).
_SAFETY = frozenset({"critical", "warning"})


@dataclass(frozen=True, slots=True)
class Pipeline:
    settings: Settings
    templates: CardTexts
    today: Callable[[], date]
    identity: CardIdentity
    secret: bytes  # the deployment secret: keys the patient's stand-in in card identity

    async def cards(
        self,
        service: CdsService,
        hook: HookData,
        pre_r4_type: str | None,
        fallback: Fallback | None,
        principal: Principal | None = None,
    ) -> list[Card]:
        cards = await self._cards(service, hook, pre_r4_type, fallback)
        if not cards:
            return cards  # most chart opens: no card, no database
        issuer, tenant = (principal.iss, principal.tenant) if principal else (None, None)
        return await run_in_threadpool(
            self.identity.issue,
            cards,
            service_id=service.id,
            issuer=issuer,
            patient_key=patient_key(self.secret, issuer, tenant, hook.patient_id),
        )

    async def _cards(
        self, service: CdsService, hook: HookData, pre_r4_type: str | None, fallback: Fallback | None
    ) -> list[Card]:
        render = RenderContext(self.templates, self.settings.clinical, hook.patient_id)
        if pre_r4_type is not None:
            return render_cards([UnsupportedFhirVersion(pre_r4_type)], render, self.settings.max_cards)
        if fallback is None and not any(key in hook.prefetch for key in RECORD_KEYS):
            # Spec: 412 when required data is neither prefetched nor fetchable.
            raise PreconditionFailed(
                "no prefetch was sent and no usable fhirServer was given: send the prefetch "
                "from GET /cds-services, or fhirServer (and fhirAuthorization) to read from"
            )
        record = await assemble_record(hook, fallback)
        findings = service.rules(record, self.today(), self.settings.clinical)
        cards = render_cards(findings, render, self.settings.max_cards)
        if service.hook == "order-sign" and self.settings.order_sign_safety_only:
            cards = [card for card in cards if card.indicator in _SAFETY]
        return cards
