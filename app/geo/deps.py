"""FastAPI dependency on the process's gazetteer cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.geo.service import GazetteerCache


def _gazetteers(request: Request) -> GazetteerCache:
    cache: GazetteerCache = request.app.state.gazetteers
    return cache


Gazetteers = Annotated[GazetteerCache, Depends(_gazetteers)]
