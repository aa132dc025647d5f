"""A liaison leaving the duty roster (put off duty, or deactivated): their pages still queued
go to the next liaison instead; a liaison's number changed: their pages still queued go to the
new number.

A page waits in the outbox behind the sending number's rate, or for a channel during an
outage (hours, at worst). The worker does not look at the roster when it claims one: a page
written for a liaison who has since gone off duty, or left, would still reach them. So when
a liaison leaves the roster, each alert's queued page to them is passed on as a page that
failed is (app.escalation.service.on_page_failed: the next on-duty liaison of the zone not
paged yet, else its JOC, else any JOC officer), and cancelled, with the calls reading it.

When it is not passed on (nobody is left to take it, or the alert is no longer new), the
page of a liaison put off duty still goes to them (they can still answer it: better than
nobody); that of a deactivated liaison is cancelled
(their number may be someone else's by now, and their OK would be refused).

A page is written with its liaison's number of the moment. A liaison whose number changed
(a lost phone, a new SIM) would still be paged at the old one, which may be someone else's by
now: their queued pages and calls take the new number.

A community liaison moved to other zones is no longer the one to page for the alerts of the
zones they lost: their queued pages of those alerts are passed on as above (when nobody else
can take one, it stays theirs).

The same holds for the roster changed by `kengele import liaisons` (`apply_liaisons`).

A liaison who comes on duty (or is added, made active again, given a zone) while an alert of
their zone is still new and its paging reached nobody (nobody was on duty at its steps, or
every page failed) is paged for it: otherwise nobody would be until the operations room
noticed, the policy's steps being over or paging nobody.

Locks: the alerts' escalations first (in alert order), then the queued rows, the order an
OK's stop takes them (app.escalation.paging.stop: the escalation, then its pending pages);
then the escalations of the alerts nobody has, one by one in alert order. A page a worker
holds at that moment (being sent) is left to it. An import changes liaison after liaison in
one transaction, so its escalations are not locked in one order overall: should PostgreSQL
abort it for a deadlock, nothing of it is kept and the command says so (run it again).

A page a worker held while its liaison went off duty, or was moved to zones without its
alert's place (a page written for their zone, `of_zone`), whose send then failed, goes back
to its queue in the worker's transaction; `requeued` passes it on there as the roster's change
would have (it locks that alert's escalation only, in the order the worker's batch takes).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncSession

from app.escalation import service as escalation
from app.kit.config import Settings
from app.kit.importing import ImportReport, Progress
from app.outbox import service as outbox
from app.outbox.models import Delivery
from app.people import importers
from app.people import service as people
from app.people.importers import ParsedPeople
from app.people.models import Liaison
from app.people.schemas import LiaisonCreate, LiaisonUpdate


async def update(
    session: AsyncSession,
    settings: Settings,
    liaison_id: int,
    body: LiaisonUpdate,
    *,
    region: str,
    actor: str,
) -> Liaison:
    """Change a liaison (app.people.service.update_person); one who left the roster (put off
    duty, or deactivated) has their queued pages passed on, one whose number changed has
    them go to the new number."""
    zones_before = list((await people.get_person(session, Liaison, liaison_id)).zones)
    liaison = await people.update_person(
        session, Liaison, liaison_id, body, region=region, actor=actor
    )
    may_page_anew = bool(body.model_fields_set & _MAKES_PAGEABLE)
    await follow_roster(
        session, settings, liaison, page_unpaged=may_page_anew, zones_before=zones_before
    )
    return liaison


# The fields whose change may make a liaison one to page for alerts nobody has.
_MAKES_PAGEABLE = frozenset({"on_duty", "active", "zones", "tier"})


async def apply_liaisons(
    session: AsyncSession,
    parsed: ParsedPeople,
    progress: Progress | None = None,
    *,
    settings: Settings,
) -> ImportReport:
    """Import liaisons (app.people.importers.apply_liaisons); each listed follows the roster
    as `update` makes them (`follow_roster`): those the file takes off it (`on_duty` or
    `active` false) have their queued pages passed on, those who may be paged are paged for
    the alerts nobody has."""
    phones = [r.phone for r in parsed.records]
    before = await people.liaisons_by_phones(session, phones)
    zones_before = {liaison.id: list(liaison.zones) for liaison in before.values()}
    report = await importers.apply_liaisons(session, parsed, progress)
    listed = await people.liaisons_by_phones(session, phones)
    for liaison in sorted(listed.values(), key=lambda found: found.id):
        await follow_roster(session, settings, liaison, zones_before=zones_before.get(liaison.id))
    return report


async def create(
    session: AsyncSession, settings: Settings, body: LiaisonCreate, *, region: str, actor: str
) -> Liaison:
    """Add a liaison (app.people.service.create_liaison); the alerts nobody has that they
    would be paged for are paged to them."""
    liaison = await people.create_liaison(session, body, region=region, actor=actor)
    await follow_roster(session, settings, liaison)
    return liaison


async def deactivate(
    session: AsyncSession, settings: Settings, liaison_id: int, *, actor: str
) -> Liaison:
    """Deactivate a liaison (app.people.service.deactivate); their queued pages are passed on."""
    liaison = await people.deactivate(session, Liaison, liaison_id, actor=actor)
    await follow_roster(session, settings, liaison)
    return liaison


async def follow_roster(
    session: AsyncSession,
    settings: Settings,
    liaison: Liaison,
    *,
    page_unpaged: bool = True,
    zones_before: Sequence[str] | None = None,
) -> None:
    """The liaison's pages and calls still queued, made to follow the roster as it is now:
    to their number of now; passed on to the next liaison if they may not be paged any more
    (the module's docstring says when one stays), or, of a liaison whose zones were
    `zones_before`, those of alerts no longer in their zones. With `page_unpaged`, one who
    may be paged is paged for the alerts nobody has (app.escalation.service.page_on_duty)."""
    alert_ids = sorted(await outbox.queued_paging_alerts(session, liaison.id))
    if alert_ids and await _changes_queued(session, liaison, zones_before):
        for alert_id in alert_ids:
            await escalation.lock_of_alert(session, alert_id)
        queued = await outbox.lock_queued_paging(session, liaison.id, alert_ids)
        for row in queued:
            outbox.readdress_queued(row, liaison.phone)
        if not people.pageable(liaison):
            await _pass_on(session, settings, liaison, queued)
        elif zones_before is not None:
            away = await escalation.out_of_zones(session, liaison, zones_before, alert_ids)
            moved = [row for row in queued if row.alert_id in away]
            await _pass_on(session, settings, liaison, moved, reason=ZONES_CHANGED)
    if page_unpaged:
        await escalation.page_on_duty(session, settings, liaison)


ZONES_CHANGED = "liaison's zones changed"


async def requeued(session: AsyncSession, settings: Settings, delivery: Delivery) -> None:
    """A page or call that failed and went back to its queue (a retry, the next channel, the
    wait for one), in the worker's transaction that recorded it: if its liaison went off duty
    while it was being sent, or was moved to zones without its alert's place (a page written
    for their zone: `of_zone`), it is passed on as the roster's change passed their queued
    pages on (that change left it alone: a worker held it). A deactivated liaison's is given
    up on instead, and passed on (app.outbox.service.apply_result, the worker's `gave_up`).
    Only this alert's escalation is locked, the one the worker's batch order allows."""
    if delivery.liaison_id is None or delivery.alert_id is None:
        return
    liaison = await people.find_person(session, Liaison, delivery.liaison_id)
    if liaison is None:
        return
    reason = None
    if people.pageable(liaison):
        if not delivery.of_zone or not await escalation.left_zone_of(
            session, liaison, delivery.alert_id
        ):
            return
        reason = ZONES_CHANGED
    await escalation.lock_of_alert(session, delivery.alert_id)
    queued = await outbox.lock_queued_paging(session, liaison.id, [delivery.alert_id])
    await _pass_on(session, settings, liaison, queued, reason=reason)


async def _changes_queued(
    session: AsyncSession, liaison: Liaison, zones_before: Sequence[str] | None
) -> bool:
    """Whether the liaison's queued pages must change: they may not be paged any more, their
    zones lost one, or the pages carry another number. Otherwise they are not locked, so
    that the worker is not kept from them until the roster's change commits (an import of
    many liaisons)."""
    if not people.pageable(liaison):
        return True
    if zones_before is not None and _lost_zone(zones_before, liaison.zones):
        return True
    return await outbox.queued_elsewhere(session, liaison.id, liaison.phone)


def _lost_zone(before: Sequence[str], now: Sequence[str]) -> bool:
    return bool({z.lower() for z in before} - {z.lower() for z in now})


async def _pass_on(
    session: AsyncSession,
    settings: Settings,
    liaison: Liaison,
    queued: Sequence[Delivery],
    *,
    reason: str | None = None,
) -> None:
    gone = not liaison.active
    reason = reason or ("liaison deactivated" if gone else "liaison off duty")
    for _, of_alert in groupby(queued, key=lambda d: d.alert_id):
        rows = list(of_alert)
        instead = None
        page = next((d for d in rows if d.purpose == "page"), None)
        if page is not None:
            instead = await escalation.on_page_failed(session, settings, page, reason=reason)
        if instead is not None or gone:
            for row in rows:
                outbox.cancel_queued(row, reason)
