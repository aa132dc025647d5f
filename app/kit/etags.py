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


def not_modified_or_json(
    request: Request, model: BaseModel, *, etag: str | None = None
) -> Response:
    """The model as JSON with an ETag (a hash of the body unless given), or 304 if unchanged."""
    body = model.model_dump_json().encode()
    tag = etag or '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if _matches(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})
