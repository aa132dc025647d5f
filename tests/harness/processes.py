"""Processes of the gateway for the tests: their environment, `kengele serve` and
`kengele worker` started with their output in a log, stopped or killed, and a runner that
crashes a worker between its claim and its first send.

`python -m tests.harness.processes` runs the background work exactly as `kengele worker`
does (app/cli.py), except that `Worker.before_send` writes a marker file (JSON: worker name,
pid, the delivery and its lease) and then SIGKILLs the process: a hard crash after the claim
was committed and before any request reached Twilio.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support import REPO_ROOT, wait_until

CRASH_MARKER_ENV = "KENGELE_TEST_CRASH_MARKER"
Procs = list[subprocess.Popen[bytes]]


def worker_env(database_url: str, fake: Any, **settings: object) -> dict[str, str]:
    """Environment of a `kengele worker` or `serve` sending through the Twilio fake `fake`.

    `settings` are extra KENGELE_ settings by field name (lease_seconds=2 ...).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENGELE_")}
    values: dict[str, object] = {
        "database_url": database_url,
        "auto_migrate": "false",
        "sms_provider": "twilio",
        "twilio_api_base": fake.base_url,
        "twilio_account_sid": fake.account_sid,
        "twilio_auth_token": fake.auth_token,
        "twilio_from": "+243800000000",
        "sms_rate_per_second": 10_000,
        "sms_burst": 10_000,
        "worker_poll_seconds": 0.5,
        "log_level": "INFO",
    }
    values.update(settings)
    env.update({f"KENGELE_{key.upper()}": str(value) for key, value in values.items()})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `args` in the repository, its output (both streams) appended to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(args, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)


async def start_gateway(env: dict[str, str], log_path: Path, procs: Procs, *args: str) -> str:
    """`kengele serve` on a free port (uvicorn binds port 0); its URL once it listens."""
    command = [sys.executable, "-m", "app.cli", "serve", "--port", "0", *args]
    proc = spawn(command, env, log_path)
    procs.append(proc)

    def url() -> str | None:
        found = re.findall(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log_path.read_text())
        return found[-1] if found and proc.poll() is None else None

    # Within a minute: a loaded machine (a parallel run) takes long to import and migrate.
    found = await wait_until(url, within=60, what=f"{log_path.name} to listen")
    return str(found)


def start_worker(
    env: dict[str, str], log_path: Path, *, crash_marker: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `kengele worker` (or, with `crash_marker`, the crashing runner of this module)."""
    if crash_marker is not None:
        env = {**env, CRASH_MARKER_ENV: str(crash_marker)}
        args = [sys.executable, "-m", "tests.harness.processes"]
    else:
        args = [sys.executable, "-m", "app.cli", "worker"]
    log_path.unlink(missing_ok=True)
    return spawn(args, env, log_path)


def stop_worker(proc: subprocess.Popen[bytes], *, grace: float = 10.0) -> int:
    """SIGTERM (the worker finishes its batch and closes), then SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


def kill_worker(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no cleanup, no finally, nothing recorded."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def worker_name(log_path: Path) -> str | None:
    """The name the worker logged at start ("worker <name> started"), once it did."""
    if not log_path.exists():
        return None
    for line in log_path.read_text(errors="replace").splitlines():
        # Logs are JSON lines (KENGELE_LOG_FORMAT=json, the default).
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("logger") != "kengele":
            continue
        message = str(record.get("message", ""))
        if message.startswith("worker ") and message.endswith(" started"):
            return message[len("worker ") : -len(" started")]
    return None


def _die(marker: Path, info: dict[str, Any]) -> None:  # pragma: no cover - in a subprocess
    """Leave the marker, then crash hard: no finally, no atexit, no rollback by the worker."""
    marker.write_text(json.dumps(info))
    os.kill(os.getpid(), signal.SIGKILL)


def _crashing_worker() -> None:  # pragma: no cover - runs in a subprocess
    """`kengele worker`, whose first send kills the process right after the claim."""
    import logging

    from app.cli import _setup_logging
    from app.kit.config import get_settings
    from app.outbox.models import Delivery
    from app.runtime import Runtime

    marker = Path(os.environ[CRASH_MARKER_ENV])
    settings = get_settings().model_copy(update={"run_worker": True})
    _setup_logging(settings.log_level)

    async def run() -> None:
        runtime = await Runtime.open(settings)
        worker = runtime.worker

        async def crash(delivery: Delivery) -> None:
            info = {
                "worker": worker.name,
                "pid": os.getpid(),
                "delivery_id": delivery.id,
                "lease_until": delivery.lease_until.isoformat() if delivery.lease_until else None,
                "at": time.time(),
            }
            _die(marker, info)

        worker.before_send = crash
        await runtime.start_background()
        logging.getLogger("kengele").info("worker %s started", worker.name)
        await runtime.stop.wait()
        await runtime.close()

    asyncio.run(run())


if __name__ == "__main__":  # pragma: no cover
    _crashing_worker()
