"""deploy/: the Compose file against the Compose schema (``docker compose config`` too where
Docker's compose plugin exists), and its pieces agree with each other and with the code:
services it names exist, the settings it sets are real settings, Prometheus scrapes the ports
the workers listen on, and the Grafana dashboard and the alerts use metrics that exist."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core._metrics import Metrics
from core._settings import Settings
from tests.deploy.compose_schema import COMPOSE

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def metric_names() -> set[str]:
    """Every series name Guyub exports (counters as _total, histograms with their parts)."""
    metrics = Metrics("w")
    names: set[str] = set()
    for family in metrics.registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
    return names


def test_compose_file_matches_the_schema():
    jsonschema.validate(compose(), COMPOSE)


def test_schema_rejects_a_misspelt_key():
    broken = compose()
    broken["services"]["bot"]["depend_on"] = ["postgres"]
    with pytest.raises(jsonschema.ValidationError, match="depend_on"):
        jsonschema.validate(broken, COMPOSE)


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="no docker compose here; the schema check stands in",
)
def test_docker_compose_config_accepts_the_file(tmp_path: Path):
    env = tmp_path / "guyub.env"
    env.write_text((DEPLOY / "guyub.env.example").read_text(encoding="utf-8"))
    result = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=DEPLOY,
    )
    assert result.returncode == 0, result.stderr


def test_references_inside_the_compose_file_resolve():
    data = compose()
    services = data["services"]
    for name, service in services.items():
        depends = service.get("depends_on", [])
        for other in depends if isinstance(depends, list) else depends.keys():
            assert other in services, f"{name} depends on unknown {other}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in data["volumes"], f"{name} uses undeclared volume {source}"
        for network in service.get("networks", []):
            assert network in data["networks"]
        env_file = service.get("env_file")
        if env_file:
            assert (DEPLOY / f"{env_file}.example").is_file()
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_workers_run_guyub_commands_with_real_settings():
    services = compose()["services"]
    assert services["migrate"]["command"] == ["guyub", "db", "migrate"]
    assert services["bot"]["command"] == ["guyub", "run"]
    assert services["bot"]["deploy"]["replicas"] >= 2
    assert services["bot"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    known = Settings.model_fields
    for name in ("bot", "discord", "dashboard", "migrate"):
        for key, _value in services[name]["environment"].items():
            assert key.startswith("GUYUB_"), key
            section, _, field = key.removeprefix("GUYUB_").lower().partition("__")
            assert section in known or section in {"web"}, key
            model = known[section].annotation if section in known else None
            if field and model is not None and hasattr(model, "model_fields"):
                assert field in model.model_fields, key
            assert "TOKEN" not in key, "secrets belong in guyub.env"
            assert "SECRET" not in key, "secrets belong in guyub.env"
        # Longer than the shutdown budget, so a stop drains before it is killed.
        grace = services[name].get("stop_grace_period")
        if grace:
            budget = float(services[name]["environment"].get("GUYUB_WORKER__SHUTDOWN_TIMEOUT", 25))
            assert float(grace.rstrip("s")) > budget


def test_proxy_sends_webhooks_to_the_workers_port():
    conf = (DEPLOY / "nginx" / "guyub.conf").read_text(encoding="utf-8")
    port = compose()["services"]["bot"]["environment"]["GUYUB_TELEGRAM__WEBHOOK_PORT"]
    assert f"bot:{port}" in conf
    assert "location /telegram" in conf
    assert "proxy_next_upstream error timeout http_502 http_503" in conf


def test_prometheus_scrapes_every_worker_on_its_metrics_port():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    bot = jobs["guyub-bot"]["dns_sd_configs"][0]
    services = compose()["services"]
    assert bot["names"] == ["bot"]
    assert str(bot["port"]) == services["bot"]["environment"]["GUYUB_TELEGRAM__WEBHOOK_PORT"]
    discord = jobs["guyub-discord"]["static_configs"][0]["targets"][0]
    assert (
        discord.split(":")[1]
        == services["discord"]["environment"]["GUYUB_METRICS__LISTEN"].split(":")[1]
    )
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())


def _metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\b(guyub_[a-z_]+)", expr))


def test_alerts_and_dashboard_use_metrics_that_exist():
    known = metric_names()
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    rules = [rule for group in alerts["groups"] for rule in group["rules"]]
    used: set[str] = set()
    for rule in rules:
        used |= _metrics_in(rule["expr"])
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "guyub.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= _metrics_in(target["expr"])
    assert used, "nothing to check"
    assert used <= known, f"unknown metrics: {sorted(used - known)}"
    # Every family is used somewhere.
    for family in {n for n in known if not n.endswith(("_total", "_bucket", "_sum", "_count"))}:
        assert used & {family, family + "_total", family + "_bucket"}, family
    # Each alert is explained in docs/operations.md.
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for rule in rules:
        assert f"`{rule['alert']}`" in doc, rule["alert"]


def test_systemd_unit_migrates_runs_and_outlasts_the_shutdown_budget():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "guyub.service")
    service = unit["Service"]
    assert service["ExecStartPre"].endswith("guyub db migrate")
    assert service["ExecStart"].endswith("guyub run")
    assert service["KillSignal"] == "SIGTERM"
    assert float(service["TimeoutStopSec"]) > Settings().worker.shutdown_timeout
    text = (DEPLOY / "systemd" / "guyub.service").read_text(encoding="utf-8")
    assert "Environment=GUYUB_DATABASE__URL=sqlite:///var/lib/guyub/" in text
    assert unit["Install"]["WantedBy"] == "multi-user.target"
