"""Africa's Talking: its SMS callbacks, which it does not sign.

Incoming messages are posted as a form `from, to, text, date, id, linkId`; delivery reports
as `id, status, failureReason` (and `phoneNumber`, `networkCode`, `retryCount`). Nothing
proves who posted them, so the callback URL carries the channel's secret
(`/webhooks/africastalking/NAME/SECRET`), and an optional allow-list of source addresses
(`allow`: addresses or networks, comma-separated) narrows who may post.
"""

from __future__ import annotations

import ipaddress

# Final statuses of a delivery report; the others (Sent, Submitted, Buffered) are on the way.
DELIVERED = frozenset({"success"})
FAILED = frozenset({"failed", "rejected", "absentsubscriber", "expired"})
# Per-recipient status codes of the send API that mean accepted (Processed, Sent, Queued).
ACCEPTED_CODES = frozenset({100, 101, 102})
# Codes that will not change on a retry: sender id, number, blacklist, do-not-disturb.
PERMANENT_CODES = frozenset({402, 403, 404, 406, 409})


def allowed(allow: str, address: str | None) -> bool:
    """Whether `address` is in the allow-list (an empty list allows every address)."""
    entries = [a.strip() for a in allow.split(",") if a.strip()]
    if not entries:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in entries)


def check_allow_list(allow: str) -> None:
    """Raise ValueError naming the entry of `allow` that is no address or network."""
    for entry in filter(None, (a.strip() for a in allow.split(","))):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ValueError(f"options: allow: {entry!r} is no address or network") from exc


def report_status(status: str) -> str | None:
    """Our delivery status for a delivery report's status (None: not final yet)."""
    value = status.strip().lower()
    if value in DELIVERED:
        return "delivered"
    if value in FAILED:
        return "failed"
    return None
