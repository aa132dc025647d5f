"""Every table, imported once so that metadata (and Alembic) sees them all."""

from app.alerts.models import Alert, AlertEvent, Incident
from app.auth.models import ApiKey
from app.geo.models import Place
from app.inbound.models import InboundMessage
from app.kit.models import Base
from app.people.models import Liaison, Reporter

__all__ = [
    "Alert",
    "AlertEvent",
    "ApiKey",
    "Base",
    "InboundMessage",
    "Incident",
    "Liaison",
    "Place",
    "Reporter",
]
