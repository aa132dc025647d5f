"""Per-key rate: 429 with Retry-After past KENGELE_API_RATE_PER_MINUTE, other keys unaffected."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.ratelimit import RateLimiter
from tests.harness.gateway import running
from tests.support import make_key


async def test_a_key_past_its_rate_gets_429_with_retry_after(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    app.state.rate_limiter = RateLimiter(per_minute=3)
    busy = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    other = {"Authorization": f"Bearer {await make_key(sessionmaker, 'viewer')}"}
    async with running(app) as client:
        codes = [(await client.get("/api/v1/alerts", headers=busy)).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        refused = await client.get("/api/v1/alerts", headers=busy)
        assert refused.status_code == 429
        assert refused.json()["error"] == "RateLimited"
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert (await client.get("/api/v1/alerts", headers=other)).status_code == 200


def test_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, clock=lambda: now[0])
    assert all(limiter.take(1) == 0 for _ in range(60))
    wait = limiter.take(1)
    assert 0.9 < wait <= 1.0
    now[0] += 1.0
    assert limiter.take(1) == 0
    assert limiter.take(1) > 0
