"""Every table, imported once so that metadata (and Alembic) sees them all."""

from app.alerts.models import Alert, AlertEvent, Incident
from app.audit.models import AuditEntry
from app.auth.models import ApiKey
from app.channels.models import Channel
from app.escalation.models import Escalation, EscalationPolicy
from app.geo.models import Place
from app.inbound.models import InboundMessage
from app.kit.changes import Change, Counter
from app.kit.models import Base
from app.outbox.models import Delivery, DeliveryAttempt, SenderRate, WebhookSubscription
from app.people.models import Liaison, Reporter

__all__ = [
    "Alert",
    "AlertEvent",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Change",
    "Channel",
    "Counter",
    "Delivery",
    "DeliveryAttempt",
    "Escalation",
    "EscalationPolicy",
    "InboundMessage",
    "Incident",
    "Liaison",
    "Place",
    "Reporter",
    "SenderRate",
    "WebhookSubscription",
]
