"""The generic HTTP channel: a local aggregator described as data, not code.

Options (all text, given with `--set key=value`):

- inbound: `in_from`, `in_text` (required fields; defaults `from`, `text`), `in_id`
  (provider id; without one the id is derived from sender, text and `in_time`, or the minute
  the post came in when there is no time either: a retry of the minute before's is a replay
  too), `in_to`, `in_time`; authentication
  `auth` = `path` (the secret is the last segment of the URL), `header` (`auth_header`,
  default `Authorization`, must equal `auth_prefix` + secret) or `hmac` (`hmac_header`,
  default `X-Signature`: hex HMAC-SHA256 of the raw body).
- delivery reports (a request with `dlr_status` and no `in_text` field): `dlr_id` (default
  `id`), `dlr_status` (default `status`), `dlr_delivered` and `dlr_failed` (comma-separated
  values of the status field).
- outbound: `out_url`, `out_method` (POST), `out_format` (`form` or `json`), `out_fields`
  (`name={placeholder},...` with {to} {text} {from} {id} {dlr_url} {token} {token2}),
  `out_headers`
  (the same, e.g. `Authorization=Token {token}`), `out_id_path` (dotted path of the
  provider's message id in the JSON answer), `out_ok` (`path=value` the answer must hold).
  Without `out_id_path` (or an answer without the id), a send whose fields or headers carry
  {id} is known by that id of ours, which its delivery reports then name.

Secrets: `secret` (what the aggregator proves itself with) and `token` (what we send it;
`token2` too, for an aggregator that takes two credentials, such as a key and its secret).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

OPTIONS = frozenset(
    {
        "in_from",
        "in_text",
        "in_id",
        "in_to",
        "in_time",
        "auth",
        "auth_header",
        "auth_prefix",
        "hmac_header",
        "dlr_id",
        "dlr_status",
        "dlr_delivered",
        "dlr_failed",
        "out_url",
        "out_method",
        "out_format",
        "out_fields",
        "out_headers",
        "out_id_path",
        "out_ok",
        "secret",
        "token",
        "token2",
    }
)
# An aggregator that posts neither an id nor a time: its retry of a post it got no answer to
# comes within seconds, while the same words sent again are a new report. The minute a post
# came in tells them apart, and a post is also a retry of one the minute before (else a retry
# across a minute's end would be stored twice: its alert would count it as a resend and the
# reporter get a second receipt). A retry within a minute of the first post is always one
# message (up to two minutes, by where the minutes end).
RECEIPT_BUCKET_SECONDS = 60
PLACEHOLDERS = frozenset({"to", "text", "from", "id", "dlr_url", "token", "token2"})
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _pairs(value: str, option: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, sep, template = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"options: {option} is name={{placeholder}},... ({part!r})")
        unknown = set(_PLACEHOLDER.findall(template)) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"options: {option} uses unknown placeholders {sorted(unknown)}")
        out.append((name.strip(), template.strip()))
    return out


def _values(value: str) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class HttpConfig:
    """A generic HTTP channel's options, read and checked."""

    in_from: str
    in_text: str
    in_id: str
    in_to: str
    in_time: str
    auth: str
    auth_header: str
    auth_prefix: str
    hmac_header: str
    dlr_id: str
    dlr_status: str
    dlr_delivered: frozenset[str]
    dlr_failed: frozenset[str]
    out_url: str
    out_method: str
    out_format: str
    out_fields: list[tuple[str, str]]
    out_headers: list[tuple[str, str]]
    out_id_path: str
    out_ok: tuple[str, str] | None

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> HttpConfig:
        """The configuration, or ValueError naming the option that is wrong."""
        get = {k: str(v) for k, v in options.items()}.get
        auth = get("auth", "path")
        if auth not in ("path", "header", "hmac"):
            raise ValueError("options: auth is path, header or hmac")
        out_format = get("out_format", "form")
        if out_format not in ("form", "json"):
            raise ValueError("options: out_format is form or json")
        ok = get("out_ok", "")
        ok_path, sep, ok_value = ok.partition("=")
        if ok and not sep:
            raise ValueError("options: out_ok is path=value")
        return cls(
            in_from=get("in_from", "from"),
            in_text=get("in_text", "text"),
            in_id=get("in_id", ""),
            in_to=get("in_to", ""),
            in_time=get("in_time", ""),
            auth=auth,
            auth_header=get("auth_header", "Authorization"),
            auth_prefix=get("auth_prefix", ""),
            hmac_header=get("hmac_header", "X-Signature"),
            dlr_id=get("dlr_id", "id"),
            dlr_status=get("dlr_status", "status"),
            dlr_delivered=_values(get("dlr_delivered", "delivered,delivrd,success")),
            dlr_failed=_values(get("dlr_failed", "failed,undelivered,undeliv,rejectd,expired")),
            out_url=get("out_url", ""),
            out_method=get("out_method", "POST").upper(),
            out_format=out_format,
            out_fields=_pairs(get("out_fields", "to={to},text={text}"), "out_fields"),
            out_headers=_pairs(get("out_headers", ""), "out_headers"),
            out_id_path=get("out_id_path", ""),
            out_ok=(ok_path.strip(), ok_value.strip()) if ok else None,
        )


