"""One hook call end to end: record assembly -> rules -> cards -> card identity.

Built once per process in the app's lifespan, with the FHIR client it reads through; a
route only authenticates, parses, and calls :meth:`Pipeline.cards`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from starlette.concurrency import run_in_threadpool

from app.cards.render import RenderContext, render_cards
from app.cards.templates import CardTexts
from app.cds.errors import PreconditionFailed
from app.cds.models import Card
from app.deadline import Deadline
from app.feedback.identity import CardIdentity
from app.fhir.assembly import Fallback, HookData, assemble_record
from app.fhir.client import FhirClient, ReadBudget
from app.fhir.prefetch import RECORD_KEYS
from app.rules.findings import UnsupportedFhirVersion
from app.security.auth import Principal
from app.security.deployment_secret import patient_key
from app.security.fhir_trust import fhir_access
from app.services.catalog import CdsService
from app.settings import Settings
from app.storage.database import DatabaseError

log = logging.getLogger("ldn_cds.pipeline")

# order-sign's cards when it repeats nothing order-select already said (CDS_ORDER_SIGN_SAFETY_ONLY).
_SAFETY = frozenset({"critical", "warning"})


@dataclass(frozen=True, slots=True)
class Pipeline:
    settings: Settings
    templates: CardTexts
    today: Callable[[], date]
    identity: CardIdentity
    secret: bytes  # the deployment secret: keys the patient's stand-in in card identity
    fhir_client: FhirClient

    async def cards(
        self, service: CdsService, hook: HookData, principal: Principal | None, deadline: Deadline
    ) -> list[Card]:
        """The cards to answer with, each recorded as issued (snoozed info topics left out)."""
        cards = await self._cards(service, hook, self._fallback(hook, principal, deadline))
        if not cards:
            return cards  # most chart opens: no card, no database
        issuer, tenant = (principal.iss, principal.tenant) if principal else (None, None)
        try:
            return await run_in_threadpool(
                self.identity.issue,
                cards,
                service_id=service.id,
                issuer=issuer,
                patient_key=patient_key(self.secret, issuer, tenant, hook.patient_id),
            )
        except DatabaseError as exc:
            # The cards matter more than their bookkeeping: answer them unrecorded (no snooze
            # applied; feedback on them will be refused) rather than fail the clinician's call.
            log.warning("cards answered without card identity", extra={"error": str(exc), "service": service.id})
            return cards

    def _fallback(self, hook: HookData, principal: Principal | None, deadline: Deadline) -> Fallback | None:
        """This call's reads from its FHIR server, if it may be read, with the call's own budget."""
        access = fhir_access(hook.fhir_server, hook.fhir_authorization, hook.patient_id, self.settings, principal)
        if access is None:
            return None
        budget = ReadBudget(
            max_requests=self.settings.fhir_max_requests_per_call,
            max_bytes=self.settings.fhir_max_bytes_per_call,
            max_concurrent=self.settings.fhir_max_concurrent_requests_per_call,
        )
        return Fallback(self.fhir_client, access, deadline, budget, self.settings.fhir_medication_batch_size)

    async def _cards(self, service: CdsService, hook: HookData, fallback: Fallback | None) -> list[Card]:
        render = RenderContext(self.templates, self.settings.clinical, hook.patient_id)
        if hook.pre_r4_type is not None:
            return render_cards([UnsupportedFhirVersion(hook.pre_r4_type)], render, self.settings.max_cards)
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
