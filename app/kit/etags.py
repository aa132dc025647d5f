"""ETags of JSON answers, and 304 Not Modified when the client has the same one."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
from pydantic import BaseModel


def _matches(request: Request, tag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in wanted or tag in wanted


def etag_for(body: bytes, version: int | None = None) -> str:
    """The ETag of a JSON body, after the object's version when it has one."""
    digest = hashlib.sha256(body).hexdigest()[:24]
    return f'"{version}.{digest}"' if version is not None else f'"{digest}"'


def json_with_etag(model: BaseModel, *, version: int | None = None) -> Response:
    """The model as JSON with its ETag."""
    body = model.model_dump_json().encode()
    return Response(body, media_type="application/json", headers={"ETag": etag_for(body, version)})


def not_modified_or_json(
    request: Request, model: BaseModel, *, version: int | None = None
) -> Response:
    """The model as JSON with an ETag, or 304 when the client has the same one.

    The ETag is a hash of the body, after the object's version when it has one (`"7.3f2a…"`):
    If-Match is checked against the version, 304 is decided on the whole body.
    """
    body = model.model_dump_json().encode()
    tag = etag_for(body, version)
    if _matches(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})
