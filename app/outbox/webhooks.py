"""Outbound webhooks, sender side of the Standard Webhooks spec (https://www.standardwebhooks.com).

Every request carries `webhook-id` (the same on every retry of one event), `webhook-timestamp`
(integer seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
keyed with the bytes behind a `whsec_<base64>` secret; receivers verify with any Standard
Webhooks library.

Targets are user-supplied URLs, so they are checked against server-side request forgery: only
http(s), no credentials in the URL, and no host that is or resolves to a private, loopback,
link-local, multicast, reserved, unspecified or carrier-grade NAT address (unless
`allow_private`). The check runs when a subscription is made and again before every send;
redirects are never followed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx

from app.kit.clock import as_utc
from app.kit.errors import KengeleError
from app.kit.http import parse_retry_after as kit_parse_retry_after
from app.providers.types import SendResult

SECRET_PREFIX = "whsec_"
USER_AGENT = "Kengele-Webhooks/1"
# A receiver's Retry-After is honoured up to this many seconds.
MAX_RETRY_AFTER = 3600.0
# Per-operation (connect, write, read) timeout, and a deadline on the whole attempt.
TIMEOUT_SECONDS = 10.0
DEADLINE_SECONDS = 30.0
# At most this much of a failed response's body is read, for the error message.
ERROR_EXCERPT_BYTES = 300

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


# --- Signing -------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except ValueError as exc:
        raise ValueError("webhook secret is not whsec_ followed by base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one message: `v1,<base64 HMAC-SHA256>`."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def new_message_id() -> str:
    """A `webhook-id`: made once per event and stored, so that every retry repeats it."""
    return "msg_" + secrets.token_urlsafe(18)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _iso_utc(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def event_body(event_type: str, data: dict[str, Any], at: datetime) -> bytes:
    """The payload `{"type", "timestamp", "data"}` as compact JSON (ASCII only).

    `at` is written as ISO 8601 in UTC with a `Z` (a naive datetime is read as UTC); datetimes,
    dates, UUIDs and Decimals inside `data` are written as strings.
    """
    payload = {"type": event_type, "timestamp": _iso_utc(at), "data": data}
    text = json.dumps(payload, separators=(",", ":"), default=_json_default, allow_nan=False)
    return text.encode("ascii")


# --- Target check --------------------------------------------------------------------------


class WebhookTargetError(KengeleError):
    """A webhook URL that may not be called: bad scheme, credentials, or a non-public host."""

    status_code = 422


class UnresolvableTarget(WebhookTargetError):
    """The target's host name does not resolve (possibly a transient DNS failure)."""


def _problem(ip: IPAddress) -> str | None:
    """What makes an address unfit for a webhook target ("a loopback address"), or None."""
    kind = _kind(ip)
    if kind is None:
        return None
    return ("an " if kind[0] in "aeiouIU" else "a ") + kind + " address"


