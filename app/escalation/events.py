"""What subscribed systems hear of an alert (webhooks through the outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.alerts.schemas import PlaceRef, masked
from app.kit.config import Settings
from app.kit.phones import mask, mask_in_text
from app.outbox import subscriptions


def alert_data(alert: Alert) -> dict[str, Any]:
    """An alert as webhook receivers get it (phone numbers masked, in the text too)."""
    return {
        "id": alert.id,
        "ref": alert.ref,
        "kind": alert.kind,
        "status": alert.status,
        "category": alert.category,
        "severity": alert.severity,
        "score": alert.score,
        "body": mask_in_text(alert.body),
        "from_phone": mask(alert.from_phone),
        "place": place.model_dump() if (place := PlaceRef.of(alert)) else None,
        "incident_id": alert.incident_id,
        "summary": mask_in_text(alert.summary) if alert.summary else alert.summary,
        "corrected": list(alert.correction["fields"]) if alert.correction else [],
        "received_at": alert.received_at.isoformat(),
        "updated_at": (alert.updated_at or alert.received_at).isoformat(),
    }


async def emit(
    session: AsyncSession, settings: Settings, event_type: str, alert: Alert, **extra: Any
) -> None:
    """Tell subscribed systems about an alert."""
    await subscriptions.emit_event(
        session,
        settings,
        event_type,
        lambda: {"alert": alert_data(alert), **masked(extra)},
        alert_id=alert.id,
    )
