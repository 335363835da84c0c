"""CDS Hooks 2.0 endpoints: discovery and service invocation."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.fhir.assembly import Fallback
from app.fhir.prefetch import PREFETCH_TEMPLATES
from app.protocol.errors import BadRequest, NotFound, PayloadTooLarge, describe_validation_error
from app.protocol.fhir_trust import fhir_access
from app.protocol.hook_context import hook_data
from app.protocol.models import CardsResponse, DiscoveryResponse, HookRequest, ServiceDescription
from app.services import SERVICES
from app.services.base import CdsService

router = APIRouter()

_HOOK_REQUEST_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": HookRequest.model_json_schema(ref_template="#/components/schemas/{model}")}},
    }
}


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def discovery_document() -> dict[str, Any]:
    services = [
        ServiceDescription(
            hook=s.hook, title=s.title, description=s.description, id=s.id, prefetch=PREFETCH_TEMPLATES
        )
        for s in SERVICES.values()
    ]
    return DiscoveryResponse(services=services).model_dump(exclude_none=True)


@router.get("/cds-services", response_model=DiscoveryResponse, response_model_exclude_none=True)
async def discovery() -> JsonResponse:
    return JsonResponse(discovery_document())


def service_or_404(service_id: str) -> CdsService:
    service = SERVICES.get(service_id)
    if service is None:
        raise NotFound(f"no CDS service with id '{service_id}'")
    return service


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 413 past the size limit, 400 if not a JSON object."""
    limit = request.app.state.settings.max_request_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc.msg}") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("body must be a JSON object")
    return parsed


@router.post(
    "/cds-services/{service_id}",
    response_model=CardsResponse,
    response_model_exclude_none=True,
    openapi_extra=_HOOK_REQUEST_SCHEMA,
    responses={400: {}, 404: {}, 412: {}, 413: {}},
)
async def invoke(service_id: str, request: Request) -> JsonResponse:
    service = service_or_404(service_id)
    body = await read_json_object(request)
    try:
        hook_request = HookRequest.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(describe_validation_error(exc)) from exc
    data, pre_r4_type = hook_data(service, hook_request)

    state = request.app.state
    access = fhir_access(hook_request, data.patient_id, state.settings)
    fallback = (
        Fallback(state.fhir_client, access, state.settings.fhir_deadline_seconds) if access is not None else None
    )
    cards = await state.pipeline.cards(service, data, pre_r4_type, fallback)
    return JsonResponse({"cards": [card.model_dump(exclude_none=True) for card in cards]})
