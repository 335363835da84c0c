"""CDS Hooks 2.0 endpoints: discovery, service invocation and feedback.

Every one of them checks the client JWT first (``app/security/auth.py``), against the
audience ``CDS_PUBLIC_BASE_URL`` + the path called, before reading the body.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from app.api.deps import CardIdentityDep, FeedbackStoreDep, MetricsDep, PipelineDep, SettingsDep
from app.api.hook_context import hook_data
from app.api.openapi import (
    discovery_responses,
    feedback_extra,
    feedback_responses,
    hook_call_extra,
    hook_call_responses,
)
from app.cds.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    TooManyRequests,
    describe_validation_error,
)
from app.cds.models import (
    Card,
    CardsResponse,
    DiscoveryResponse,
    FeedbackReceived,
    HookRequest,
    ServiceDescription,
)
from app.deadline import Deadline
from app.feedback.models import FeedbackRequest
from app.feedback.store import FeedbackVolumeExceeded, feedback_records
from app.fhir.prefetch import PREFETCH_TEMPLATES
from app.ops.metrics import Metrics
from app.security.auth import authenticate
from app.services.catalog import SERVICES, CdsService
from app.settings import Settings
from app.storage.database import DatabaseError

router = APIRouter()
ModelT = TypeVar("ModelT", bound=BaseModel)
log = logging.getLogger("ldn_cds.feedback")


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_SAFETY_ONLY_NOTE = " Safety cards only (critical and warning): advice cards come at order-select."
_ALL_CARDS_NOTE = " All cards, advice included (this deployment does not rely on order-select)."


def _description(service: CdsService, settings: Settings) -> str:
    if service.hook != "order-sign":
        return service.description
    return service.description + (_SAFETY_ONLY_NOTE if settings.order_sign_safety_only else _ALL_CARDS_NOTE)


def discovery_document(settings: Settings) -> dict[str, Any]:
    services = [
        ServiceDescription(
            hook=s.hook, title=s.title, description=_description(s, settings), id=s.id, prefetch=PREFETCH_TEMPLATES
        )
        for s in SERVICES.values()
    ]
    return DiscoveryResponse(services=services).model_dump(exclude_none=True)


def _observe(request: Request, endpoint: str, service_id: str | None = None) -> None:
    """Tell the request log and metrics what this request is (labels from fixed sets only)."""
    request.state.endpoint = endpoint
    if service_id is not None:
        request.state.service = service_id if service_id in SERVICES else "unknown"


_MAX_LOGGED_HOOK_INSTANCE = 64


@router.get(
    "/cds-services",
    response_model=DiscoveryResponse,
    response_model_exclude_none=True,
    responses=discovery_responses(),
)
async def discovery(request: Request, settings: SettingsDep) -> JsonResponse:
    _observe(request, "discovery")
    await authenticate(request, "/cds-services", call_deadline(settings))
    return JsonResponse(discovery_document(settings))


def call_deadline(settings: Settings) -> Deadline:
    """The deadline for everything this call waits on outside the process (JWKS, FHIR),
    counted from its arrival: EHRs give up on a call after a few seconds in total."""
    return Deadline.after(settings.fhir_deadline_seconds)


def service_or_404(service_id: str) -> CdsService:
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound(f"no CDS service with id '{service_id}'")
    return service


async def read_json_object(request: Request, settings: Settings) -> dict[str, Any]:
    """The body as a JSON object: 413 past the size limit, 408 past the time limit, 400 if not a JSON object."""
    limit = settings.max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    body = bytearray()
    seconds = settings.body_read_timeout_seconds
    try:
        async with asyncio.timeout(seconds):  # a total time: a body trickled byte by byte is cut off
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise PayloadTooLarge(f"request body over {limit} bytes")
    except TimeoutError:
        raise RequestTimeout(
            f"request body not received within {seconds:g} s", headers={"Connection": "close"}
        ) from None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc.msg}") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("body must be a JSON object")
    return parsed


async def read_model(request: Request, model: type[ModelT], settings: Settings) -> ModelT:
    """The body as ``model``: 413 past the size limit, 400 naming the field that is wrong."""
    body = await read_json_object(request, settings)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc)) from exc


@router.post(
    "/cds-services/{service_id}",  # noqa: FAST003 - read from the path by hand, so an unknown id is our 404 (openapi.py)
    response_model=CardsResponse,
    response_model_exclude_none=True,
    openapi_extra=hook_call_extra(),
    responses=hook_call_responses(),
)
async def invoke(request: Request, settings: SettingsDep, pipeline: PipelineDep, metrics: MetricsDep) -> JsonResponse:
    service_id: str = request.path_params["service_id"]  # by hand: an unknown id is a 404 (openapi.py)
    _observe(request, "service", service_id)
    deadline = call_deadline(settings)
    principal = await authenticate(request, f"/cds-services/{service_id}", deadline)
    service = service_or_404(service_id)
    hook_request = await read_model(request, HookRequest, settings)
    request.state.hook_instance = hook_request.hookInstance[:_MAX_LOGGED_HOOK_INSTANCE]
    cards = await pipeline.cards(service, hook_data(service, hook_request), principal, deadline)
    _count_cards(request, metrics, service, cards)
    return JsonResponse({"cards": [card.model_dump(exclude_none=True) for card in cards]})


def _count_cards(request: Request, metrics: Metrics, service: CdsService, cards: list[Card]) -> None:
    request.state.cards = len(cards)
    counter = metrics.cards
    for card in cards:
        kind = card.source.topic.code if card.source.topic else "unknown"
        counter.labels(service=service.id, kind=kind, indicator=card.indicator).inc()


@router.post(
    "/cds-services/{service_id}/feedback",  # noqa: FAST003 - read from the path by hand, so an unknown id is our 404 (openapi.py)
    response_model=FeedbackReceived,
    openapi_extra=feedback_extra(),
    responses=feedback_responses(),
)
async def feedback(
    request: Request,
    settings: SettingsDep,
    identity: CardIdentityDep,
    store: FeedbackStoreDep,
    metrics: MetricsDep,
) -> JsonResponse:
    """Store card feedback; answers 200 only once every item is committed (retries are no-ops)."""
    service_id: str = request.path_params["service_id"]
    _observe(request, "feedback", service_id)
    principal = await authenticate(request, f"/cds-services/{service_id}/feedback", call_deadline(settings))
    service = service_or_404(service_id)
    parsed = await read_model(request, FeedbackRequest, settings)
    issuer = principal.iss if principal else None
    try:
        issued = await run_in_threadpool(identity.issued, [item.card for item in parsed.feedback])
    except DatabaseError as exc:
        raise ServiceUnavailable("feedback could not be checked; retry later") from exc
    # Only cards this deployment issued, by this service, to this client: feedback cannot be
    # invented for cards nobody saw, nor sent about another EHR's cards.
    for item in parsed.feedback:
        card = issued.get(item.card)
        if card is None or card.issuer != issuer or card.service_id != service.id:
            raise BadRequest(
                f"feedback for card {item.card[:64]}: not a card this service issued to this client, or expired"
            )
    records = feedback_records(
        service.id,
        parsed,
        topics={uuid: card.topic for uuid, card in issued.items()},
        issuer=issuer,
        tenant=principal.tenant if principal else None,
    )
    limit = settings.feedback_max_items_per_issuer_per_hour
    try:
        await run_in_threadpool(partial(store.save, records, hourly_limit=limit))
        # Accepted or overridden advice stays quiet for that patient (info cards only).
        await run_in_threadpool(identity.snooze, [issued[item.card] for item in parsed.feedback])
    except FeedbackVolumeExceeded as exc:
        log.warning("feedback refused: hourly volume limit", extra={"service": service.id, "detail": str(exc)})
        # The window is a rolling hour: when room frees up depends on when earlier items came.
        # Ten minutes is a polite first wait for a client that retries.
        raise TooManyRequests(
            f"feedback limit reached: at most {limit} items per client per hour; retry later",
            headers={"Retry-After": "600"},
        ) from exc
    except DatabaseError as exc:
        log.error("feedback not stored", extra={"error": str(exc), "service": service.id})
        raise ServiceUnavailable("feedback could not be stored; retry later") from exc
    request.state.feedback_items = len(records)
    for record in records:
        metrics.feedback.labels(kind=record.card_kind or "unknown", outcome=record.outcome).inc()
    return JsonResponse({"received": len(records)})
