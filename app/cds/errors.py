"""Client errors as short FHIR ``OperationOutcome`` bodies: never a stack trace, never a 500
for bad input. The message is in ``issue[0].diagnostics``. A refused client JWT stays a bare
401 with no body (CDS Hooks security best practice)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from app.cds.models import OperationOutcome, OperationOutcomeIssue

# FHIR R4 issue-type codes (http://hl7.org/fhir/issue-type) for the statuses we answer with.
_ISSUE_CODES = {
    400: "invalid",
    404: "not-found",
    405: "not-supported",
    412: "incomplete",
    413: "too-long",
    415: "not-supported",
    500: "exception",
    503: "transient",
}


class ProtocolError(Exception):
    status_code = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers


class BadRequest(ProtocolError):
    status_code = 400


class NotFound(ProtocolError):
    status_code = 404


class PayloadTooLarge(ProtocolError):
    status_code = 413


class PreconditionFailed(ProtocolError):
    status_code = 412


class RequestTimeout(ProtocolError):
    status_code = 408


class TooManyRequests(ProtocolError):
    status_code = 429


class ServiceUnavailable(ProtocolError):
    status_code = 503


class Unauthorized(Exception):
    """A missing or refused client JWT. Answered with a bare 401: the caller learns nothing
    about which check failed (CDS Hooks security best practice)."""


def error_body(status: int, message: str) -> dict[str, object]:
    """The OperationOutcome for an error answer with this status and message."""
    issue = OperationOutcomeIssue(
        severity="fatal" if status >= 500 else "error",
        code=_ISSUE_CODES.get(status, "processing"),
        diagnostics=message,
    )
    return OperationOutcome(issue=[issue]).model_dump()


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


def describe_validation_error(error: ValidationError | RequestValidationError) -> str:
    """'context: Field required; hookInstance: Input should be a valid string'."""
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


class OperationOutcomeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, except that a refused preflight (a plain-text 400 there)
    is answered with an OperationOutcome like every other error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = error_response(response.status_code, f"CORS preflight refused: {bytes(response.body).decode()}")
        for name, value in response.headers.items():
            if name not in {"content-type", "content-length"}:
                refused.headers[name] = value
        return refused


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, exc: Unauthorized) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ProtocolError)
    async def _protocol(_: Request, exc: ProtocolError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged by the server with its traceback; the client learns nothing internal. This
        # answer is sent outside the other middleware, so it carries their headers itself.
        headers = getattr(request.app.state, "error_headers", None)
        return error_response(500, "internal error", headers)
