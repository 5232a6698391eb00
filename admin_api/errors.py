"""Domain errors → JSON with a stable `code`. The only place HTTP statuses are chosen."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cases.errors import (
    AuthenticationFailed,
    Conflict,
    DecryptionError,
    EnrolmentRequired,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    SpeakUpError,
    TooManyAttempts,
)

STATUS: list[tuple[type[SpeakUpError], int]] = [
    (AuthenticationFailed, 401),
    (Forbidden, 403),
    (EnrolmentRequired, 403),
    (TooManyAttempts, 429),
    # A session whose keys cannot open a case is refused like a missing permission (P3).
    (DecryptionError, 403),
    (NotFound, 404),
    (InvalidTransition, 409),
    (Conflict, 409),
    (InvalidInput, 422),
]


def _status_of(exc: SpeakUpError) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    async def domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SpeakUpError)  # noqa: S101 - registered for this type only
        body: dict[str, object] = {"code": exc.code, "message": str(exc)}
        if isinstance(exc, InvalidTransition):
            body["allowed"] = exc.allowed
            if exc.via is not None:
                body["via"] = exc.via
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationFailed) else None
        if isinstance(exc, TooManyAttempts):
            body["retry_after"] = exc.retry_after
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(body, status_code=_status_of(exc), headers=headers)

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        fields = [".".join(str(p) for p in err["loc"]) for err in exc.errors()]
        return JSONResponse(
            {"code": "validation_error", "message": "invalid request", "fields": fields},
            status_code=422,
        )

    async def http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        code = {
            401: "authentication_required",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
        }
        return JSONResponse(
            {"code": code.get(exc.status_code, "http_error"), "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(SpeakUpError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
