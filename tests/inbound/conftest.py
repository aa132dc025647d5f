"""Fixtures of the inbound tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.flows.inbound import Pipeline


class Outage:
    """Makes the pipeline fail when it files a message (after triage) until `over` is set."""

    def __init__(self) -> None:
        self.over = False
        self.calls = 0
        self.real = Pipeline._store

    async def __call__(self, pipeline: Pipeline, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        if not self.over:
            raise RuntimeError("simulated outage in the pipeline")
        return await self.real(pipeline, *args, **kwargs)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    """Filing a message fails in the pipeline until `outage.over` is set."""
    failing = Outage()

    async def store(pipeline: Pipeline, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await failing(pipeline, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "_store", store)
    yield failing
