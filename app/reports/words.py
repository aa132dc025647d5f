"""The daily report's words in French and English, and how times, durations and places are
written in them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from app.alerts.models import Alert

Lang = Literal["fr", "en"]

WORDS: dict[Lang, dict[str, str]] = {
    "fr": {
        "title": "Rapport de situation quotidien",
        "day": "Journée du {day} (heure locale, {tz})",
        "generated": "Établi le {at}",
        "summary": "Résumé",
        "summary.line": "{n} alertes reçues : {sev}. Prises en charge : {ack}.",
        "summary.none": "Aucune alerte reçue ce jour.",
        "by_territoire": "Alertes par territoire et catégorie",
        "territoire": "Territoire",
        "unknown": "lieu inconnu",
        "total": "Total",
        "map": "Carte des alertes du jour",
        "map.none": "Aucune alerte localisée ce jour.",
        "times": "Délais de réponse",
        "to_ack": "Réception → prise en charge",
        "to_resolve": "Réception → clôture",
        "median": "médiane",
        "p90": "90 %",
        "count": "alertes",
        "open": "Alertes ouvertes en fin de journée",
        "open.none": "Aucune alerte ouverte.",
        "alerts": "Alertes du jour",
        "ref": "Réf.",
        "received": "Reçue",
        "severity": "Gravité",
        "category": "Catégorie",
        "place": "Lieu",
        "status": "Statut",
        "message": "Message",
        "sev.critical": "critique",
        "sev.high": "élevée",
        "sev.medium": "moyenne",
        "sev.low": "faible",
        "st.new": "nouvelle",
        "st.acknowledged": "prise en charge",
        "st.verified": "vérifiée",
        "st.resolved": "résolue",
        "st.false_alarm": "fausse alerte",
        "cat.ATTACK": "Attaque",
        "cat.ABDUCTION": "Enlèvement",
        "cat.SEXUAL_VIOLENCE": "Violences sexuelles",
        "cat.CLASH": "Affrontements",
        "cat.ARSON": "Incendie",
        "cat.LOOTING": "Pillage",
        "cat.ARMED_PRESENCE": "Présence armée",
        "cat.DISPLACEMENT": "Déplacement",
        "cat.THREAT": "Menace",
        "cat.OTHER": "Autre",
        "cat.FLASH": "Appel manqué",
    },
    "en": {
        "title": "Daily situation report",
        "day": "{day} (local time, {tz})",
        "generated": "Generated {at}",
        "summary": "Summary",
        "summary.line": "{n} alerts received: {sev}. Acknowledged: {ack}.",
        "summary.none": "No alert received that day.",
        "by_territoire": "Alerts by territoire and category",
        "territoire": "Territoire",
        "unknown": "place unknown",
        "total": "Total",
        "map": "Map of the day's alerts",
        "map.none": "No alert with a place that day.",
        "times": "Response times",
        "to_ack": "Received → acknowledged",
        "to_resolve": "Received → resolved",
        "median": "median",
        "p90": "90th percentile",
        "count": "alerts",
        "open": "Alerts open at the end of the day",
        "open.none": "No open alert.",
        "alerts": "Alerts of the day",
        "ref": "Ref.",
        "received": "Received",
        "severity": "Severity",
        "category": "Category",
        "place": "Place",
        "status": "Status",
        "message": "Message",
        "sev.critical": "critical",
        "sev.high": "high",
        "sev.medium": "medium",
        "sev.low": "low",
        "st.new": "new",
        "st.acknowledged": "acknowledged",
        "st.verified": "verified",
        "st.resolved": "resolved",
        "st.false_alarm": "false alarm",
        "cat.ATTACK": "Attack",
        "cat.ABDUCTION": "Abduction",
        "cat.SEXUAL_VIOLENCE": "Sexual violence",
        "cat.CLASH": "Clash",
        "cat.ARSON": "Arson",
        "cat.LOOTING": "Looting",
        "cat.ARMED_PRESENCE": "Armed presence",
        "cat.DISPLACEMENT": "Displacement",
        "cat.THREAT": "Threat",
        "cat.OTHER": "Other",
        "cat.FLASH": "Missed call",
    },
}


class Words:
    """The report's words in one language."""

    def __init__(self, lang: Lang, timezone: str) -> None:
        self.lang = lang
        self.words = WORDS[lang]
        self.zone = ZoneInfo(timezone)

    def __call__(self, key: str, **values: object) -> str:
        """The text of `key` (the key itself when unknown), with its {values}."""
        return self.words.get(key, key.split(".", 1)[-1]).format(**values)

    def local(self, moment: datetime, with_day: bool = False) -> str:
        """A time (and day) in the gateway's zone."""
        return moment.astimezone(self.zone).strftime("%d/%m %H:%M" if with_day else "%H:%M")

    def duration(self, seconds: float | None) -> str:
        """12 min, 1 h 05, or a dash."""
        if seconds is None:
            return "-"
        minutes = round(seconds / 60)
        if minutes < 60:
            return f"{minutes} min"
        return f"{minutes // 60} h {minutes % 60:02d}"

    def place(self, alert: Alert) -> str:
        """Place (territoire), or that it is unknown."""
        if not alert.place_name:
            return self("unknown")
        if alert.admin2 and alert.admin2 != alert.place_name:
            return f"{alert.place_name} ({alert.admin2})"
        return alert.place_name
