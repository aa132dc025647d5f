"""What a command checks before it serves or touches data: one clear line when it cannot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.kit.config import Settings
from app.kit.db import create_engine
from app.kit.migrate import current_revision

CONNECT_TIMEOUT_SECONDS = 10.0
# Written by `kengele serve` in the data directory so `kengele simulate` finds it.
SERVE_FILE = "serve.json"


class StartupError(RuntimeError):
    """Something is wrong before the start: what, which setting, how to fix it (one line)."""


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file of the settings (None on PostgreSQL or in memory)."""
    if not settings.is_sqlite:
        return None
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def describe_database(settings: Settings) -> str:
    """Where the data is, for the line printed at start (never a password)."""
    path = sqlite_file(settings)
    if path is None:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    if path == settings.data_dir / "kengele.db":
        return f"{path} (data directory {settings.data_dir}; KENGELE_DATA_DIR changes it)"
    return f"{path} (KENGELE_DATABASE_URL)"


def _reason(exc: BaseException) -> str:
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


async def check_database(settings: Settings, *, create: bool) -> None:
    """Connect once; only `create` may make a new SQLite file (and its directory).

    Commands other than `serve` and `db upgrade` would otherwise make a new empty database
    wherever they run, and, say, print an API key the server never sees.
    """
    path = sqlite_file(settings)
    if path is not None and not path.exists():
        if not create:
            raise StartupError(
                f"no database at {describe_database(settings)}: start `kengele serve` or run "
                "`kengele db upgrade` first, or point KENGELE_DATA_DIR (or "
                "KENGELE_DATABASE_URL) at the server's"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(
                f"cannot create the data directory {path.parent}: {exc.strerror}; "
                "set KENGELE_DATA_DIR to a writable directory"
            ) from None
    engine = create_engine(settings)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            revision = None if create else await current_revision(engine)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        kind = "SQLite" if path is not None else "PostgreSQL"
        reason = "no answer in time" if isinstance(exc, TimeoutError) else _reason(exc)
        raise StartupError(
            f"cannot reach the database {describe_database(settings)}: {reason}; check that "
            f"{kind} is running and KENGELE_DATABASE_URL is right"
        ) from None
    finally:
        await engine.dispose()
    if not create and revision is None:
        raise StartupError(
            f"the database {describe_database(settings)} has no tables: "
            "run `kengele db upgrade` (or start `kengele serve`) first"
        )


@dataclass(frozen=True, slots=True)
class RunningServe:
    """A `kengele serve` of this data directory: where it listens and what it signs for."""

    url: str
    public_url: str
    pid: int


def record_serve(settings: Settings, url: str) -> Path | None:
    """Tell later commands (simulate) where this serve listens; None if it cannot."""
    path = settings.data_dir / SERVE_FILE
    data = {"url": url, "public_url": settings.public_url, "pid": os.getpid()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
    except OSError:
        return None
    return path


def forget_serve(path: Path) -> None:
    """Remove the record of this serve (only if it is still ours)."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        if json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid():
            path.unlink()


def running_serve(settings: Settings) -> RunningServe | None:
    """The `kengele serve` recorded in the data directory, if its process still runs."""
    try:
        data = json.loads((settings.data_dir / SERVE_FILE).read_text(encoding="utf-8"))
        serve = RunningServe(str(data["url"]), str(data["public_url"]), int(data["pid"]))
        os.kill(serve.pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return serve


def signing_target(settings: Settings, url: str | None) -> tuple[str, str]:
    """Where `kengele simulate` posts, and the public URL it signs for.

    An explicit KENGELE_PUBLIC_URL wins; else the `kengele serve` running on this data
    directory (it records its address and public URL); else the URL posted to, since `serve`
    takes its own address as public URL when none is set.
    """
    serve = running_serve(settings)
    base = (url or (serve.url if serve else settings.public_url)).rstrip("/")
    if "public_url" in settings.model_fields_set:
        return base, settings.public_url
    if serve is not None and url is None:
        return base, serve.public_url
    return base, base
