"""Serves the operations-room page and its assets at /ops/."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from app import __version__
from app.kit.config import Settings
from app.kit.deps import SettingsDep
from app.kit.errors import NotFound

router = APIRouter(tags=["ops page"])

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
# index.html names its assets plainly; they are served as name?v=<hash> so a browser may keep
# them for a year and still never runs an old script after an upgrade.
_ASSET_REF = re.compile(r'(src|href)="([A-Za-z0-9_.-]+)"')


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the page, ready to send plain or gzipped."""

    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


def make_asset(body: bytes, media_type: str) -> Asset:
    """An asset of `body`, its gzipped copy and its content hash."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    return Asset(body, gzip.compress(body, mtime=0), f'"{digest}"', media_type)


@lru_cache(maxsize=1)
def assets() -> dict[str, Asset]:
    """Every file of the page by name; the HTML pages' references carry their content hash."""
    out: dict[str, Asset] = {}
    for path in sorted(STATIC.iterdir()):
        media_type = MEDIA_TYPES.get(path.suffix)
        if media_type and path.suffix != ".html":
            out[path.name] = make_asset(path.read_bytes(), media_type)

    def versioned(match: re.Match[str]) -> str:
        attr, name = match.groups()
        if name not in out:
            return match.group(0)
        return f'{attr}="{name}?v={out[name].etag.strip(chr(34))}"'

    for page in sorted(STATIC.glob("*.html")):
        html = _ASSET_REF.sub(versioned, page.read_text(encoding="utf-8"))
        out[page.name] = make_asset(html.encode(), MEDIA_TYPES[".html"])
    return out


def content_security_policy(tile_url: str) -> str:
    """The page may talk to the gateway only (and fetch map tiles when a tile layer is set)."""
    img = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url)
        # {s}.tile.example.org (rotating subdomains) becomes *.tile.example.org
        host = re.sub(r"\{[a-z]+\}", "*", parts.netloc)
        if parts.scheme in ("http", "https") and host:
            img += f" {parts.scheme}://{host}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def send_asset(request: Request, asset: Asset, csp: str) -> Response:
    """One asset with its ETag, cached for a year when asked for by its hash, gzipped if taken."""
    immutable = request.query_params.get("v") == asset.etag.strip('"')
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": csp,
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    # Field offices are on slow links: the page is sent gzipped to any browser that takes it.
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def _send(request: Request, settings: Settings, name: str) -> Response:
    asset = assets().get(name)
    if asset is None:
        raise NotFound(f"no file {name} in the operations page")
    return send_asset(request, asset, content_security_policy(settings.ops_tile_url))


class OpsConfig(BaseModel):
    """What the page needs to know of the gateway's settings."""

    version: str
    tile_url: str
    heartbeat_seconds: float


@router.get("/ops", include_in_schema=False)
async def ops_redirect() -> RedirectResponse:
    """The page lives at /ops/ (its assets are relative to it)."""
    return RedirectResponse("/ops/", status_code=308)


@router.get("/ops/", include_in_schema=False)
async def ops_page(request: Request, settings: SettingsDep) -> Response:
    """The operations-room page."""
    return _send(request, settings, "index.html")


@router.get("/ops/report", include_in_schema=False)
async def ops_report(request: Request, settings: SettingsDep) -> Response:
    """The printable daily situation report (/ops/report?date=YYYY-MM-DD&lang=fr|en)."""
    return _send(request, settings, "report.html")


@router.get("/ops/config.json", response_model=OpsConfig, include_in_schema=False)
async def ops_config(settings: SettingsDep) -> OpsConfig:
    """Tile layer (empty: draw from the gateway's own data) and stream heartbeat."""
    return OpsConfig(
        version=__version__,
        tile_url=settings.ops_tile_url,
        heartbeat_seconds=settings.stream_heartbeat_seconds,
    )


@router.get("/ops/{name}", include_in_schema=False)
async def ops_asset(name: str, request: Request, settings: SettingsDep) -> Response:
    """A script, style sheet or image of the page."""
    return _send(request, settings, name)
