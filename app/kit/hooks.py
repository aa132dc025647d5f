"""What runs around a commit: the one primitive behind every side effect of a transaction.

A unit of work has effects that must happen only if, and once, it commits: a metric
counted, the place index rebuilt, a worker or a live stream woken, a change numbered. The
service that causes one asks for it on its own transaction (each is forgotten on rollback):

    hooks.on_commit(session, action)        # after a successful commit
    hooks.before_commit(session, key, step) # in the transaction, just before it commits
    hooks.before_flush(session, key, step)  # before each flush of the transaction
                                            # (a step is asked once per key however often)

One step is *standing*, run before every flush of every session whoever writes: the
version and change number of an alert or an incident, since many services change those
rows (app.kit.changes.track registers it, for the models that declare themselves tracked).
Sessions run all of these when made by app.kit.db.create_sessionmaker (`install`). What a
step keeps about the transaction under way goes in `transaction(session)`, emptied at its
end. A process wakes its own loops (the outbox worker, the live stream) with `add_signal`
on its session factory, and a transaction asks for the wake-up with `signal_on_commit`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

FlushStep = Callable[[Session], None]
CommitStep = Callable[[Session], None]
Action = Callable[[], None]

_BEFORE = "hooks.before_commit"
_FLUSH = "hooks.before_flush"
_AFTER = "hooks.on_commit"
_NOTIFY = "hooks.notify"
_STATE = "kengele_transaction"
_WAKE = "hooks.signals"
_SIGNALS = "kengele_signals"
_INSTALLED = "kengele_hooks"
_ORIGIN = "kengele_origin"
_SERVED = "kengele_served"
# A NOTIFY's payload: the sending factory's origin, then this mark when that process's own
# loops were woken by the same commit (`serves_own_work`).
_SERVED_MARK = ":served"
_standing: dict[str, FlushStep] = {}


def standing(name: str, step: FlushStep) -> None:
    """Run `step(session)` before every flush of every session (registering a name again
    replaces it)."""
    _standing[name] = step


def install(session_class: type[Session]) -> None:
    """Run the standing hooks and the per-transaction ones in sessions of this class."""
    _listen(session_class)
    setattr(session_class, _INSTALLED, True)
    setattr(session_class, _ORIGIN, uuid.uuid4().hex[:16])


def origin(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """What the NOTIFYs of this factory's transactions carry as payload: a listener of the
    same process skips them, its own loops being woken at the commit (`add_signal`)."""
    return _origin_of(sessionmaker.kw.get("sync_session_class", Session))


def _origin_of(session_class: type[Session]) -> str:
    return str(getattr(session_class, _ORIGIN, ""))


def serves_own_work(
    sessionmaker: async_sessionmaker[AsyncSession], *, serving: bool = True
) -> None:
    """Say in this factory's NOTIFYs that its process runs the loops they wake (the outbox
    worker, the escalation steps) and woke them at the commit: a listener in another process
    may leave the work to it for a moment (`served_by_sender`). `serving=False` when the loops
    stop. Only a factory of app.kit.db.create_sessionmaker (a Session class of its own)."""
    setattr(sessionmaker.kw["sync_session_class"], _SERVED, serving)


def sender_of(payload: str) -> str:
    """The origin of the factory that sent a NOTIFY with this payload."""
    return payload.removesuffix(_SERVED_MARK)


def served_by_sender(payload: str) -> bool:
    """Whether the process that sent a NOTIFY with this payload woke its own loops for it."""
    return payload.endswith(_SERVED_MARK)


def _payload_of(session_class: type[Session]) -> str:
    served = _SERVED_MARK if session_class.__dict__.get(_SERVED, False) else ""
    return _origin_of(session_class) + served


def on_commit(session: AsyncSession | Session, action: Action) -> None:
    """Run `action` once the session's transaction commits; forget it on a rollback.

    Counting or waking inside a transaction that later rolls back (and is retried) would
    count twice or wake for nothing."""
    transaction(session).setdefault(_AFTER, []).append(action)


def before_commit(session: AsyncSession | Session, key: str, step: CommitStep) -> None:
    """Run `step(session)` inside the transaction just before it commits, once per `key`."""
    transaction(session).setdefault(_BEFORE, {}).setdefault(key, step)


def before_flush(session: AsyncSession | Session, key: str, step: FlushStep) -> None:
    """Run `step(session)` before each flush of the transaction under way (one per `key`)."""
    transaction(session).setdefault(_FLUSH, {}).setdefault(key, step)


def notify_on_commit(session: AsyncSession | Session, channel: str) -> None:
    """PostgreSQL: NOTIFY `channel` with this transaction (listeners hear it when, and only
    if, it commits). Sent just before the commit, in one statement with the other channels
    asked for, or by a commit step that takes them into its own statement
    (`take_notifications`)."""
    asked: list[str] = transaction(session).setdefault(_NOTIFY, [])
    if channel not in asked:
        asked.append(channel)
    before_commit(session, _NOTIFY, _send_notifications)


def take_notifications(session: AsyncSession | Session) -> list[str]:
    """The channels this transaction still has to notify; the caller now sends them."""
    taken: list[str] = transaction(session).pop(_NOTIFY, [])
    return taken


def notify_sql(session: AsyncSession | Session, channels: list[str]) -> str:
    """The select list that notifies these channels (names are the program's constants;
    the payload, the `origin` of the session's factory, a hex string, and whether its process
    serves its own work)."""
    payload = _payload_of(type(_sync(session)))
    return ", ".join(f"pg_notify('{channel}', '{payload}')" for channel in channels)


async def notify_now(session: AsyncSession, channel: str) -> None:
    """PostgreSQL: NOTIFY `channel` in the session's transaction, with this factory's payload."""
    await session.execute(text(f"SELECT {notify_sql(session, [channel])}"))


def _send_notifications(session: Session) -> None:
    channels = take_notifications(session)
    if channels:
        session.connection().exec_driver_sql(f"SELECT {notify_sql(session, channels)}")


def add_signal(sessionmaker: async_sessionmaker[AsyncSession], key: str, signal: Action) -> None:
    """Let this factory's transactions wake `signal` when they commit (`signal_on_commit`
    with the same key): a process's own loops, woken by its own sessions only."""
    session_class = sessionmaker.kw.get("sync_session_class", Session)
    signals: dict[str, list[Action]] = session_class.__dict__.get(_SIGNALS, {})
    signals.setdefault(key, []).append(signal)
    setattr(session_class, _SIGNALS, signals)


