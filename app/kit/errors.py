"""Domain errors carry their status code; one handler renders them as JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class KengeleError(Exception):
    """Base of domain errors: `{"error": <class name>, "detail": ...}` with `status_code`."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(KengeleError):
    status_code = 404


class Unauthorized(KengeleError):
    status_code = 401


class Forbidden(KengeleError):
    status_code = 403


class BadRequest(KengeleError):
    status_code = 400


class Conflict(KengeleError):
    status_code = 409


def install_error_handlers(app: FastAPI) -> None:
    """Render domain, HTTP and validation errors in one JSON shape."""

    async def domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KengeleError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"error": type(exc).__name__, "detail": exc.detail},
            status_code=exc.status_code,
            headers=headers,
        )

    async def http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            {"error": "HTTPError", "detail": exc.detail}, status_code=exc.status_code
        )

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", "")} for err in exc.errors()
        ]
        return JSONResponse({"error": "ValidationError", "detail": problems}, status_code=422)

    app.add_exception_handler(KengeleError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
