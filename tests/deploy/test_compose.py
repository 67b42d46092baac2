"""The Compose deployment, checked offline (no Docker engine on this machine)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.cli.main import command_names
from shared.devstack.stack import StackOptions
from shared.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = set(SERVICES)
INFRA = {"kafka", "mongodb", "mailpit"}
MONITORING = {"prometheus"}  # profile `monitoring` (docker-compose 1.x lists it anyway)
REQUIRED = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "MONGODB_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "MAIL_FROM",
    "COORDINATOR_EMAILS",
    "HEALTH_PORT",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as Compose itself resolves it (anchors, env_file, defaults)."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is required (Debian package docker-compose; .ci/run installs it)"
    result = subprocess.run(
        [binary, "config"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    resolved: dict[str, Any] = yaml.safe_load(result.stdout)
    return resolved


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def variable(name: str) -> str:
    return name.removesuffix("_FILE")


def test_compose_runs_the_infrastructure_and_the_five_services(compose):
    assert set(compose["services"]) - MONITORING == APP_SERVICES | INFRA | {"topics"}
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert compose["services"]["mongodb"]["image"].startswith("mongo:")
    assert "--replSet" in compose["services"]["mongodb"]["command"]
    assert compose["services"]["mailpit"]["image"].startswith("axllent/mailpit:")


def test_every_service_command_exists_in_the_code(compose):
    parser_commands = command_names()
    for name, service in compose["services"].items():
        if name in INFRA | MONITORING:
            continue
        command = service["command"]
        assert command[:2] == ["python", "-m"], name
        module = command[2]
        path = ROOT / Path(*module.split("."))
        assert (path / "__main__.py").exists() or path.with_suffix(".py").exists(), module
        if module == "shared.cli.main":
            assert command[3] in parser_commands


def test_every_variable_is_a_setting_of_the_code_and_required_ones_are_set(compose):
    known = setting_names()
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        unknown = {v for v in environment if variable(v) not in known}
        assert not unknown, f"{name}: variables the code does not read: {unknown}"
        provided = {variable(v) for v in environment}
        assert provided >= REQUIRED, f"{name}: missing {REQUIRED - provided}"


def test_variable_names_are_the_embedded_stacks(compose):
    embedded = {variable(v) for v in StackOptions().environment()}
    for name in APP_SERVICES:
        provided = {variable(v) for v in compose["services"][name]["environment"]}
        assert embedded <= provided, f"{name} lacks {embedded - provided}"
        assert compose["services"][name]["environment"]["KAFKA_ENABLE_IDEMPOTENCE"] == "true"


def test_the_resolved_configuration_is_accepted_by_the_settings(compose, monkeypatch):
    secrets = {s: ROOT / "deploy" / "secrets" / s for s in compose["secrets"]}
    for name in APP_SERVICES:
        for key, value in compose["services"][name]["environment"].items():
            if value.startswith("/run/secrets/"):
                value = str(secrets[value.removeprefix("/run/secrets/")])
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.kafka_bootstrap_servers == "kafka:9092"
        assert len(settings.required_link_secret()) >= 32
        assert "replicaSet=rs0" in settings.mongodb_url.get_secret_value()
        assert settings.health_port == 8080


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(compose):
    for name in APP_SERVICES | INFRA:
        check = compose["services"][name].get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} has its healthcheck disabled"
    for name in APP_SERVICES:
        service = compose["services"][name]
        depends = service["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["mongodb"]["condition"] == "service_healthy"
        assert depends["topics"]["condition"] == "service_completed_successfully"
        assert service["restart"] == "unless-stopped"
        assert "container_name" not in service, "a fixed name prevents scaling"
    assert (
        compose["services"]["notifications"]["depends_on"]["mailpit"]["condition"]
        == "service_healthy"
    )


def test_the_gateway_is_published_and_every_service_gets_the_link_secret(compose):
    [port] = compose["services"]["gateway"]["ports"]
    assert int(port["target"]) == 8080
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["environment"]["LINK_SECRET_FILE"] == "/run/secrets/link_secret"
        assert any(s["source"] == "link_secret" for s in service["secrets"])


def test_data_lives_in_volumes_and_secrets_in_files(compose):
    assert any("/var/lib/kafka/data" in str(v) for v in compose["services"]["kafka"]["volumes"])
    assert any("/data/db" in str(v) for v in compose["services"]["mongodb"]["volumes"])
    for secret in compose["secrets"].values():
        assert Path(secret["file"]).exists(), secret


def test_the_image_is_multi_stage_non_root_pinned_and_installed_from_the_lock():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) == 2
    assert re.search(r"PYTHON_IMAGE=python:3\.1[1-9]\.\d+-slim", dockerfile)
    assert re.search(r"^USER caprural$", dockerfile, re.MULTILINE)
    assert "--no-index" in dockerfile
    assert "requirements.lock" in dockerfile


def test_the_lock_pins_every_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "deploy" / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in deploy/requirements.lock"


def test_the_env_example_documents_every_variable():
    text = (ROOT / "deploy" / ".env.example").read_text()
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            assert variable(line.split("=")[0]) in setting_names(), line
            assert lines[index - 1].startswith("#"), f"undocumented: {line}"


def test_the_monitoring_profile_scrapes_every_service_and_its_alerts_name_real_metrics():
    prometheus = compose_with_profile("monitoring")["services"]["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    assert prometheus["image"].startswith("prom/prometheus:v")
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    [targets] = job["static_configs"]
    assert set(targets["targets"]) == {f"{name}:8080" for name in SERVICES}
    assert job["metrics_path"] == "/metrics"
    # Every metric an alert reads is one the services export (names drift otherwise).
    exported = exported_metric_names()
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {"DeadLettersRising", "DeliveryStuck"} <= {rule["alert"] for rule in alerts}
    for rule in alerts:
        for name in re.findall(r"\b(caprural_[a-z_]+|faststream_[a-z_]+)", rule["expr"]):
            assert name in exported, f"{rule['alert']}: {name} is not exported"


def compose_with_profile(profile: str) -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    assert binary
    result = subprocess.run(
        [binary, "--profile", profile, "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resolved: dict[str, Any] = yaml.safe_load(result.stdout)
    return resolved


def exported_metric_names() -> set[str]:
    """The sample names of a service's registry, notifications' included."""
    from prometheus_client import CollectorRegistry

    from services.notifications.metrics import DeliveryMetrics
    from shared.metrics import Metrics

    metrics = Metrics(service="notifications")
    DeliveryMetrics(metrics.registry)
    registry: CollectorRegistry = metrics.registry
    names = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        names.update(f"{family.name}_{suffix}" for suffix in ("total", "bucket", "count", "sum"))
    return names
