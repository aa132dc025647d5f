"""The README, followed as a newcomer would: in a fresh clone, with nothing beside it."""

from __future__ import annotations

import json
import os
import re
import signal
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.kit.config import Settings
from tests.harness.server import free_port
from tests.support import REPO_ROOT
from tests.test_first_hour import wait_until_ready

# Under -n, one process runs this module: the clone is made and installed once.
pytestmark = pytest.mark.xdist_group("readme")

README = REPO_ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def shell_blocks(text: str) -> list[str]:
    """The README's ```sh blocks, in order."""
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_links_only_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../" not in text
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "#")):
            continue
        assert (REPO_ROOT / target.split("#")[0]).exists(), target
    for doc in (REPO_ROOT / "docs").glob("*.md"):
        assert "../shared" not in doc.read_text(encoding="utf-8"), doc


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the repository, alone in its directory (no ../shared)."""
    where = tmp_path_factory.mktemp("fresh") / "kengele"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(where)], check=True)
    assert sorted(p.name for p in where.parent.iterdir()) == ["kengele"]
    return where


@pytest.fixture(scope="module")
def newcomer(clone: Path) -> dict[str, str]:
    """The environment of a new user: own home, no KENGELE_ setting, no venv active."""
    home = clone.parent / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KENGELE_", "XDG_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    return env


def install_command(block: str) -> str:
    """The README's venv-and-install commands, made fast and offline.

    The new venv sees this test run's installed packages (a .pth file), so `pip install -e .`
    finds every dependency already there and only installs the clone itself.
    """
    first = block.strip().split(" && ")
    assert first[0] == "python3 -m venv .venv", block
    assert first[1].startswith(".venv/bin/pip install -e "), block
    packages = site.getsitepackages()[0]
    link = (
        '.venv/bin/python -c "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()'
        f"['purelib'], 'outer.pth').write_text({packages!r})\""
    )
    pip = first[1] + " --no-build-isolation --no-index --quiet"
    return f"{first[0]} && {link} && {pip}"


@pytest.fixture(scope="module")
def installed(clone: Path, newcomer: dict[str, str]) -> Path:
    """The clone installed by the README's first command (up to `serve`)."""
    block = shell_blocks(README.read_text(encoding="utf-8"))[0]
    install, _, serve = block.strip().rpartition(" && ")
    assert serve == ".venv/bin/kengele serve --demo"
    subprocess.run(
        ["bash", "-c", install_command(install)], cwd=clone, env=newcomer, check=True, timeout=300
    )
    where = subprocess.run(
        [str(clone / ".venv/bin/python"), "-c", "import app; print(app.__file__)"],
        cwd=clone.parent,  # not the clone's directory: what the installed command imports
        env=newcomer,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(clone / "app" / "__init__.py")
    return clone


@pytest.fixture
def serving(installed: Path, newcomer: dict[str, str]) -> Iterator[int]:
    """`.venv/bin/kengele serve --demo` of the README, on a free port."""
    port = free_port()
    proc = subprocess.Popen(
        [".venv/bin/kengele", "serve", "--demo", "--port", str(port)],
        cwd=installed,
        env=newcomer,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_ready(proc, port)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


def test_try_it_as_the_readme_says_in_a_fresh_clone(
    installed: Path, newcomer: dict[str, str], serving: int
) -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    [try_it] = [b for b in blocks if b.startswith(". .venv/bin/activate")]
    # The one change: the port (other gateways may hold 8000 on a shared machine).
    script = try_it.replace("127.0.0.1:8000", f"127.0.0.1:{serving}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=installed,
        env=newcomer,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    alerts = json.loads(done.stdout[done.stdout.index("{\n") :])
    [alert] = alerts["items"]
    # What the README promises right after these commands.
    assert (alert["category"], alert["severity"]) == ("ATTACK", "critical")
    assert alert["place"]["name"] == "Mavivi"
    assert (alert["place"]["admin2"], alert["place"]["admin1"]) == ("Beni", "Nord-Kivu")
    assert alert["reasons"]
    # The database is in the newcomer's data directory, not in the clone.
    assert (Path(newcomer["HOME"]) / ".local" / "share" / "kengele" / "kengele.db").exists()
    assert not list(installed.glob("*.db"))
    docs = httpx.get(f"http://127.0.0.1:{serving}/docs")
    assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text


def test_the_readme_test_command_collects_the_suite_in_a_fresh_clone(
    installed: Path, newcomer: dict[str, str]
) -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    [run_tests] = [b for b in blocks if b.rstrip().endswith(".venv/bin/pytest -n auto")]
    assert run_tests.strip().startswith(
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'"
    )
    # The dev extras are installed in this run's packages; the whole suite is this run itself,
    # so here the suite is only collected: every test module imports and finds its data.
    done = subprocess.run(
        [".venv/bin/python", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=installed,
        env=newcomer,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = re.compile(r"^\d+(/\d+)? tests collected", flags=re.MULTILINE)
    assert collected.search(done.stdout), done.stdout[-500:]


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"KENGELE_{name.upper()}"
        for name in Settings.model_fields
        if f"`KENGELE_{name.upper()}`" not in text
    ]
    assert not missing, f"settings missing from the README's table: {missing}"
