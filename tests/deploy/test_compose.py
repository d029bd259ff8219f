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


# -- the deployment lets no one in -------------------------------------------------------------------------------
PUBLISHED = {"mysql", "airflow-apiserver", "grafana"}  # what a person uses: analysts' SQL, Airflow, Grafana


def test_only_what_a_person_uses_is_published_and_on_the_loopback_by_default(resolved: dict):
    published = {name: service["ports"] for name, service in resolved["services"].items() if service.get("ports")}
    assert set(published) == PUBLISHED
    for name, ports in published.items():  # "address:host port:container port/protocol", as docker-compose prints
        assert all(str(port).startswith("127.0.0.1:") for port in ports), f"{name}: {ports}"


def test_mysql_root_is_the_containers_own_and_each_account_is_made_by_the_init_script(resolved: dict):
    environment = resolved["services"]["mysql"]["environment"]
    assert environment["MYSQL_ROOT_HOST"] == "localhost"
    # the image grants MYSQL_USER every privilege on MYSQL_DATABASE: init.sh makes the accounts instead
    assert not {"MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE"} & set(environment)


def test_the_read_only_sessions_are_limited_as_on_the_local_stack(resolved: dict):
    from jobpulse.stack.mariadb import readonly_session_sql

    user = resolved["services"]["grafana"]["environment"]["JOBPULSE_MYSQL_READONLY_USER"]
    command = resolved["services"]["mysql"]["command"]
    assert f"--init-connect={readonly_session_sql(user, server='mysql')}" in command


def test_cassandra_authenticates_as_the_local_stack_does(resolved: dict):
    from jobpulse.stack.cassandra import AUTH_FLAGS

    assert resolved["services"]["cassandra"]["environment"]["JVM_EXTRA_OPTS"].split() == AUTH_FLAGS
    assert "jobpulse stack accounts cassandra" in " ".join(resolved["services"]["airflow-init"]["command"])


def test_kafka_runs_the_local_stacks_configuration_with_sasl(resolved: dict):
    kafka = resolved["services"]["kafka"]
    targets = {target: Path(source) for _, source, target in mounts(kafka)}
    assert (
        targets["/opt/jobpulse/kafka.properties"]
        == PROJECT_ROOT / "jobpulse" / "stack" / "templates" / "kafka.properties"
    )
    assert targets["/opt/jobpulse/start.sh"] == DOCKER / "kafka" / "start.sh"
    assert "SASL_PLAINTEXT://" in targets["/opt/jobpulse/kafka.properties"].read_text()


def test_every_client_of_cassandra_and_kafka_gets_credentials(resolved: dict):
    for name, service in resolved["services"].items():
        environment = service.get("environment") or {}
        if "JOBPULSE_CASSANDRA_HOSTS" in environment:
            assert {"JOBPULSE_CASSANDRA_USER", "JOBPULSE_CASSANDRA_PASSWORD"} <= set(environment), name
            assert {"JOBPULSE_KAFKA_USER", "JOBPULSE_KAFKA_PASSWORD"} <= set(environment), name


def test_airflow_processes_share_one_set_of_secrets(resolved: dict):
    keys = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY")
    airflow = [
        service
        for name, service in resolved["services"].items()
        if name.startswith("airflow-") and name != "airflow-db"
    ]
    assert len(airflow) >= 4
    values = {tuple(service["environment"][key] for key in keys) for service in airflow}
    assert len(values) == 1 and all(values.pop())


def test_secrets_stay_out_of_the_image():
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {"docker/.env", ".env"} <= set(ignored)


def test_the_collectors_health_check_is_its_progress_not_its_process(resolved: dict):
    assert resolved["services"]["collector"]["healthcheck"]["test"] == ["CMD", "jobpulse", "collect", "--health"]


@pytest.mark.parametrize("password", ["change-me-kafka", 'with"quote', "back\\slash"])
def test_the_kafka_start_script_refuses_placeholders_and_jaas_breaking_passwords(password: str):
    env = {"KAFKA_CLUSTER_ID": "x", "JOBPULSE_KAFKA_USER": "jobpulse", "JOBPULSE_KAFKA_PASSWORD": password}
    result = subprocess.run(["bash", str(DOCKER / "kafka" / "start.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "JOBPULSE_KAFKA_PASSWORD" in result.stderr
