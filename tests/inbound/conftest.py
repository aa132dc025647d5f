"""Fixtures of the inbound tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.flows import inbound as pipeline_module


class Outage:
    """Makes triage fail until `over` is set."""

    def __init__(self) -> None:
        self.over = False
        self.calls = 0
        self.real = pipeline_module.triage_message

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        if not self.over:
            raise RuntimeError("simulated outage in the pipeline")
        return self.real(*args, **kwargs)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    """Triage fails in the pipeline until `outage.over` is set."""
    failing = Outage()
    monkeypatch.setattr(pipeline_module, "triage_message", failing)
    yield failing
