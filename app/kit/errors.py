"""Domain errors carry their status code; one handler renders them as JSON."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.kit.observability import logged_path

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error response: the error's name and what was wrong."""

    error: str
    detail: Any
    allowed: list[str] | None = Field(
        default=None, description="with 409 on an alert action: the actions allowed now"
    )


_DESCRIPTIONS = {
    304: "Not modified since the ETag given in If-None-Match",
    400: "Bad request (a parameter or cursor that is not valid)",
    401: "Missing, unknown or revoked API key",
    403: "The key's role is too low for this",
    404: "No such object",
    409: "Conflicts with the current state (duplicate, transition not allowed)",
    412: "If-Match does not match the current version",
    422: "Validation error naming the field",
    429: "Too many requests for this key; retry after Retry-After seconds",
    503: "The database is unavailable for now; retry after Retry-After seconds",
}


def errors_doc(*codes: int, auth: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for these error codes (and the API key ones with `auth`)."""
    wanted = sorted({401, 403, 429, *codes} if auth else set(codes))
    out: dict[int | str, dict[str, Any]] = {}
    for code in wanted:
        entry: dict[str, Any] = {"description": _DESCRIPTIONS[code]}
        if code != 304:
            entry["model"] = ErrorBody
        out[code] = entry
    return out


def json_errors_doc(*codes: int) -> dict[int | str, dict[str, Any]]:
    """errors_doc() whose bodies are documented as JSON, not as the route's media type.

    FastAPI files a `model` under the route's response class (text/csv here), while errors
    are rendered as JSON whatever the route: the schema is given with its true media type
    (the JSON routes' errors_doc() puts ErrorBody among the components).
    """
    schema = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
    out: dict[int | str, dict[str, Any]] = {}
    for code, entry in errors_doc(*codes).items():
        out[code] = {"description": entry["description"]}
        if "model" in entry:
            out[code]["content"] = {"application/json": {"schema": schema}}
    return out


class KengeleError(Exception):
    """Base of domain errors: `{"error": <class name>, "detail": ...}` with `status_code`,
    given by a subclass as `class NotFound(KengeleError, status_code=404)`."""

    status_code = 400

    def __init_subclass__(cls, status_code: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status_code is not None:
            cls.status_code = status_code

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extra(self) -> dict[str, Any]:
        """More fields of the error body (e.g. the allowed actions of a 409)."""
        return {}


class NotFound(KengeleError, status_code=404): ...


class Unauthorized(KengeleError, status_code=401): ...


class Forbidden(KengeleError, status_code=403): ...


class BadRequest(KengeleError, status_code=400): ...


class Conflict(KengeleError, status_code=409): ...


class PreconditionFailed(KengeleError, status_code=412): ...


class Unprocessable(KengeleError, status_code=422): ...


class RateLimited(KengeleError, status_code=429):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# Errors that mean "the database is away" (cut, refused, stalled past a deadline), not a bug.
UNAVAILABLE = (DBAPIError, PoolTimeout, ConnectionError, TimeoutError)
RETRY_AFTER_SECONDS = 5
CONFLICT_DETAIL = (
    "another change at the same moment conflicted with this one: nothing of it was kept; "
    "send it again"
)


def database_away(exc: DBAPIError) -> bool:
    """Whether a database error means the connection failed rather than the statement."""
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


# Aborted by the database so that another transaction could go on (a deadlock, a
# serialization failure): the same work retried at once goes through.
_CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})


def conflicted(exc: BaseException) -> bool:
    """Whether the database aborted the transaction for a conflict with another (deadlock
    detected, could not serialize): nothing is wrong with the work, which may be retried at
    once."""
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in _CONFLICT_SQLSTATES
        or getattr(exc.orig, "pgcode", None) in _CONFLICT_SQLSTATES
    )


def unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is away (UNAVAILABLE, and for a database error
    the connection failed), rather than a bug or the data: the whole pass is then retried,
    not the one item set aside."""
    return isinstance(exc, UNAVAILABLE) and (not isinstance(exc, DBAPIError) or database_away(exc))


def install_error_handlers(app: FastAPI) -> None:
    """Render domain, HTTP and validation errors in one JSON shape."""

    async def domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KengeleError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            {"error": type(exc).__name__, "detail": exc.detail, **exc.extra()},
            status_code=exc.status_code,
            headers=headers,
        )

    async def http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # Starlette's own headers: Allow of a 405 above all (RFC 9110 requires it).
        return JSONResponse(
            {"error": "HTTPError", "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
            for err in exc.errors()
        ]
        return JSONResponse({"error": "ValidationError", "detail": problems}, status_code=422)

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        if conflicted(exc):
            # Two changes at one moment locked rows in opposite orders (an OK and a merge):
            # the database aborted this one, whose transaction is rolled back whole. Not a
            # bug, and not the database away: the same request again goes through.
            path = logged_path(request.url.path)
            log.warning("%s %s: aborted for a conflict with another change", request.method, path)
            return JSONResponse(
                {"error": "Conflict", "detail": CONFLICT_DETAIL},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        if isinstance(exc, DBAPIError) and not database_away(exc):
            raise exc  # a bug (a constraint, bad data): the server error it is
        # A small answer, nothing of the error's text (it may quote SQL and parameters), and
        # a normal response: the connection stays usable for the client's next request.
        path = logged_path(request.url.path)
        log.warning("%s %s: database unavailable (%s)", request.method, path, type(exc).__name__)
        return JSONResponse(
            {"error": "ServiceUnavailable", "detail": "database unavailable; retry later"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, unavailable)
    app.add_exception_handler(KengeleError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
    _document_one_error_shape(app)


_ERROR_REF = {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}
# What FastAPI documents by itself for a 422; the handler above answers ErrorBody instead.
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
BAD_BODY = "The body is not JSON (or not UTF-8)"


def _document_one_error_shape(app: FastAPI) -> None:
    """The OpenAPI schema of `app` with every error in ErrorBody's shape.

    FastAPI documents its own 422 body on the routes that do not list 422 themselves, and
    never the 400 it answers to a JSON body it cannot read.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for operation in (op for item in schema["paths"].values() for op in item.values()):
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": _DESCRIPTIONS[422],
                    "content": {"application/json": {"schema": _ERROR_REF}},
                }
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                bad = responses.setdefault(
                    "400", {"content": {"application/json": {"schema": _ERROR_REF}}}
                )
                bad["description"] = "; ".join(filter(None, [bad.get("description"), BAD_BODY]))
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in _FASTAPI_422:
            components.pop(name, None)
        components.setdefault(ErrorBody.__name__, ErrorBody.model_json_schema())
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
