"""The deployment files hold together: compose, .env.example, the proxy, the Dockerfile."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from app.kit.config import Settings
from tests.support import REPO_ROOT

VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return data


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_compose_comes_up_without_a_dot_env() -> None:
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for name, default in VARIABLE.findall(text):
        # Every variable has a default: `up` works as is; .env only changes them.
        assert default.startswith(":-"), f"${{{name}}} has no default"
        assert name in env_example(), f"{name} is not explained in .env.example"
    for service in compose()["services"].values():
        for env_file in service.get("env_file", []):
            assert env_file == {"path": ".env", "required": False}


def test_dot_env_example_names_only_real_settings() -> None:
    fields = {f"KENGELE_{name.upper()}" for name in Settings.model_fields}
    extra = {"POSTGRES_PASSWORD", "KENGELE_HTTP_PORT"}  # read by compose itself
    assert set(env_example()) - fields <= extra
    assert "POSTGRES_PASSWORD" in env_example()


def test_one_port_and_the_public_url_points_at_it() -> None:
    services = compose()["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert list(published) == ["proxy"], "only the proxy is reachable from outside"
    [port] = published["proxy"]
    assert port == "${KENGELE_HTTP_PORT:-8000}:80"
    public = services["api1"]["environment"]["KENGELE_PUBLIC_URL"]
    assert public == "${KENGELE_PUBLIC_URL:-http://localhost:8000}"
    assert env_example()["KENGELE_PUBLIC_URL"].endswith(":" + env_example()["KENGELE_HTTP_PORT"])
    caddyfile = (REPO_ROOT / "deploy" / "Caddyfile").read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    apis = [u.split(":")[0] for u in upstreams.group(1).split()]
    assert apis == ["api1", "api2"]
    for api in apis:
        assert "--no-worker" in services[api]["command"] and "8000" in services[api]["expose"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]


def test_no_password_is_written_in_the_compose_file() -> None:
    services = compose()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:-"
    )
    url = services["api1"]["environment"]["KENGELE_DATABASE_URL"]
    assert ":${POSTGRES_PASSWORD:-" in url
    assert "ports" not in services["postgres"], "PostgreSQL stays inside the compose network"


def test_migrations_run_once_before_the_apis_and_workers() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["kengele", "db", "upgrade"]
    for name in ("api1", "api2", "worker1", "worker2"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }


def test_the_dockerfile_copies_files_that_exist() -> None:
    for line in (REPO_ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists(), source


def test_the_docker_check_runs_or_says_why_not() -> None:
    done = subprocess.run(
        ["bash", str(REPO_ROOT / ".ci" / "docker-check")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    # Each step ran, or said why not (no compose v2, no engine, no base image, no network).
    assert "docker compose config: valid" in out or "docker compose config skipped: " in out, out
    assert "docker build: kengele:ci built" in out or "docker build skipped: " in out, out