def _kind(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address are judged by that address.
        if ip.ipv4_mapped is not None:
            inner = _kind(ip.ipv4_mapped)
            return None if inner is None else f"IPv4-mapped {inner}"
        if ip in _NAT64:
            inner = _kind(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            return None if inner is None else f"NAT64 {inner}"
        if ip.sixtofour is not None:
            inner = _kind(ip.sixtofour)
            if inner is not None:
                return f"6to4 {inner}"
        if ip.teredo is not None:
            return "Teredo"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolve(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnresolvableTarget(f"{host} does not resolve: {exc}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # An IPv6 sockaddr may carry a zone ("fe80::1%eth0"); the address is before it.
        ip = _literal(str(sockaddr[0]).split("%", 1)[0])
        if ip is not None and ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnresolvableTarget(f"{host} does not resolve to any IP address")
    return addresses


async def check_target(url: str, *, allow_private: bool) -> IPAddress | None:
    """Refuse a webhook URL that may not be called (raises WebhookTargetError).

    Only http and https, no user or password in the URL; unless `allow_private`, the host must
    not be, nor resolve to, a non-public address. Names are resolved with the event loop's
    resolver, which also reads numeric forms such as "2130706433" or "0x7f.1". A name that
    does not resolve raises UnresolvableTarget (a WebhookTargetError).

    Returns the vetted address of a host name (None for a literal address or when private
    targets are allowed): the sender connects to it, so that DNS cannot answer differently
    between this check and the connection.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetError(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookTargetError(
            f"only http and https URLs can be webhook targets, not {scheme or 'no scheme'!r}"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookTargetError("a webhook URL may not carry a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookTargetError("the webhook URL has no host")
    if allow_private:
        return None

    ip = _literal(host.split("%", 1)[0])
    if ip is not None:
        problem = _problem(ip)
        if problem is not None:
            raise WebhookTargetError(f"{host} is {problem}")
        return None

    port = port or (443 if scheme == "https" else 80)
    localhost = host == "localhost" or host.endswith(".localhost")
    try:
        addresses = await _resolve(host, port)
    except UnresolvableTarget:
        if localhost:
            raise WebhookTargetError(f"{host} is a loopback name") from None
        raise
    for address in addresses:
        problem = _problem(address)
        if problem is not None:
            raise WebhookTargetError(f"{host} resolves to {problem} {address}")
    if localhost:
        raise WebhookTargetError(f"{host} is a loopback name")
    return addresses[0]


def pinned(url: str, address: IPAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL with the host replaced by `address`, Host header, TLS server name) of `url`."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal + (f":{parts.port}" if parts.port else "")
    header = host + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": host} if parts.scheme.lower() == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"host": header}, extensions


# --- Sending -------------------------------------------------------------------------------


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a receiver's Retry-After header, capped at MAX_RETRY_AFTER."""
    return kit_parse_retry_after(value, cap=MAX_RETRY_AFTER)


class WebhookSender:
    """Posts signed webhook messages and classifies the outcome as a SendResult.

    One shared HTTP client (close it with `aclose`). `transport` is for tests: an
    `httpx.MockTransport` or `httpx.ASGITransport` in place of the network.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        deadline: float = DEADLINE_SECONDS,
    ) -> None:
        self._deadline = deadline
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            # No proxies, .netrc credentials or certificate paths from the environment.
            trust_env=False,
            headers={"user-agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        await self._client.aclose()

    async def send(
        self,
        *,
        url: str,
        secret: str,
        msg_id: str,
        timestamp: int,
        body: bytes,
        allow_private: bool,
    ) -> SendResult:
        """One attempt to deliver `body`; never raises for delivery problems."""
        try:
            address = await check_target(url, allow_private=allow_private)
        except UnresolvableTarget as exc:
            return SendResult(ok=False, retryable=True, error=exc.detail)
        except WebhookTargetError as exc:
            return SendResult(ok=False, retryable=False, error=f"target refused: {exc.detail}")

        try:
            signature = sign(secret, msg_id, timestamp, body)
        except ValueError as exc:
            return SendResult(ok=False, retryable=False, error=str(exc))
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
        extensions: dict[str, str] = {}
        if address is not None:
            url, host, extensions = pinned(url, address)
            headers.update(host)
        try:
            async with asyncio.timeout(self._deadline):
                return await self._post(url, headers, body, extensions)
        except (TimeoutError, httpx.TimeoutException) as exc:
            return SendResult(ok=False, retryable=True, error=f"timed out: {_describe(exc)}")
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
            return SendResult(ok=False, retryable=False, error=_describe(exc))
        except httpx.TransportError as exc:
            return SendResult(ok=False, retryable=True, error=f"connection: {_describe(exc)}")

    async def _post(
        self, url: str, headers: dict[str, str], body: bytes, extensions: dict[str, str]
    ) -> SendResult:
        request = self._client.build_request(
            "POST", url, headers=headers, content=body, extensions=extensions
        )
        async with contextlib.aclosing(await self._client.send(request, stream=True)) as response:
            status = response.status_code
            if 200 <= status < 300:
                return SendResult(ok=True, provider_status=str(status), http_status=status)
            if 300 <= status < 400:
                location = response.headers.get("location", "")
                return SendResult(
                    ok=False,
                    retryable=False,
                    provider_status=str(status),
                    http_status=status,
                    error=f"HTTP {status} redirect to {location or '(no location)'}; "
                    "redirects are not followed, register the final URL",
                )
            excerpt = await _excerpt(response)
            detail = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
            if status in (408, 429) or status >= 500:
                return SendResult(
                    ok=False,
                    retryable=True,
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                    provider_status=str(status),
                    http_status=status,
                    error=detail,
                )
            return SendResult(
                ok=False,
                retryable=False,
                provider_status=str(status),
                http_status=status,
                error_code=410 if status == 410 else None,
                error=detail,
            )


async def _excerpt(response: httpx.Response) -> str:
    """The start of a response body, without reading more than needed."""
    chunk = b""
    async for part in response.aiter_bytes():
        chunk += part
        if len(chunk) >= ERROR_EXCERPT_BYTES:
            break
    text = chunk[:ERROR_EXCERPT_BYTES].decode("utf-8", errors="replace")
    return " ".join(text.split())


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
