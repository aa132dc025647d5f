"""Inbound throughput with encryption at rest, next to the same gateway without it.

    python bench/encryption.py --n 200 --rounds 5

Two in-process gateways (outbox worker off: the inbound path alone) on two fresh SQLite
files, the demo data loaded in both; rounds
alternate "plain" (values stored as given, numbers found by their own value) and "encrypted"
(AES-GCM values, HMAC lookups), so that the machine's noise falls on both. Prints each
round, the medians, and the ratio encrypted / plain per wall-clock second and per CPU
second of the process (steadier on a shared machine). Target: at least 0.90.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from app.kit import crypto
from app.kit.config import Settings
from app.kit.db import create_engine, create_sessionmaker
from app.kit.migrate import upgrade

TOKEN = "bench-token"
PUBLIC = "https://kengele.bench"
PATH = "/webhooks/twilio/sms"
REPORTERS = [f"+2438100001{n:02d}" for n in range(1, 21)]
BODIES = [
    "Attaque en cours a Mavivi, les ADF ont tue 3 personnes",
    "Watu wenye silaha wameonekana karibu na Oicha",
    "wamechoma nyumba kumi huko Eringeti",
    "Pillage des boutiques a Mbau hier soir",
]


class Plain(crypto.Keyring):
    """A keyring that stores values as given: the gateway as it was before encryption."""

    def encrypt(self, text: str) -> str:
        return text

    def decrypt(self, value: str) -> str:
        return value

    def lookup_hash(self, phone: str) -> str:
        return phone


DATA_KEY = crypto.new_key()
LOOKUP_KEY = crypto.new_key()
PLAIN = Plain(keys=[crypto.base64.urlsafe_b64decode(DATA_KEY)], lookup=b"-")


async def gateway(directory: str, plain: bool) -> Any:
    """An app on a fresh SQLite file with the demo data (stored plain or encrypted)."""
    from app.demo import load_demo_data
    from app.main import create_app

    settings = Settings(
        data_dir=directory,
        public_url=PUBLIC,
        twilio_auth_token=TOKEN,  # type: ignore[arg-type]
        receipts_enabled=True,
        run_worker=False,  # the inbound path alone (pages wait in the outbox)
        data_key=DATA_KEY,  # type: ignore[arg-type]
        lookup_key=LOOKUP_KEY,  # type: ignore[arg-type]
    )
    engine = create_engine(settings)
    if plain:
        crypto._keyring = PLAIN
    await upgrade(engine)
    await load_demo_data(create_sessionmaker(engine))
    await engine.dispose()
    return create_app(settings)


async def load(
    app: Any, ring: crypto.Keyring, n: int, concurrency: int, tag: str
) -> tuple[float, float]:
    """Requests per second of n signed webhooks, per wall-clock second and per CPU second of
    this process (the steadier figure on a machine shared with other work)."""
    validator = RequestValidator(TOKEN)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with app.router.lifespan_context(app):
        crypto._keyring = ring  # the one switch between the two runs (the start set its own)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:

            async def worker() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    form = {
                        "MessageSid": f"SM{tag}{i:028d}",
                        "AccountSid": "AC" + "0" * 32,
                        "From": REPORTERS[i % len(REPORTERS)],
                        "To": "+243800000000",
                        "Body": f"{BODIES[i % len(BODIES)]} #{tag}{i}",
                    }
                    signature = validator.compute_signature(PUBLIC + PATH, form)
                    response = await client.post(
                        PATH, data=form, headers={"X-Twilio-Signature": signature}
                    )
                    assert response.status_code == 200, response.text

            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return n / (time.perf_counter() - started), n / (time.process_time() - cpu)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="webhooks per round")
    parser.add_argument("--rounds", type=int, default=3)
    # SQLite takes one writer at a time: more clients only queue (and may time out).
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as enc_dir:
        enc_app = await gateway(enc_dir, plain=False)
        real = crypto.keyring()
        plain_app = await gateway(plain_dir, plain=True)
        rates: dict[str, list[float]] = {"plain": [], "encrypted": []}
        per_cpu: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for r in range(args.rounds):
            for name, app, ring in (("plain", plain_app, PLAIN), ("encrypted", enc_app, real)):
                rate, cpu = await load(app, ring, args.n, args.concurrency, f"{r}{name[0]}")
                rates[name].append(rate)
                per_cpu[name].append(cpu)
                print(f"round {r + 1} {name:<9} {rate:8.1f} req/s  {cpu:8.1f} req/CPU-s")
        crypto._keyring = real
    for label, table, unit in (("wall", rates, "req/s"), ("cpu", per_cpu, "req/CPU-s")):
        median = {name: statistics.median(values) for name, values in table.items()}
        ratio = median["encrypted"] / median["plain"]
        print(
            f"median {label:<4}  plain {median['plain']:7.1f}  encrypted "
            f"{median['encrypted']:7.1f} {unit}  ratio {ratio:.3f}  (target >= 0.90)"
        )


if __name__ == "__main__":
    asyncio.run(main())
