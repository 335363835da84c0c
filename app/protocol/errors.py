"""Client errors as short JSON bodies: never a stack trace, never a 500 for bad input."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException


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
    return {"error": {"status": status, "message": message}}


def describe_validation_error(error: ValidationError | RequestValidationError) -> str:
    """'context: Field required; hookInstance: Input should be a valid string'."""
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, exc: Unauthorized) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ProtocolError)
    async def _protocol(_: Request, exc: ProtocolError) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, exc.message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(400, describe_validation_error(exc)), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Logged by the server with its traceback; the client learns nothing internal.
        return JSONResponse(error_body(500, "internal error"), status_code=500)
