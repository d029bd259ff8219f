"""docker/docker-compose.yml cannot run here (no Docker engine), so it is validated: Debian's docker-compose
resolves it, and its content is checked against the versions and contracts of the local stack."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from jobpulse.config import PROJECT_ROOT

DOCKER = PROJECT_ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="make setup installs docker-compose")


def compose_config(compose_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker-compose", "-f", str(compose_file), "--env-file", str(DOCKER / ".env.example"), "config"],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def resolved() -> dict:
    result = compose_config(COMPOSE)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def maven_version(bundle: str, artifact: str) -> str:
    pom = (PROJECT_ROOT / "jobpulse" / "stack" / "maven" / f"{bundle}.xml").read_text()
    match = re.search(rf"<artifactId>{artifact}</artifactId>\s*<version>([^<]+)</version>", pom)
    assert match, f"{artifact} not in {bundle}.xml"
    return match.group(1)


def mounts(service: dict) -> list[tuple[str, str, str]]:
    """(type, source, target) of each volume, from the long or the short syntax docker-compose prints."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found.append((volume["type"], volume["source"], volume["target"]))
        else:
            source, target = volume.split(":")[:2]
            found.append(("bind" if source.startswith(("/", ".")) else "volume", source, target))
    return found


def test_the_validator_rejects_a_broken_file(tmp_path: Path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  cassandra:\n    image: cassandra:5.0.8\n    restart_policy_typo: always\n")
    assert compose_config(broken).returncode != 0


def test_every_service_of_the_stack_plus_airflow_and_grafana(resolved: dict):
    assert {"cassandra", "kafka", "mysql", "spark-thrift", "airflow-apiserver", "airflow-scheduler", "grafana"} <= set(
        resolved["services"]
    )


def test_images_are_pinned_to_exact_versions(resolved: dict):
    for name, service in resolved["services"].items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+[\w.-]*", image), f"{name}: {image} is not pinned to a version"


def test_images_match_the_local_stack_versions(resolved: dict):
    services = resolved["services"]
    assert services["cassandra"]["image"] == f"cassandra:{maven_version('cassandra', 'cassandra-all')}"
    assert services["kafka"]["image"] == f"apache/kafka:{maven_version('kafka', 'kafka_2.13')}"
    assert services["mysql"]["image"].startswith("mysql:8.4.")


def test_every_long_running_service_has_a_health_check(resolved: dict):
    for name, service in resolved["services"].items():
        if name == "airflow-init":  # a one-shot migration
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_state_lives_in_named_volumes_and_bind_mounts_exist(resolved: dict):
    named = set(resolved["volumes"])
    for name, service in resolved["services"].items():
        for kind, source, _ in mounts(service):
            if kind == "volume":
                assert source in named, f"{name}: undeclared volume {source}"
            else:
                assert Path(source).exists(), f"{name}: mounts missing {source}"


def test_grafana_mounts_the_provisioning_and_dashboards(resolved: dict):
    targets = {target: Path(source) for _, source, target in mounts(resolved["services"]["grafana"])}
    assert targets["/etc/grafana/provisioning"] == PROJECT_ROOT / "grafana" / "provisioning"
    assert targets["/var/lib/grafana/dashboards"] == PROJECT_ROOT / "grafana" / "dashboards"


def test_no_secret_is_written_into_the_compose_file():
    text = COMPOSE.read_text()
    assert not re.search(r"(?i)password:\s*(?!\$\{)\S", text), "passwords must come from the env file"


def test_grafana_provisioning_resolves_in_the_compose_deployment(resolved: dict):
    """Every $VARIABLE the provisioning files read is in Grafana's environment; the data source points at the
    MySQL service; the dashboard provider reads the folder the dashboards are mounted at."""
    grafana = resolved["services"]["grafana"]
    provisioning = PROJECT_ROOT / "grafana" / "provisioning"
    referenced = {
        name
        for path in provisioning.rglob("*.yaml")
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", path.read_text())
    }
    assert referenced, "the data source takes its credentials from the environment"
    assert referenced <= set(grafana["environment"]), f"missing in Grafana's environment: {referenced}"
    (source,) = yaml.safe_load((provisioning / "datasources" / "mysql.yaml").read_text())["datasources"]
    host, port = source["url"].split(":")
    assert host in resolved["services"] and port == "3306"
    assert "mysql" in grafana["depends_on"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "jobpulse.yaml").read_text())["providers"]
    targets = {target: Path(origin) for _, origin, target in mounts(grafana)}
    assert targets[provider["options"]["path"]] == PROJECT_ROOT / "grafana" / "dashboards"
