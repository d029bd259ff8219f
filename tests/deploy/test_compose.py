"""The compose deployments cannot run here (no Docker engine), so they are validated: Debian's docker-compose
resolves docker/docker-compose.yml alone (one of each service) and with docker/docker-compose.cluster.yml laid
over it (the cluster topology), and their content is checked against the versions and contracts of the local
stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jobpulse.config import PROJECT_ROOT, load_settings

DOCKER = PROJECT_ROOT / "docker"
COMPOSE = DOCKER / "docker-compose.yml"
CLUSTER = DOCKER / "docker-compose.cluster.yml"
DEPLOYMENTS = {"single": [COMPOSE], "cluster": [COMPOSE, CLUSTER]}

pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="make setup installs docker-compose")


def compose_config(*compose_files: Path) -> subprocess.CompletedProcess[str]:
    files = [argument for path in compose_files for argument in ("-f", str(path))]
    return subprocess.run(
        ["docker-compose", *files, "--env-file", str(DOCKER / ".env.example"), "config"],
        capture_output=True,
        text=True,
    )


def resolve(deployment: str) -> dict:
    result = compose_config(*DEPLOYMENTS[deployment])
    assert result.returncode == 0, result.stderr
    assert "variable is not set" not in result.stderr, result.stderr  # every variable is in .env.example
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module", params=list(DEPLOYMENTS))
def resolved(request: pytest.FixtureRequest) -> dict:
    return resolve(request.param)


@pytest.fixture(scope="module")
def cluster() -> dict:
    return resolve("cluster")


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


@pytest.mark.parametrize("path", sorted(DOCKER.glob("*.yml")), ids=lambda path: path.name)
def test_no_secret_is_written_into_the_compose_files(path: Path):
    text = path.read_text()
    assert not re.search(r"(?i)(password|secret):\s*(?!\$\{)\S", text), "secrets must come from the env file"
    assert not re.search(r"redis://:(?!\$\{)", text)


def test_grafana_provisioning_resolves_in_the_compose_deployment(resolved: dict):
    """Every $VARIABLE the provisioning files read is in Grafana's environment; the data source points at the
    MySQL service; the dashboard provider reads the folder the dashboards are mounted at."""
    grafana = resolved["services"]["grafana"]
    provisioning = PROJECT_ROOT / "grafana" / "provisioning"
    referenced = {
        name
        for path in provisioning.rglob("*.yaml")
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", path.read_text().replace("$$", ""))  # $$: a literal $
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

    nodes = [service for service in resolved["services"].values() if service["image"].startswith("cassandra:")]
    assert nodes and all(node["environment"]["JVM_EXTRA_OPTS"].split() == AUTH_FLAGS for node in nodes)
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


def test_the_airflow_scheduler_loops_as_the_demos_does(resolved: dict):
    from jobpulse.demo import SCHEDULER_IDLE_SLEEP_SECONDS

    scheduler = resolved["services"]["airflow-scheduler"]["environment"]
    assert scheduler["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"] == SCHEDULER_IDLE_SLEEP_SECONDS


def test_airflow_finds_the_local_settings_that_preload_the_tasks_modules(resolved: dict):
    airflow = [name for name in resolved["services"] if name.startswith("airflow-") and name != "airflow-db"]
    assert "airflow-scheduler" in airflow
    for name in airflow:
        assert resolved["services"][name]["environment"]["PYTHONPATH"] == "/opt/jobpulse/src/orchestration", name
    assert (PROJECT_ROOT / "orchestration" / "airflow_local_settings.py").is_file()


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


def kafka_properties(service: dict) -> dict[str, str]:
    """The server.properties docker/kafka/start.sh renders for a Kafka service of a resolved compose file."""
    env = {
        **service["environment"],
        "JOBPULSE_KAFKA_PASSWORD": "s3cret",  # the example's placeholder is refused
        "KAFKA_PROPERTIES_TEMPLATE": str(PROJECT_ROOT / "jobpulse" / "stack" / "templates" / "kafka.properties"),
    }
    result = subprocess.run(
        ["bash", str(DOCKER / "kafka" / "start.sh"), "--print"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert not re.search(r"\$[a-z_]+", result.stdout), "a placeholder of the template is left"
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if line and not line.startswith("#"))


def test_the_single_kafka_is_one_broker_whose_controller_listens_on_its_loopback():
    properties = kafka_properties(resolve("single")["services"]["kafka"])
    assert properties["node.id"] == "1" and properties["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert "CONTROLLER://127.0.0.1:9093" in properties["listeners"]
    assert properties["default.replication.factor"] == "1"


# -- the cluster file: the local cluster topology's shape ---------------------------------------------------------
def services_of(resolved: dict, image: str) -> list[str]:
    return sorted(name for name, service in resolved["services"].items() if service["image"].startswith(image))


def jobpulse_settings(service: dict):
    """The settings a JobPulse container loads from its environment (placeholders replaced by real secrets)."""
    real = {key: "s3cret" if value.startswith("change-me") else value for key, value in service["environment"].items()}
    return load_settings(real)


def test_the_cluster_has_three_cassandra_nodes_in_one_datacenter_joining_in_turn(cluster: dict):
    nodes = services_of(cluster, "cassandra:")
    assert nodes == ["cassandra", "cassandra-2", "cassandra-3"]
    services = cluster["services"]
    for node in nodes:
        environment = services[node]["environment"]
        assert (environment["CASSANDRA_SEEDS"], environment["CASSANDRA_DC"]) == ("cassandra", "datacenter1")
        assert environment["CASSANDRA_ENDPOINT_SNITCH"] == "GossipingPropertyFileSnitch"
    # two nodes may not bootstrap at once: each waits for the one before it
    assert list(services["cassandra-2"]["depends_on"]) == ["cassandra"]
    assert list(services["cassandra-3"]["depends_on"]) == ["cassandra-2"]
    data = {source for node in nodes for kind, source, _ in mounts(services[node]) if kind == "volume"}
    assert len(data) == 3, "each node has its own data volume"


def test_the_cluster_has_three_kafka_brokers_that_are_the_controller_quorum(cluster: dict):
    brokers = services_of(cluster, "apache/kafka:")
    assert brokers == ["kafka", "kafka-2", "kafka-3"]
    properties = {broker: kafka_properties(cluster["services"][broker]) for broker in brokers}
    node_ids = {broker: properties[broker]["node.id"] for broker in brokers}
    assert sorted(node_ids.values()) == ["1", "2", "3"]
    voters = {f"{node_ids[broker]}@{broker}:9093" for broker in brokers}
    for broker, config in properties.items():
        assert set(config["controller.quorum.voters"].split(",")) == voters
        assert config["advertised.listeners"] == f"SASL_PLAINTEXT://{broker}:9092"
        # the controllers listen on the compose network, so they authenticate too
        assert "CONTROLLER://0.0.0.0:9093" in config["listeners"]
        assert "CONTROLLER:SASL_PLAINTEXT" in config["listener.security.protocol.map"].split(",")
        assert config["sasl.mechanism.controller.protocol"] == "PLAIN"
        assert (config["default.replication.factor"], config["min.insync.replicas"]) == ("3", "2")
        assert config["offsets.topic.replication.factor"] == "3"
    data = {source for broker in brokers for kind, source, _ in mounts(cluster["services"][broker]) if kind == "volume"}
    assert len(data) == 3, "each broker has its own data volume"


def test_every_jobpulse_container_works_on_the_whole_cluster(cluster: dict):
    jobpulse = [name for name, service in cluster["services"].items() if service["image"].startswith("jobpulse:")]
    assert {"spark-thrift", "spark-master", "spark-worker", "airflow-worker", "collector"} <= set(jobpulse)
    for name in jobpulse:
        settings = jobpulse_settings(cluster["services"][name])
        assert list(settings.cassandra_hosts) == services_of(cluster, "cassandra:"), name
        assert [host for host, _ in settings.kafka_brokers] == services_of(cluster, "apache/kafka:"), name
        assert (settings.cassandra_replication_factor, settings.kafka_replication_factor) == (3, 3), name
        assert (settings.kafka_min_insync_replicas, settings.cassandra_consistency) == (2, "LOCAL_QUORUM"), name
        assert settings.spark_master == "spark://spark-master:7077", name
        assert settings.spark_rpc_password, f"{name}: Spark's RPC is not authenticated"
    secrets = {cluster["services"][name]["environment"]["JOBPULSE_SPARK_RPC_PASSWORD"] for name in jobpulse}
    assert len(secrets) == 1, "one shared secret for every Spark process"


def test_spark_runs_a_master_and_workers_that_scale(cluster: dict):
    services = cluster["services"]
    assert services["spark-master"]["command"] == ["jobpulse", "stack", "serve", "spark-master"]
    worker = services["spark-worker"]
    assert "jobpulse stack serve spark-worker-1" in worker["command"][-1]
    # `--scale spark-worker=N` needs a service with no fixed name, hostname or published port
    assert not {"container_name", "hostname", "ports"} & set(worker)
    assert list(worker["depends_on"]) == ["spark-master"] and "spark-master" in services["spark-thrift"]["depends_on"]
    # executors write the lakehouse's files where the Thrift server reads them
    lakehouse = ("volume", "lakehouse", "/var/lib/jobpulse/lakehouse")
    assert lakehouse in mounts(worker) and lakehouse in mounts(services["spark-thrift"])
    # drivers and workers are reached at their own address: a name, or the container's address when it scales
    assert services["spark-thrift"]["environment"]["JOBPULSE_SPARK_DRIVER_HOST"] == "spark-thrift"
    assert "JOBPULSE_SPARK_DRIVER_HOST=$$(hostname -i" in worker["command"][-1]


def test_airflow_runs_the_celery_executor_on_a_redis_with_a_password(cluster: dict):
    services = cluster["services"]
    airflow = [name for name in services if name.startswith("airflow-") and name != "airflow-db"]
    assert "airflow-worker" in airflow
    redis_password = services["redis"]["environment"]["REDIS_PASSWORD"]
    assert redis_password and "--requirepass" in " ".join(services["redis"]["command"])
    for name in airflow:
        environment = services[name]["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert environment["AIRFLOW__CELERY__BROKER_URL"] == f"redis://:{redis_password}@redis:6379/0", name
    worker = services["airflow-worker"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert not {"container_name", "hostname", "ports"} & set(worker)
    assert "inspect ping" in worker["healthcheck"]["test"][-1]


@pytest.mark.parametrize(
    ("password", "starts"), [("change-me-redis", False), ("", False), ("p@ss:word", False), ("Real_secret-42", True)]
)
def test_redis_starts_only_with_a_real_url_safe_password(cluster: dict, password: str, starts: bool):
    shell, flag, script = cluster["services"]["redis"]["command"]
    script = script.replace("$$", "$").replace("exec redis-server", "echo redis-server")  # as compose runs it
    result = subprocess.run([shell, flag, script], env={"REDIS_PASSWORD": password}, capture_output=True, text=True)
    assert (result.returncode == 0) == starts, result.stderr


def test_the_init_makes_the_accounts_on_a_node_the_deployment_has(resolved: dict):
    """`jobpulse stack accounts cassandra` names Cassandra's first node under either file's settings."""
    from jobpulse import stack

    init = resolved["services"]["airflow-init"]
    (name,) = re.findall(r"jobpulse stack accounts (\S+)", " ".join(init["command"]))
    settings = jobpulse_settings(init)
    node = stack.service(settings, name)
    assert (node.name, node.host) in {("cassandra", "cassandra"), ("cassandra-1", "cassandra")}


def test_the_images_extra_packages_resolve_against_the_lock():
    """The image installs docker/requirements-compose.txt within constraints.txt (the Celery executor's packages)."""
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
         "-r", str(DOCKER / "requirements-compose.txt"), "-c", str(PROJECT_ROOT / "constraints.txt")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


# -- Airflow's connections ----------------------------------------------------------------------------------------
# passwords with every character a URI gives a meaning to (and JSON's quote and backslash)
URI_HOSTILE = {"JOBPULSE_MYSQL_PASSWORD": 'p@ss:w/rd%2F?#&"\\ é', "JOBPULSE_CASSANDRA_PASSWORD": "c@s:s/%+&=;,"}
CONNECTION_VARIABLES = ("JOBPULSE_", "AIRFLOW_CONN_")  # what the settings and the connections are read from


def airflow_services(resolved: dict) -> list[str]:
    return sorted(name for name in resolved["services"] if name.startswith("airflow-") and name != "airflow-db")


def started_environment(service: dict, secrets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A container's entrypoint run as the image runs it (`jobpulse` being this checkout's), on the container's
    environment with ``secrets`` in place of the example's, starting a command that prints its environment."""
    entrypoint = service["entrypoint"]
    assert entrypoint[0] == "jobpulse", entrypoint
    environment = {**service["environment"], **secrets, "PATH": os.environ["PATH"], "PYTHONPATH": str(PROJECT_ROOT)}
    printing = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
    return subprocess.run(
        [sys.executable, "-m", "jobpulse.cli", *entrypoint[1:], *printing],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_airflow_container_has_the_pipelines_connections(resolved: dict, monkeypatch: pytest.MonkeyPatch):
    """Each Airflow process starts with the three connections, pointing at the deployment's services with the
    passwords of docker/.env intact, and the settings the tasks read through them are the JOBPULSE_* settings."""
    from airflow.sdk import BaseHook

    from jobpulse.scheduling import CASSANDRA_CONN, MYSQL_CONN, SPARK_CONN, settings_from_connections

    services = resolved["services"]
    airflow = airflow_services(resolved)
    assert {"airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"} <= set(airflow)
    assert ("airflow-worker" in airflow) == ("redis" in services)  # the Celery workers of the cluster
    thrift = jobpulse_settings(services["spark-thrift"])
    for name in airflow:
        secrets = {
            key: URI_HOSTILE.get(key, "s3cret") for key, value in services[name]["environment"].items()
            if value.startswith("change-me")
        }  # fmt: skip
        started = started_environment(services[name], secrets)
        assert started.returncode == 0, f"{name}: {started.stderr}"
        for variable in [variable for variable in os.environ if variable.startswith(CONNECTION_VARIABLES)]:
            monkeypatch.delenv(variable)
        for variable, value in json.loads(started.stdout).items():
            if variable.startswith(CONNECTION_VARIABLES):
                monkeypatch.setenv(variable, value)

        spark, mysql, cassandra = (BaseHook.get_connection(conn) for conn in (SPARK_CONN, MYSQL_CONN, CASSANDRA_CONN))
        assert (spark.conn_type, spark.port) == ("hiveserver2", thrift.spark_thrift_port), name
        assert services[spark.host]["command"] == ["jobpulse", "stack", "serve", "spark-thrift"], name
        assert (mysql.conn_type, mysql.port) == ("mysql", 3306), name
        assert services[mysql.host]["image"].startswith("mysql:"), name
        assert (mysql.login, mysql.password) == ("jobpulse", URI_HOSTILE["JOBPULSE_MYSQL_PASSWORD"]), name
        assert mysql.schema == services["mysql"]["environment"]["JOBPULSE_MYSQL_DATABASE"], name
        assert (cassandra.conn_type, cassandra.port) == ("cassandra", 9042), name
        assert cassandra.host.split(",") == services_of(resolved, "cassandra:"), name
        assert (cassandra.login, cassandra.password) == ("jobpulse", URI_HOSTILE["JOBPULSE_CASSANDRA_PASSWORD"]), name
        assert settings_from_connections() == load_settings(), name


def test_an_airflow_container_with_the_examples_placeholders_does_not_start(resolved: dict):
    started = started_environment(resolved["services"]["airflow-scheduler"], {})
    assert started.returncode == 1 and not started.stdout
    assert re.search(r"jobpulse with-connections: .*JOBPULSE_\w+_PASSWORD", started.stderr), started.stderr
