"""deploy/: the Compose file, the Caddyfile, the Dockerfile and the systemd unit hold together.

Bringing the stack up is not part of the suite (no Docker here); these checks catch what breaks
it on the province's server: YAML that does not parse, a service or volume named but not defined,
a `healthbot` command line the CLI would refuse, a proxy pointing at workers that do not exist,
a health check on a route the bot does not serve, a file the Dockerfile copies that is missing.
When the `docker` command is installed, `docker compose config` validates the file as well.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.config import load_settings
from bot.placeholders import placeholder_fields

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WORKER_PORT = 8080


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def healthbot_command(argv: list[str]) -> None:
    """The CLI accepts this command line (argparse exits on an unknown option or command)."""
    assert argv[0].endswith("healthbot"), argv
    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as exc:
        pytest.fail(f"healthbot refuses the command line {argv}: exit {exc.code}")


def test_compose_services_volumes_and_dependencies_are_consistent() -> None:
    spec = compose()
    services = spec["services"]
    assert {"postgres", "redis", "migrate", "caddy"} <= set(services)
    workers = [n for n, s in services.items() if s.get("command", [])[:2] == ["healthbot", "run"]]
    assert len(workers) == 3, "three healthbot workers"
    volumes = set(spec.get("volumes", {}))
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on an unknown service {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                local = DEPLOY / source[2:]
                assert local.exists() or local.with_name(local.name + ".example").exists(), (
                    f"{name} mounts {source}: neither it nor {source}.example is in deploy/")
            else:
                assert source in volumes, f"{name} uses an undeclared volume {source}"
        for env_file in service.get("env_file", []):
            assert (DEPLOY / f"{env_file}.example").exists(), env_file
    build = services["worker1"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().exists()


def test_every_healthbot_command_in_compose_is_one_the_cli_accepts() -> None:
    services = compose()["services"]
    commands = [s["command"] for s in services.values()
                if isinstance(s.get("command"), list) and s["command"][0] == "healthbot"]
    assert len(commands) == 4  # three workers and the migration
    for argv in commands:
        healthbot_command(argv)
    assert ["healthbot", "db", "upgrade"] == services["migrate"]["command"][:3]
    worker = services["worker1"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    probe = worker["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    compile(probe[3], "healthcheck", "exec")  # valid Python
    assert f"127.0.0.1:{WORKER_PORT}/healthz" in probe[3]


def test_every_variable_compose_needs_is_in_the_env_example() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    needed = set(re.findall(r"\$\{([A-Z_]+)", text))
    documented = {line.split("=")[0] for line in (DEPLOY / "env.example").read_text().splitlines()
                  if "=" in line and not line.startswith("#")}
    assert needed and needed <= documented
    secrets = {line.split("=")[0] for line in (DEPLOY / "secrets.env.example").read_text()
               .splitlines() if "=" in line and not line.startswith("#")}
    assert {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"} <= secrets
    env = compose()["services"]["worker1"]["environment"]
    assert env["HEALTHBOT_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["HEALTHBOT_REDIS_URL"].startswith("redis://redis:")


def test_caddy_spreads_over_exactly_the_workers_and_checks_a_real_route() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile).group(1).split()  # type: ignore[union-attr]
    services = compose()["services"]
    workers = {n for n, s in services.items() if s.get("command", [])[:2] == ["healthbot", "run"]}
    assert {u.split(":")[0] for u in upstreams} == workers
    assert all(u.endswith(f":{WORKER_PORT}") for u in upstreams)
    assert "health_uri /healthz" in caddyfile and "respond @private 404" in caddyfile


def test_the_workers_configuration_loads_and_is_refused_until_the_station_is_filled_in() -> None:
    settings = load_settings(DEPLOY / "healthbot.toml.example", env={})
    assert settings.web.host == "0.0.0.0" and settings.web.port == WORKER_PORT
    assert settings.telegram.mode == "webhook" and settings.zalo_bot.mode == "webhook"
    assert placeholder_fields(settings) == ["name", "ward", "address", "phone"]


def test_the_dockerfile_copies_what_exists_and_runs_the_installed_command() -> None:
    lines = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    for line in lines:
        if line.startswith("COPY "):
            for source in shlex.split(line)[1:-1]:
                assert (ROOT / source).exists(), f"the Dockerfile copies a missing {source}"
    cmd = next(line for line in lines if line.startswith("CMD "))
    healthbot_command(json.loads(cmd[4:]))  # the exec form is a JSON list
    assert 'healthbot = "bot.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_the_systemd_unit_runs_a_command_the_cli_accepts() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "healthbot@.service", encoding="utf-8")
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"].replace("%i", "8081"))
    assert argv[0].startswith("/") and argv[0].endswith("/healthbot")
    healthbot_command(argv)
    assert service["StateDirectory"] == "healthbot"
    assert service["Environment"] == "HEALTHBOT_DATA_DIR=/var/lib/healthbot"


def docker_compose_installed() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not docker_compose_installed(), reason="docker compose is not installed here")
def test_docker_compose_accepts_the_file() -> None:
    env = os.environ | {"POSTGRES_PASSWORD": "x", "HEALTHBOT_DOMAIN": "example.org"}
    result = subprocess.run(["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config",
                             "-q"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
