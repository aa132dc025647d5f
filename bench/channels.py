"""Channel ingest benchmark: signed SMS Gateway for Android webhooks next to signed Twilio
webhooks, N each with C concurrent clients, against one running gateway in one run.

    kengele channel add smsgate bench --set signing_key=bench-signing-key-0123456789
    kengele serve --demo &
    python bench/channels.py --n 1000 --concurrency 16

Both loads carry the same messages (bodies, places, senders; each body unique so every
message makes a new alert), so the difference is the webhook: form + X-Twilio-Signature and
TwiML, or JSON + HMAC X-Signature and the receipt written to the outbox for the handset.
Prints throughput and latency percentiles of each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time

import httpx
from ingest import BODIES, PLACES, REPORTERS, report, run
from twilio.request_validator import RequestValidator


def _message(i: int) -> tuple[str, str]:
    body = BODIES[i % len(BODIES)].format(place=PLACES[i % len(PLACES)]) + f" #{i}"
    return REPORTERS[i % len(REPORTERS)], body


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="where to send")
    parser.add_argument(
        "--public-url",
        default=os.environ.get("KENGELE_PUBLIC_URL", "http://127.0.0.1:8000"),
        help="the gateway's KENGELE_PUBLIC_URL (what Twilio's signature covers)",
    )
    parser.add_argument(
        "--token", default=os.environ.get("KENGELE_TWILIO_AUTH_TOKEN", "kengele-dev-token")
    )
    parser.add_argument("--channel", default="bench", help="name of the smsgate channel")
    parser.add_argument("--signing-key", default="bench-signing-key-0123456789")
    parser.add_argument("--n", type=int, default=1000, help="requests per load")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()

    validator = RequestValidator(args.token)
    twilio_path = "/webhooks/twilio/sms"
    smsgate_path = f"/webhooks/smsgate/{args.channel}"
    run_id = secrets.token_hex(4)

    async def twilio(client: httpx.AsyncClient, i: int) -> httpx.Response:
        phone, body = _message(i)
        sid = f"SM{run_id}{i:024x}"
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "Body": body}
        form["To"] = "+243800000000"
        signature = validator.compute_signature(args.public_url + twilio_path, form)
        return await client.post(twilio_path, data=form, headers={"X-Twilio-Signature": signature})

    async def smsgate(client: httpx.AsyncClient, i: int) -> httpx.Response:
        phone, text = _message(i + args.n)  # other messages than Twilio's, same mix
        envelope = {
            "deviceId": f"bench{run_id}",
            "event": "sms:received",
            "id": f"{run_id}-{i}",
            "webhookId": "bench",
            "payload": {
                "messageId": hashlib.sha1(text.encode()).hexdigest()[:16],
                "message": text,
                "phoneNumber": phone,
                "simNumber": 1,
                "receivedAt": "2026-12-01T10:00:00.000+02:00",
            },
        }
        body = json.dumps(envelope).encode()
        stamp = str(int(time.time()))
        key = args.signing_key.encode()
        signature = hmac.new(key, body + stamp.encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Signature": signature}
        headers["X-Timestamp"] = stamp
        return await client.post(smsgate_path, content=body, headers=headers)

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=60) as client:
        print(f"gateway {args.url}, {args.n} requests each, {args.concurrency} concurrent clients")
        c = args.concurrency
        by_twilio = report("twilio", args.n, *await run(args.n, c, twilio, client))
        by_handset = report("smsgate", args.n, *await run(args.n, c, smsgate, client))
    print(f"ratio smsgate/twilio throughput: {by_handset / by_twilio:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
