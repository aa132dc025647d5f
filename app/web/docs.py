"""The API documentation page (/docs) with its assets served by the gateway.

FastAPI's own page loads Swagger UI from a CDN: blank in an office with no internet. The
`fastapi-offline` package ships the bundle; we serve its files ourselves (gzipped, cached by
hash) so nothing on the page leaves the gateway. (Its ReDoc bundle is not used: ReDoc draws a
logo from its vendor's site.)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.kit.errors import NotFound
from app.web.endpoints import MEDIA_TYPES, Asset, make_asset, send_asset

router = APIRouter(tags=["api docs"])

BUNDLES = Path(fastapi_offline.__file__).parent / "static"
_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
_FAVICON = "/ops/favicon.svg"


@lru_cache(maxsize=len(_FILES))
def _bundle(name: str) -> Asset:
    path = BUNDLES / name
    return make_asset(path.read_bytes(), MEDIA_TYPES[path.suffix])


def _url(name: str) -> str:
    return f"/docs/assets/{name}?v={_bundle(name).etag.strip(chr(34))}"


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    """Swagger UI on the gateway's OpenAPI schema."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Kengele API",
        swagger_js_url=_url("swagger-ui-bundle.js"),
        swagger_css_url=_url("swagger-ui.css"),
        swagger_favicon_url=_FAVICON,
    )


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str, request: Request) -> Response:
    """A file of Swagger UI."""
    if name not in _FILES:
        raise NotFound(f"no file {name} in the API documentation")
    return send_asset(request, _bundle(name), "default-src 'none'")
