"""With no key configured the gateway runs on keys it generates, and says so at start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.config import Settings
from app.kit import crypto
from tests.support import running


async def test_generated_keys_are_warned_about_once_at_start(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from app.main import create_app

    saved = crypto.keyring()
    own = settings.model_copy(update={"data_dir": tmp_path})
    try:
        with caplog.at_level(logging.WARNING, logger="app.runtime"):
            async with running(create_app(own)) as client:
                assert (await client.get("/healthz")).status_code == 200
        said = [r.getMessage() for r in caplog.records if "data.keys" in r.getMessage()]
        assert len(said) == 2  # generated, and read from the data directory
        assert (tmp_path / "keys" / "data.keys").exists()
        assert (tmp_path / "keys" / "lookup.key").exists()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="app.runtime"):
            async with running(create_app(own)):
                pass
        assert not [r for r in caplog.records if "keys" in r.getMessage()]  # once a process
    finally:
        crypto.configure(saved)
