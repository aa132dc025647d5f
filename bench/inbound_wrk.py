"""Inbound webhooks under wrk: the full signed SMS pipeline next to a bare FastAPI route.

    sudo apt-get install -y wrk            # Debian/Ubuntu package `wrk`
    createdb -h 127.0.0.1 -U postgres kengele_bench_wrk
    python bench/inbound_wrk.py --database-url postgresql://postgres@127.0.0.1/kengele_bench_wrk

One run starts, in turn, a bare FastAPI route (uvicorn, one process: parses the same form,
answers the same TwiML) and the gateway (`kengele serve --demo`, one process, its worker
included, on an emptied database), and loads each with wrk (one thread, 16 connections by
default) cycling through requests signed in advance, each with its own MessageSid (no replays:
a run stops before the signed bodies run out). Prints requests/s of both, their ratio, and CPU
seconds per request of each server process (utime + stime from /proc/<pid>/stat, before and
after the load), and the non-2xx answers.

`--mode queued` (or `--queued`) runs the gateway with KENGELE_INBOUND_MODE=queued: its
webhooks store and answer, and its background loop processes the messages meanwhile. wrk's
figure is then the rate of answers; the script also waits until every message is processed
and prints the whole: the backlog wrk left, how long it took to drain, the rate of messages
processed end to end, and the CPU per message of answering and processing together.
`--mode auto`: webhooks process their message while fewer than KENGELE_INLINE_AT_ONCE are in
hand, and queue the rest; the same figures are printed.
`--workers 1,2` runs the gateway with one process, then with two (`serve --workers 2`), each
on an emptied database after the same bare route, and prints two processes / one as well.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inbound_cpu import (  # noqa: E402
    BODIES,
    PATH,
    PLACES,
    REPORTERS,
    empty,
    postgres_cpu_seconds,
)

TOKEN = "bench-token-0123456789abcdef"
# One wrk thread is plenty here; answers up to 30 s count (wrk's default gives up at 2 s).
WRK = ["wrk", "-t1", "--timeout", "30s"]
BARE_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import Response
from app.providers.twilio import message_twiml

app = FastAPI()


@app.post("{path}")
async def sms(request: Request) -> Response:
    form = await request.form()
    params = {{k: v for k, v in form.multi_items() if isinstance(v, str)}}
    answer = message_twiml(f"received {{params.get('MessageSid')}}")
    return Response(answer, media_type="application/xml")
"""
LUA = """
local bodies = {bodies}
local signatures = {signatures}
local i = 0
request = function()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format("POST", "{path}", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signatures[i],
  }}, bodies[i])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its living descendants (`serve --workers N`), in
    seconds."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
    family, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total = 0
    for member in family:
        try:
            fields = _stat(member)
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def lua_script(n: int, public_url: str, run_id: str, directory: Path) -> Path:
    validator = RequestValidator(TOKEN)
    bodies, signatures = [], []
    for i in range(n):
        form = {
            "MessageSid": f"SM{run_id}{i:024x}",
            "AccountSid": "AC" + "0" * 32,
            "From": REPORTERS[i % len(REPORTERS)],
            "To": "+243800000000",
            "Body": BODIES[i % len(BODIES)].format(place=PLACES[i % len(PLACES)]) + f" #{i}",
        }
        bodies.append(urlencode(form))
        signatures.append(validator.compute_signature(public_url + PATH, form))
    path = directory / f"bodies-{run_id}.lua"
    path.write_text(
        LUA.format(
            bodies="{" + ",".join(json.dumps(b) for b in bodies) + "}",
            signatures="{" + ",".join(json.dumps(s) for s in signatures) + "}",
            path=PATH,
        )
    )
    return path


def wait_up(url: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {within:.0f} s")


def run_wrk(base: str, script: Path, args: argparse.Namespace) -> tuple[int, float, int]:
    """(requests, seconds, non-2xx) of one wrk run."""
    out = subprocess.run(
        [*WRK, f"-c{args.connections}", f"-d{args.duration}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if done is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    seconds = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return int(done.group(1)), seconds, int(bad.group(1)) if bad else 0


async def _drain(url: str, within: float) -> tuple[int, float]:
    from sqlalchemy import text

    from app.kit.config import Settings
    from app.kit.db import create_engine

    # One connection for the whole wait: a new one every poll would add its backend's start
    # to PostgreSQL's CPU of the run.
    engine = create_engine(Settings(database_url=url))
    count = text("SELECT count(*) FROM inbound_messages WHERE status = 'received'")
    started = time.monotonic()
    try:
        async with engine.connect() as conn:
            first = waiting = int(await conn.scalar(count) or 0)
            while waiting:
                if time.monotonic() - started > within:
                    raise SystemExit(f"{waiting} messages still waiting after {within:.0f} s")
                await asyncio.sleep(0.2)
                await conn.rollback()  # a fresh snapshot for the next count
                waiting = int(await conn.scalar(count) or 0)
    finally:
        await engine.dispose()
    return first, time.monotonic() - started


def drained(url: str, within: float = 600.0) -> tuple[int, float]:
    """(the backlog of inbound messages waiting, seconds until it was processed)."""
    return asyncio.run(_drain(url, within))


def measure(
    name: str,
    proc: subprocess.Popen[bytes],
    base: str,
    script: Path,
    args: argparse.Namespace,
    database_url: str | None = None,
) -> float:
    """wrk's rate of answers; with `database_url` (queued), the whole is also waited for."""
    warm = subprocess.run(
        ["wrk", "-t1", "-c4", "-d2s", "-s", str(script), base], capture_output=True, check=False
    )
    del warm
    if database_url:
        drained(database_url)  # the warm-up's messages, before the measure
    before, db_before = cpu_seconds(proc.pid), postgres_cpu_seconds()
    requests, seconds, bad = run_wrk(base, script, args)
    cpu = cpu_seconds(proc.pid) - before
    db = postgres_cpu_seconds() - db_before
    rate = requests / seconds
    per = 1000 / max(requests, 1)
    print(
        f"{name:<9} {requests:>7} requests in {seconds:5.1f} s  {rate:8.1f} req/s  "
        f"server CPU {cpu * per:6.2f} ms/request  PostgreSQL CPU {db * per:5.2f} ms/request  "
        f"non-2xx {bad}"
    )
    if database_url:
        backlog, drain = drained(database_url)
        cpu = cpu_seconds(proc.pid) - before
        db = postgres_cpu_seconds() - db_before
        print(
            f"{'':9} backlog {backlog} messages when wrk stopped, processed {drain:5.1f} s later; "
            f"end to end {requests / (seconds + drain):8.1f} messages/s  "
            f"server CPU {cpu * per:6.2f} ms/message  PostgreSQL CPU {db * per:5.2f} ms/message"
        )
    return rate


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, and every process of it: `serve --workers N`
    runs its workers as children, which killing the parent alone would leave serving the
    port the next run is checked on."""
    group = os.getpgid(proc.pid)
    os.killpg(group, signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("KENGELE_DATABASE_URL"))
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--bodies", type=int, default=30000, help="pre-signed requests")
    parser.add_argument(
        "--workers",
        default="1",
        help="serving processes (serve --workers N); a list (1,2) runs the gateway once with "
        "each, in turn after the one bare route, and prints each run's ratio to one process",
    )
    parser.add_argument(
        "--mode",
        choices=("inline", "queued", "auto"),
        default="inline",
        help="KENGELE_INBOUND_MODE of the gateway (see above)",
    )
    parser.add_argument("--queued", action="store_true", help="the same as --mode queued")
    args = parser.parse_args()
    if args.queued:
        args.mode = "queued"
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `sudo apt-get install -y wrk` (Debian/Ubuntu package wrk), "
            "or build it from its sources; then run this again"
        )
    if not args.database_url:
        raise SystemExit("--database-url (or KENGELE_DATABASE_URL): an empty database to use")
    counts = [int(n) for n in str(args.workers).split(",")]
    with tempfile.TemporaryDirectory(prefix="kengele-wrk-") as tmp:
        bare_port, gw_port = free_port(), free_port()
        (Path(tmp) / "bare_route.py").write_text(BARE_APP.format(path=PATH))
        env = {**os.environ, "PYTHONPATH": f"{tmp}:{ROOT}"}
        bare = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bare_route:app", "--port", str(bare_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        public = f"http://127.0.0.1:{gw_port}"
        gw_env = {
            **os.environ,
            "KENGELE_DATABASE_URL": args.database_url,
            "KENGELE_PUBLIC_URL": public,
            "KENGELE_TWILIO_AUTH_TOKEN": TOKEN,
            "KENGELE_INBOUND_MODE": args.mode,
        }
        try:
            wait_up(f"http://127.0.0.1:{bare_port}/docs")
            bare_lua = lua_script(args.bodies, f"http://127.0.0.1:{bare_port}", "b" * 8, Path(tmp))
            bare_rate = measure("bare", bare, f"http://127.0.0.1:{bare_port}", bare_lua, args)
        finally:
            stop(bare)
        rates = {}
        for workers in counts:
            rates[workers] = gateway_rate(args, workers, gw_port, gw_env, Path(tmp))
    for workers, rate in rates.items():
        label = "pipeline" if workers == 1 else f"pipeline×{workers}"
        print(f"ratio {label} / bare route: {rate / bare_rate:.3f}")
    if 1 in rates:
        for workers, rate in rates.items():
            if workers != 1:
                print(f"ratio pipeline×{workers} / one process: {rate / rates[1]:.2f}")


def gateway_rate(
    args: argparse.Namespace, workers: int, port: int, env: dict[str, str], tmp: Path
) -> float:
    """Requests/s of the gateway served by `workers` processes, on an emptied database."""
    from app.kit.config import normalise_database_url

    asyncio.run(empty(normalise_database_url(args.database_url)))
    public = env["KENGELE_PUBLIC_URL"]
    gateway = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)]
        + (["--workers", str(workers)] if workers > 1 else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_up(f"{public}/readyz")
        gw_lua = lua_script(args.bodies, public, os.urandom(4).hex(), tmp)
        name = "pipeline" if workers == 1 else f"pipeline×{workers}"
        if args.mode != "inline":
            name += f" {args.mode}"
        url = normalise_database_url(args.database_url) if args.mode != "inline" else None
        return measure(name, gateway, public, gw_lua, args, url)
    finally:
        stop(gateway)


if __name__ == "__main__":
    main()