def signal_on_commit(session: AsyncSession | Session, key: str) -> None:
    """Wake the signals of `key` (`add_signal`) once this transaction commits."""
    sync = _sync(session)
    asked: set[str] = transaction(sync).setdefault(_WAKE, set())
    if key not in asked:
        asked.add(key)
        for signal in getattr(type(sync), _SIGNALS, {}).get(key, []):
            on_commit(sync, signal)


def transaction(session: AsyncSession | Session) -> dict[str, Any]:
    """What hooks keep about the session's transaction under way (emptied at its end)."""
    state: dict[str, Any] = _sync(session).info.setdefault(_STATE, {})
    return state


def _sync(session: AsyncSession | Session) -> Session:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not getattr(type(sync), _INSTALLED, False) and not sync.info.get(_INSTALLED):
        # A session made elsewhere (a test's own): hook this one session.
        _listen(sync)
        sync.info[_INSTALLED] = True
    return sync


def _listen(target: Any) -> None:
    event.listen(target, "before_flush", _run_before_flush)
    event.listen(target, "before_commit", _run_before_commit)
    event.listen(target, "after_commit", _run_on_commit)
    event.listen(target, "after_soft_rollback", _forget)
    event.listen(target, "after_transaction_create", _savepoint_begun)


def _run_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    asked: dict[str, FlushStep] = transaction(session).get(_FLUSH, {})
    for step in [*asked.values(), *_standing.values()]:
        step(session)


# SQLAlchemy runs the commit events for a savepoint released too. That is not the
# transaction's commit: its steps and actions wait for that one (a change numbered at a
# savepoint's release held the numbers' lock for the rest of the transaction; a worker
# woken then found nothing committed). A savepoint rolled back takes back what was asked
# for in it, and only that (`_SAVED`: the state as each open savepoint began).
_SAVED = "kengele_savepoints"


def _savepoint_begun(session: Session, transaction: Any) -> None:
    if transaction.nested:
        state = session.info.get(_STATE, {})
        saved = {k: v.copy() if isinstance(v, dict | list | set) else v for k, v in state.items()}
        session.info.setdefault(_SAVED, []).append(saved)


def _run_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # the flush may ask for more steps (a change to number)
    steps: dict[str, CommitStep] = transaction(session).get(_BEFORE, {})
    while steps:
        step = steps.pop(next(iter(steps)))
        step(session)


def _run_on_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: what it asked for stays
        session.info.get(_SAVED, [None]).pop()
        return
    session.info.pop(_SAVED, None)
    ended: dict[str, Any] = session.info.pop(_STATE, {})
    for action in ended.get(_AFTER, []):
        action()


def _forget(session: Session, previous: Any) -> None:
    saved: list[dict[str, Any]] = session.info.get(_SAVED, [])
    if previous.nested and saved:  # a savepoint rolled back: the state as it began
        session.info[_STATE] = saved.pop()
        return
    session.info.pop(_SAVED, None)
    session.info.pop(_STATE, None)
