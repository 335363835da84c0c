"""What ``/openapi.json`` says about the CDS Hooks endpoints, so that it matches what is sent.

- The hook and feedback bodies are read by hand (size limit first, lenient parsing), so
  FastAPI does not see them as parameters: their schemas are written in place here, from
  the same pydantic models that read them.
- ``service_id`` is read from the path by hand too, so an unknown id is our 404, not a
  validation error; the parameter is documented here with the service ids as an enum. With
  no declared parameter or body, FastAPI adds no 422 response, which we never send (every
  validation failure is a 400).
- Error answers are documented with their real body, the ``OperationOutcome`` model; the
  401 has no body.
- Examples come from ``openapi_examples.json``, which ``python -m devtools.openapi_examples``
  builds from the fixture patients and which a test keeps true (``tests/api/test_openapi.py``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from app.cds.models import HookRequest, OperationOutcome
from app.feedback.models import FeedbackRequest
from app.services.catalog import SERVICES

EXAMPLES_FILE = "openapi_examples.json"


@cache
def examples() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("app.api").joinpath(EXAMPLES_FILE).read_text(encoding="utf-8"))
    return loaded


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with nested models written in place (no ``$defs``/``$ref``).

    FastAPI does not register these models (the bodies are read by hand); a ``$ref`` into
    ``components`` would point nowhere in ``/openapi.json``.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: v for k, v in value.items() if k != "$ref"}
                return inline({**definitions[ref.removeprefix("#/$defs/")], **rest})
            return {k: inline(v) for k, v in value.items()}
        if isinstance(value, list):
            return [inline(v) for v in value]
        return value

    inlined: dict[str, Any] = inline(schema)
    return inlined


def _service_id_parameter() -> dict[str, Any]:
    return {
        "name": "service_id",
        "in": "path",
        "required": True,
        "description": "A service id from discovery (GET /cds-services); any other id is answered with 404.",
        "schema": {"type": "string", "enum": list(SERVICES)},
    }


def _body(model: type[BaseModel], example_key: str) -> dict[str, Any]:
    content = {"schema": inline_schema(model), "example": examples()[example_key]}
    return {"required": True, "content": {"application/json": content}}


def hook_call_extra() -> dict[str, Any]:
    return {"parameters": [_service_id_parameter()], "requestBody": _body(HookRequest, "hookRequest")}


def feedback_extra() -> dict[str, Any]:
    return {"parameters": [_service_id_parameter()], "requestBody": _body(FeedbackRequest, "feedbackRequest")}


def _error(description: str) -> dict[str, Any]:
    return {
        "model": OperationOutcome,
        "description": description + " (FHIR OperationOutcome; the message is in issue[0].diagnostics)",
    }


UNAUTHORIZED: dict[str, Any] = {
    "description": "No client JWT (production), or a JWT that failed a check. No body: the reason is "
    "only counted in ldn_cds_auth_failures_total and logged."
}
BAD_REQUEST = _error(
    "The body is not JSON or not a JSON object, a required field is missing or malformed "
    "(hook, hookInstance, context, context.patientId, context.draftOrders), or hook does not match the service"
)
BAD_FEEDBACK = _error(
    "The body is not JSON or not a JSON object, or a feedback item lacks a field or has a malformed one (the diagnostics name it)"
)
NOT_FOUND = _error("No CDS service with this id")
PRECONDITION_FAILED = _error(
    "Nothing was prefetched and there is no fhirServer this service may read (CDS Hooks 2.0 §412)"
)
TOO_LARGE = _error("The body is larger than CDS_MAX_REQUEST_BYTES")
UNAVAILABLE = _error(
    "The database (JWT replay store, feedback) cannot be reached, or the worker is at its limit of "
    "requests in progress (Retry-After); retry later"
)
TIMEOUT = _error("The body did not arrive within CDS_BODY_READ_TIMEOUT_SECONDS")
TOO_MANY = _error(
    "The issuer has sent CDS_FEEDBACK_MAX_ITEMS_PER_ISSUER_PER_HOUR feedback items this hour (Retry-After)"
)


def hook_call_responses() -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {"application/json": {"example": examples()["cardsResponse"]}}},
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        404: NOT_FOUND,
        408: TIMEOUT,
        412: PRECONDITION_FAILED,
        413: TOO_LARGE,
        503: UNAVAILABLE,
    }


def feedback_responses() -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {"application/json": {"example": {"received": 1}}}},
        400: BAD_FEEDBACK,
        401: UNAUTHORIZED,
        404: NOT_FOUND,
        408: TIMEOUT,
        413: TOO_LARGE,
        429: TOO_MANY,
        503: UNAVAILABLE,
    }


def discovery_responses() -> dict[int | str, dict[str, Any]]:
    return {401: UNAUTHORIZED, 503: UNAVAILABLE}