def check_auth(
    config: HttpConfig,
    secret: str,
    body: bytes,
    path_token: str | None,
    headers: Mapping[str, str],
) -> str | None:
    """None when the request proves it knows the channel's secret; else what is wrong."""
    if not secret:
        return "the channel has no secret"
    if config.auth == "path":
        given = path_token or ""
        what = "the secret in the URL"
    elif config.auth == "header":
        given = headers.get(config.auth_header.lower(), "")
        secret = config.auth_prefix + secret
        what = f"the {config.auth_header} header"
    else:
        given = headers.get(config.hmac_header.lower(), "").strip().lower()
        secret = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        what = f"the {config.hmac_header} HMAC"
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        return f"missing or wrong {what}"
    return None


def derived_id(sender: str, text: str, when: str) -> str:
    """An id for a provider that gives none: the same event gives the same id."""
    return "sha256:" + hashlib.sha256(f"{sender}\n{when}\n{text}".encode()).hexdigest()[:56]


def message_ids(
    config: HttpConfig, fields: Mapping[str, str], received: datetime
) -> tuple[str, str | None]:
    """The id that de-duplicates a message (≤ 64 characters), and the id of which it is a
    retry too, if any.

    The id is the provider's own (`in_id`), else one derived from sender, text and the
    provider's time (`in_time`), else from sender, text and the minute it was `received`; in
    that last case only, the message is also a retry of the one the minute before derived.

    Sender and text alone would make the same words sent again, days later, a replay of the
    first: a new alert dropped unseen.
    """
    given = fields.get(config.in_id, "") if config.in_id else ""
    if given:
        return given[:64], None
    sender, text = fields[config.in_from], fields[config.in_text]
    when = fields.get(config.in_time, "") if config.in_time else ""
    if when:
        return derived_id(sender, text, when), None
    minute = int(received.timestamp()) // RECEIPT_BUCKET_SECONDS
    return (
        derived_id(sender, text, f"received:{minute}"),
        derived_id(sender, text, f"received:{minute - 1}"),
    )


def fill(template: str, values: Mapping[str, str]) -> str:
    """`template` with its {placeholders} replaced."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def unmatched_reports(config: HttpConfig) -> str | None:
    """Why the channel's delivery reports can match no send, if they cannot: its sends are
    known by no id (no `out_id_path`, no {id} in the request)."""
    if config.out_id_path or not config.out_url or sends_our_id(config):
        return None
    return (
        "its sends are known by no id: set out_id_path (where the answer gives the message "
        "id) or put {id} in out_fields, else its delivery reports match no SMS and a page "
        "that fails there is not passed on"
    )


# The names of fields, headers and URL parameters that carry a credential, by how they end
# (X-Api-Key, access_token, Authorization, password; not keyword).
_CREDENTIAL_NAME = re.compile(
    r"(auth|authorization|token|secret|pass|password|passwd|pwd|key|signature|sig|"
    r"credentials?)$",
    re.I,
)


def literal_credentials(config: HttpConfig) -> list[str]:
    """Where the channel's requests would carry a credential written into an option as it
    is (`out_headers` `Authorization=Bearer abc`, `out_url` `?api_key=abc`): options are
    shown to admins, so a credential goes in the `token` option, put in requests by
    {token}. Each as `option: name`; a value with any placeholder is not counted."""
    pairs = [
        *(("out_fields", name, template) for name, template in config.out_fields),
        *(("out_headers", name, template) for name, template in config.out_headers),
        *(("out_url", name, value) for name, value in parse_qsl(urlsplit(config.out_url).query)),
    ]
    return [
        f"{option}: {name}"
        for option, name, value in pairs
        if _CREDENTIAL_NAME.search(name) and value.strip() and not _PLACEHOLDER.search(value)
    ]


def sends_our_id(config: HttpConfig) -> bool:
    """Whether the send's request gives the provider our id of the message ({id} in a field
    or a header)."""
    templates = (t for _, t in (*config.out_fields, *config.out_headers))
    return any(m.group(1) == "id" for t in templates for m in _PLACEHOLDER.finditer(t))


def at_path(data: Any, path: str) -> Any:
    """The value at a dotted path of a JSON document (None when absent)."""
    for key in filter(None, path.split(".")):
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data
