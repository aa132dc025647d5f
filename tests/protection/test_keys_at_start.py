"""With no key configured the gateway runs on keys it generates, and says so at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.kit import crypto
from app.kit.config import Settings
from tests.harness.gateway import running


async def test_generated_keys_are_warned_about_once_at_start(
    settings: Settings,
    engine: AsyncEngine,  # an emptied database: rows of other tests are under other keys
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import runtime
    from app.main import create_app

    warned: list[str] = []
    monkeypatch.setattr(runtime.log, "warning", lambda msg, *a: warned.append(msg % a))
    saved = crypto.keyring()
    own = settings.model_copy(update={"data_dir": tmp_path})
    try:
        async with running(create_app(own)) as client:
            assert (await client.get("/healthz")).status_code == 200
        said = [m for m in warned if str(tmp_path) in m]
        assert len(said) == 2  # the data key and the lookup key, generated
        assert "generated" in said[0] and "data.keys" in said[0] and "lookup.key" in said[1]
        assert (tmp_path / "keys" / "data.keys").exists()
        assert (tmp_path / "keys" / "lookup.key").exists()
        warned.clear()
        async with running(create_app(own)):
            pass
        assert not [m for m in warned if "keys" in m]  # once a process
    finally:
        crypto.configure(saved)
