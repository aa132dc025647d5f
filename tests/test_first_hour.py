"""A newcomer's first commands: one data directory, clear errors at start, the first steps."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.cli import cli
from tests.harness.server import free_port
from tests.support import REPO_ROOT

KENGELE = [sys.executable, "-m", "app.cli"]


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user: no KENGELE_ setting but the data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENGELE_")}
    env.update({"KENGELE_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO_ROOT), **extra})
    return env


def kengele(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would, in a directory of its own."""
    return subprocess.run(
        [*KENGELE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def wait_until_ready(proc: subprocess.Popen[str], port: int, seconds: float = 60) -> None:
    """Until the gateway started by `proc` answers /readyz; fails if it dies first."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, "the gateway stopped"
        assert time.monotonic() < deadline, "the gateway did not get ready"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def one_error_line(stderr: str) -> str:
    """The single line the command printed; fails on a traceback or several lines."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_command_other_than_serve_never_creates_a_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    for args in (
        ("apikey", "create", "--name", "me"),
        ("apikey", "list"),
        ("triage", "Attaque a Mavivi"),
        ("import", "reporters", str(REPO_ROOT / "examples" / "reporters.csv")),
        ("worker",),
    ):
        done = kengele(*args, env=clean_env(data), cwd=elsewhere)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        line = done.stderr.strip().splitlines()[-1]
        assert f"no database at {data / 'kengele.db'}" in line, line
        assert "kengele serve" in line and "KENGELE_DATA_DIR" in line
        assert not data.exists() and list(elsewhere.iterdir()) == []

    upgraded = kengele("db", "upgrade", env=clean_env(data), cwd=elsewhere)
    assert upgraded.returncode == 0, upgraded.stderr
    assert str(data / "kengele.db") in upgraded.stderr
    # From any directory, the same database: the key is stored where serve will look.
    created = kengele("apikey", "create", "--name", "me", env=clean_env(data), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    listed = kengele("apikey", "list", env=clean_env(data), cwd=elsewhere)
    assert created.stdout.strip()[:8] in listed.stdout
    assert list(elsewhere.iterdir()) == []


def test_a_missing_twilio_token_is_one_clear_line(tmp_path: Path) -> None:
    done = kengele("serve", env=clean_env(tmp_path, KENGELE_SMS_PROVIDER="twilio"))
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "KENGELE_TWILIO_AUTH_TOKEN" in line and "KENGELE_SMS_PROVIDER" in line


def test_word_lists_that_cannot_be_read_stop_the_start_naming_the_file(tmp_path: Path) -> None:
    # Read at the start, not at the first report (which would then fail, and every one after).
    words = tmp_path / "words"
    words.mkdir()
    (words / "local.toml").write_text('[ATTACK.sw]\nwords = ["wamefyeka"]\nkuua\n', "utf-8")
    done = kengele("serve", env=clean_env(tmp_path, KENGELE_LEXICON_DIR=str(words)))
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "local.toml" in line and "line 3" in line


@pytest.mark.parametrize(
    "command", [("serve",), ("worker",), ("db", "upgrade"), ("apikey", "list")]
)
def test_an_unreachable_postgresql_is_one_clear_line(tmp_path: Path, command: tuple[str]) -> None:
    url = f"postgresql://kengele:s3cret-pw@127.0.0.1:{free_port()}/kengele"
    done = kengele(*command, env=clean_env(tmp_path, KENGELE_DATABASE_URL=url))
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "cannot reach the database" in line and "KENGELE_DATABASE_URL" in line
    assert "127.0.0.1" in line and "s3cret-pw" not in line


def test_help_reads_like_a_cli_people_know() -> None:
    from typer.testing import CliRunner

    serve_help = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=100).output
    assert "<bool>" not in serve_help
    assert "--demo " in serve_help and "--no-worker " in serve_help
    create_help = CliRunner().invoke(cli, ["apikey", "create", "--help"]).output
    assert "viewer|operator|admin" in create_help
    refused = CliRunner().invoke(cli, ["apikey", "create", "--name", "x", "--role", "king"])
    assert refused.exit_code == 2 and "king" in refused.output


class Terminal:
    """`kengele serve` on a pseudo-terminal, as a user starts it in a shell."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        main, child = pty.openpty()
        self.main = main
        self.proc = subprocess.Popen(
            args, env=env, stdin=child, stdout=child, stderr=child, cwd=env["KENGELE_DATA_DIR"]
        )
        os.close(child)
        self.output = ""

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """Everything printed until `text` appears."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            left = deadline - time.monotonic()
            assert left > 0 and self.proc.poll() is None, self.output
            ready, _, _ = select.select([self.main], [], [], min(left, 0.5))
            if ready:
                try:
                    self.output += os.read(self.main, 65536).decode(errors="replace")
                except OSError:  # the other end closed
                    break
        return self.output

    def stop(self) -> int:
        """Ctrl-C, as a user would; the exit code."""
        if self.main < 0:
            return self.proc.wait()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        os.close(self.main)
        self.main = -1
        return code


@pytest.fixture
def terminal_serve(tmp_path: Path) -> Iterator[tuple[Terminal, int, dict[str, str]]]:
    """`kengele serve --demo --port P` in a terminal, on a fresh data directory."""
    data = tmp_path / "data"
    data.mkdir()
    env = clean_env(data)
    port = free_port()
    term = Terminal([*KENGELE, "serve", "--demo", "--port", str(port)], env)
    try:
        yield term, port, env
    finally:
        term.stop()


def test_serve_in_a_terminal_says_what_to_do_next_and_simulate_follows_its_port(
    terminal_serve: tuple[Terminal, int, dict[str, str]],
) -> None:
    term, port, env = terminal_serve
    url = f"http://127.0.0.1:{port}"
    out = term.wait_for("(the console provider logs")
    # Logs are text on a terminal, uvicorn's start lines included.
    assert "Uvicorn running on" in out
    log_lines = [line for line in out.splitlines() if " INFO " in line]
    assert log_lines and not any(line.lstrip().startswith("{") for line in log_lines)
    for expected in (
        f"{url}/ops/",
        f"{url}/docs",
        "kengele apikey create --name me --role operator",
        "+243810000101",  # a focal point
        "+243820000201",  # a liaison of the same territoire
        str(Path(env["KENGELE_DATA_DIR"]) / "kengele.db"),
    ):
        assert expected in out, expected
    assert out.count("Kengele is ready") == 1

    # No --url and no KENGELE_PUBLIC_URL: simulate finds the serve of this data directory.
    sent = kengele("simulate", "sms", "--from", "+243810000101", "Attaque a Mavivi", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "HTTP 200" in sent.stdout and "K-" in sent.stdout
    assert f"signed for {url}/webhooks/twilio/sms" in sent.stderr
    key = kengele("apikey", "create", "--name", "me", env=env).stdout.strip()
    alerts = httpx.get(f"{url}/api/v1/alerts", headers={"Authorization": f"Bearer {key}"}).json()
    assert [a["category"] for a in alerts["items"]] == ["ATTACK"]

    assert term.stop() in (0, 130)  # 130: ended by Ctrl-C, as shells count it
    assert not (Path(env["KENGELE_DATA_DIR"]) / "serve.json").exists()


def test_serve_logs_json_when_not_on_a_terminal(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "data")
    port = free_port()
    proc = subprocess.Popen(
        [*KENGELE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_ready(proc, port)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert "Kengele is ready" not in out  # the first steps are for a person at a terminal
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    messages = [r["message"] for r in records]
    assert any("Uvicorn running on" in m for m in messages), messages
    assert any(str(tmp_path / "data") in m for m in messages), messages


def test_simulate_says_what_it_signs_for_and_why_a_signature_is_refused(tmp_path: Path) -> None:
    env = clean_env(tmp_path, KENGELE_PUBLIC_URL="https://kengele.example.org")
    port = free_port()
    done = kengele(
        "simulate",
        "sms",
        "--from",
        "+243810000101",
        "x",
        "--url",
        f"http://127.0.0.1:{port}",
        env=env,
    )
    assert done.returncode == 1
    assert "signed for https://kengele.example.org/webhooks/twilio/sms" in done.stderr
    assert f"could not reach http://127.0.0.1:{port}" in done.stderr
