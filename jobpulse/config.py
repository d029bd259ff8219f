"""The one place JobPulse reads its configuration from.

Every setting is an environment variable with a documented local default (``jobpulse config`` prints the
table, the README shows it). A ``.env`` file at the project root, when present, fills in variables that the
environment does not set, so a developer can keep local overrides out of their shell profile.

Each setting is declared once, as a field of :class:`Settings`: its type and range, its variable, its local
default (and the cluster topology's, where that differs) and what it is for. ``OPTIONS``, the README's table,
``jobpulse config`` and :func:`environment` all read that declaration.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic.dataclasses import dataclass as validated_dataclass
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

PROJECT_ROOT = Path(__file__).resolve().parent.parent


Topology = Literal["single", "cluster"]
TOPOLOGIES: tuple[str, ...] = get_args(Topology)
Consistency = Literal["ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"]
CONSISTENCY_LEVELS: tuple[str, ...] = get_args(Consistency)


def addresses(text: str) -> tuple[str, ...]:
    """A comma-separated list of addresses, as a list setting (or an Airflow connection's host) holds them."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _parsed_addresses(value: object) -> object:
    return addresses(value) if isinstance(value, str) else value


def _resolved_path(value: object) -> object:
    return Path(value).resolve() if isinstance(value, str) else value


def _memory_size(value: str) -> str:
    # what both the JVM's -Xmx and Spark's memory settings read the same way: a bare number is bytes to one and
    # MiB to the other
    if not re.fullmatch(r"[1-9][0-9]*[kmgtKMGT]", value):
        raise ValueError("must be a memory size, a number and k, m, g or t (512m, 2g)")
    return value


# The types of the settings: what their variables' text parses to, and the values that can work.
Port = Annotated[int, Field(ge=1, le=65535)]
Count = Annotated[int, Field(ge=1)]  # replicas, partitions, workers: at least one
Seconds = Annotated[int, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
MemorySize = Annotated[str, AfterValidator(_memory_size)]
Addresses = Annotated[tuple[str, ...], BeforeValidator(_parsed_addresses), Field(min_length=1)]
ResolvedPath = Annotated[Path, BeforeValidator(_resolved_path)]


def setting(env: str, default: str, description: str, *, cluster: str | None = None, secret: bool = False) -> Any:
    """A field of :class:`Settings`: its environment variable, the variable's local default (``cluster``: the
    default in the cluster topology, where it differs) and what it is for. A ``secret`` never shows in a repr
    and ``jobpulse config`` masks it. An empty path default is derived in :func:`load_settings`."""
    return Field(
        description=description,
        repr=not secret,
        json_schema_extra={"env": env, "default": default, "cluster_default": cluster, "secret": secret},
    )


@validated_dataclass(frozen=True, kw_only=True)
class Settings:
    """Resolved configuration, validated. Build it with :func:`load_settings`, never by hand in production code
    (``dataclasses.replace`` of one validates the values it changes)."""

    topology: Topology = setting(
        "JOBPULSE_TOPOLOGY",
        "single",
        "`single`: one node of each service; `cluster`: 3 Cassandra nodes, 3 Kafka brokers, a Spark standalone "
        "master and workers (sets the defaults marked cluster)",
    )
    state_dir: ResolvedPath = setting(
        "JOBPULSE_STATE_DIR",
        "",
        "data, logs and PID files of the local stack (default: .stack/; cluster: .stack-cluster/)",
    )
    cache_dir: ResolvedPath = setting("JOBPULSE_CACHE_DIR", "", "downloaded JVM artifacts (default: .cache/)")
    java_home: str = setting(
        "JOBPULSE_JAVA_HOME", "", "JDK 17 used by the stack (default: JAVA_HOME, else `java` on PATH)"
    )
    cassandra_hosts: Addresses = setting(
        "JOBPULSE_CASSANDRA_HOSTS",
        "127.0.0.1",
        "Cassandra contact points, comma-separated (the local stack runs a node on each)",
        cluster="127.0.0.1,127.0.0.2,127.0.0.3",
    )
    cassandra_port: Port = setting("JOBPULSE_CASSANDRA_PORT", "9042", "Cassandra CQL port")
    cassandra_storage_port: Port = setting("JOBPULSE_CASSANDRA_STORAGE_PORT", "7000", "Cassandra inter-node port")
    cassandra_jmx_port: Port = setting(
        "JOBPULSE_CASSANDRA_JMX_PORT", "7199", "JMX port of the first local node (on 127.0.0.1; the next nodes +1)"
    )
    cassandra_datacenter: str = setting(
        "JOBPULSE_CASSANDRA_DATACENTER", "datacenter1", "Cassandra datacenter of the pipeline (its local DC)"
    )
    cassandra_consistency: Consistency = setting(
        "JOBPULSE_CASSANDRA_CONSISTENCY",
        "LOCAL_QUORUM",
        "consistency level of the raw log's writes and reads (the change feed's too)",
    )
    cassandra_heap: MemorySize = setting("JOBPULSE_CASSANDRA_HEAP", "1G", "Cassandra JVM heap")
    cassandra_user: str = setting("JOBPULSE_CASSANDRA_USER", "jobpulse", "Cassandra role of the pipeline")
    cassandra_password: str = setting(
        "JOBPULSE_CASSANDRA_PASSWORD", "cassandra-local", "Cassandra role's password", secret=True
    )
    cassandra_keyspace: str = setting("JOBPULSE_CASSANDRA_KEYSPACE", "datalake", "keyspace of the raw event log")
    cassandra_replication_factor: Count = setting(
        "JOBPULSE_CASSANDRA_REPLICATION_FACTOR",
        "1",
        "replication factor of the keyspaces in the pipeline's datacenter (3 in production)",
        cluster="3",
    )
    kafka_bootstrap_servers: Addresses = setting(
        "JOBPULSE_KAFKA_BOOTSTRAP_SERVERS",
        "127.0.0.1:9092",
        "Kafka brokers, comma-separated host:port (the local stack runs a broker on each)",
        cluster="127.0.0.1:9092,127.0.0.2:9092,127.0.0.3:9092",
    )
    kafka_controller_port: Port = setting(
        "JOBPULSE_KAFKA_CONTROLLER_PORT", "9093", "Kafka KRaft controller port (on each local broker's address)"
    )
    kafka_replication_factor: Count = setting(
        "JOBPULSE_KAFKA_REPLICATION_FACTOR", "1", "replication factor of the topics", cluster="3"
    )
    kafka_min_insync_replicas: Count = setting(
        "JOBPULSE_KAFKA_MIN_INSYNC_REPLICAS",
        "1",
        "replicas that must have a message before the broker acknowledges it (producers send with acks=all)",
        cluster="2",
    )
    kafka_heap: MemorySize = setting("JOBPULSE_KAFKA_HEAP", "512M", "Kafka JVM heap")
    kafka_user: str = setting("JOBPULSE_KAFKA_USER", "jobpulse", "Kafka SASL/SCRAM-SHA-512 user of the pipeline")
    kafka_password: str = setting(
        "JOBPULSE_KAFKA_PASSWORD",
        "kafka-local",
        "Kafka user's password (neither \" nor \\ : it is written into JAAS)",
        secret=True,
    )
    kafka_topic: str = setting("JOBPULSE_KAFKA_TOPIC", "tracking", "topic of the tracking events")
    kafka_dlq_topic: str = setting("JOBPULSE_KAFKA_DLQ_TOPIC", "tracking.dlq", "dead-letter topic of rejected messages")
    kafka_partitions: Count = setting("JOBPULSE_KAFKA_PARTITIONS", "6", "partitions of the tracking topic")
    collector_group: str = setting("JOBPULSE_COLLECTOR_GROUP", "jobpulse-collector", "consumer group of the collector")
    mysql_host: str = setting("JOBPULSE_MYSQL_HOST", "127.0.0.1", "MySQL/MariaDB address")
    mysql_port: Port = setting("JOBPULSE_MYSQL_PORT", "3306", "MySQL/MariaDB port")
    mysql_database: str = setting("JOBPULSE_MYSQL_DATABASE", "data_warehouse", "serving database of the marts")
    mysql_user: str = setting("JOBPULSE_MYSQL_USER", "jobpulse", "pipeline writer account")
    mysql_password: str = setting("JOBPULSE_MYSQL_PASSWORD", "jobpulse-local", "pipeline writer password", secret=True)
    mysql_readonly_user: str = setting("JOBPULSE_MYSQL_READONLY_USER", "grafana", "read-only account (Grafana)")
    mysql_readonly_password: str = setting(
        "JOBPULSE_MYSQL_READONLY_PASSWORD", "grafana-local", "read-only password", secret=True
    )
    mysql_admin_password: str = setting(
        "JOBPULSE_MYSQL_ADMIN_PASSWORD",
        "admin-local",
        "password given to MariaDB's root account at bootstrap",
        secret=True,
    )
    metastore_database: str = setting("JOBPULSE_METASTORE_DATABASE", "metastore", "Hive metastore database")
    metastore_user: str = setting("JOBPULSE_METASTORE_USER", "metastore", "Hive metastore account")
    metastore_password: str = setting(
        "JOBPULSE_METASTORE_PASSWORD", "metastore-local", "Hive metastore password", secret=True
    )
    lakehouse_database: str = setting(
        "JOBPULSE_LAKEHOUSE_DATABASE", "datalake", "lakehouse database of the landed events"
    )
    ingest_safety_lag: Seconds = setting(
        "JOBPULSE_INGEST_SAFETY_LAG", "20", "the longest an arrival waits before the ingest may capture it (seconds)"
    )
    dbt_lakehouse_schema: str = setting(
        "JOBPULSE_DBT_LAKEHOUSE_SCHEMA", "lakehouse", "lakehouse database of the dbt models"
    )
    dbt_warehouse_executable: ResolvedPath = setting(
        "JOBPULSE_DBT_WAREHOUSE_EXECUTABLE",
        "",
        "dbt of the warehouse project, dbt-mysql 1.7 in a virtualenv of its own (default: .venv-warehouse/bin/dbt)",
    )
    task_retries: Annotated[int, Field(ge=0)] = setting(
        "JOBPULSE_TASK_RETRIES", "2", "retries of a failed Airflow task (with backoff)"
    )
    pipeline_idle_wait: Seconds = setting(
        "JOBPULSE_PIPELINE_IDLE_WAIT", "300", "seconds a pipeline run waits for new data before it ends, skipped"
    )
    alert_email: str = setting(
        "JOBPULSE_ALERT_EMAIL",
        "",
        "who a failed pipeline DAG run is emailed to, comma-separated, through Airflow's SMTP connection "
        "(`smtp_default`; empty: the failure is only logged)",
    )
    alert_events_age: Seconds = setting(
        "JOBPULSE_ALERT_EVENTS_AGE",
        "5400",
        "Grafana alerts when the newest event hour in `events` began longer ago than this (seconds)",
    )
    alert_success_age: Seconds = setting(
        "JOBPULSE_ALERT_SUCCESS_AGE", "1800", "Grafana alerts when no pipeline run succeeded for this long (seconds)"
    )
    alert_dead_letter_rate: Fraction = setting(
        "JOBPULSE_ALERT_DEAD_LETTER_RATE",
        "0.01",
        "Grafana alerts when the collectors dead-lettered more than this share of the messages they consumed in "
        "the last hour",
    )
    alert_collector_lag: Annotated[int, Field(ge=0)] = setting(
        "JOBPULSE_ALERT_COLLECTOR_LAG",
        "50000",
        "Grafana alerts when the collector's consumer group has more messages than this not yet stored",
    )
    alert_collector_silence: Seconds = setting(
        "JOBPULSE_ALERT_COLLECTOR_SILENCE",
        "120",
        "Grafana alerts when a running collector has not reported its counters to MySQL for this long "
        "(seconds; it reports every 10 s)",
    )
    spark_thrift_host: str = setting("JOBPULSE_SPARK_THRIFT_HOST", "127.0.0.1", "Spark Thrift server address")
    spark_thrift_port: Port = setting("JOBPULSE_SPARK_THRIFT_PORT", "10000", "Spark Thrift server port")
    spark_driver_memory: MemorySize = setting("JOBPULSE_SPARK_DRIVER_MEMORY", "2g", "driver memory of Spark processes")
    spark_master: str = setting(
        "JOBPULSE_SPARK_MASTER",
        "local[2]",
        "Spark master of the Thrift server and jobs (a spark:// URL runs their executors on a standalone cluster)",
        cluster="spark://127.0.0.1:7077",
    )
    spark_driver_host: str = setting(
        "JOBPULSE_SPARK_DRIVER_HOST", "127.0.0.1", "address of Spark drivers, which executors connect back to"
    )
    spark_workers: Count = setting(
        "JOBPULSE_SPARK_WORKERS", "2", "Spark standalone workers the local cluster runs, 1 core each"
    )
    spark_worker_memory: MemorySize = setting(
        "JOBPULSE_SPARK_WORKER_MEMORY", "1g", "memory of each standalone worker (its executor's heap)"
    )
    spark_rpc_password: str = setting(
        "JOBPULSE_SPARK_RPC_PASSWORD",
        "",
        "shared secret of Spark's RPC (spark.authenticate) between drivers, master, workers and executors "
        "(empty: none, for a cluster on the loopback)",
        secret=True,
    )

    @property
    def spark_standalone(self) -> bool:
        """Whether Spark runs its executors on a standalone cluster's workers (a spark:// master)."""
        return self.spark_master.startswith("spark://")

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(self.kafka_bootstrap_servers)

    @property
    def kafka_brokers(self) -> list[tuple[str, int]]:
        """(host, port) of each bootstrap server."""
        return [_host_port(server) for server in self.kafka_bootstrap_servers]

    @property
    def warehouse_dir(self) -> Path:
        """Where the lakehouse tables' files live (shared by the Thrift server and Spark jobs)."""
        return self.state_dir / "lakehouse"


@dataclass(frozen=True)
class Option:
    """A setting as its environment variable sees it, read from its field of :class:`Settings`. A setting whose
    local default differs in the cluster topology (``JOBPULSE_TOPOLOGY=cluster``) says so in ``cluster_default``."""

    env: str
    default: str
    help: str
    cluster_default: str | None = None
    secret: bool = False

    def default_for(self, topology: str) -> str:
        return self.cluster_default if topology == "cluster" and self.cluster_default is not None else self.default


def _option(field: FieldInfo) -> Option:
    extra: Any = field.json_schema_extra  # what setting() put there
    return Option(extra["env"], extra["default"], field.description, extra["cluster_default"], extra["secret"])


# field name -> option, in the order of the fields. Paths left empty default to folders under the project root
# (see load_settings).
OPTIONS: dict[str, Option] = {name: _option(field) for name, field in Settings.__pydantic_fields__.items()}


# The passwords whose local defaults (and docker/.env.example's `change-me-*` placeholders) are refused as soon
# as any service lives off this machine's loopback: those defaults are public, in this repository.
SECRETS = (
    "mysql_password", "mysql_readonly_password", "mysql_admin_password", "metastore_password", "cassandra_password",
    "kafka_password",
)  # fmt: skip
PLACEHOLDER_PREFIX = "change-me"


def _on_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: another machine, or a container
        return False


def refuse_default_secrets(settings: Settings) -> None:
    """Raise if a service is off the loopback while a password is still a local default or a placeholder."""
    hosts = [
        *settings.cassandra_hosts,
        *(host for host, _ in settings.kafka_brokers),
        settings.mysql_host,
        settings.spark_thrift_host,
    ]
    remote_master = settings.spark_standalone and not _on_loopback(urlsplit(settings.spark_master).hostname or "")
    if remote_master and (
        not settings.spark_rpc_password or settings.spark_rpc_password.startswith(PLACEHOLDER_PREFIX)
    ):
        raise ValueError(
            f"JOBPULSE_SPARK_MASTER {settings.spark_master} is not on this machine's loopback: set "
            "JOBPULSE_SPARK_RPC_PASSWORD, the secret every Spark process of the cluster authenticates with"
        )
    remote = sorted({host for host in hosts if not _on_loopback(host)})
    if not remote:
        return
    # the admin password is only what `jobpulse stack up` gives the MariaDB it bootstraps on this machine
    managed = SECRETS if _on_loopback(settings.mysql_host) else tuple(set(SECRETS) - {"mysql_admin_password"})
    weak = [
        OPTIONS[name].env
        for name in SECRETS
        if name in managed
        and (getattr(settings, name) == OPTIONS[name].default or getattr(settings, name).startswith(PLACEHOLDER_PREFIX))
    ]
    if weak:
        raise ValueError(
            f"{', '.join(weak)} still hold the local stack's default or a `{PLACEHOLDER_PREFIX}` placeholder, and "
            f"{', '.join(remote)} is not this machine's loopback: set real passwords in the environment or .env "
            "(for compose, in docker/.env; see docker/.env.example)"
        )


def _host_port(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"JOBPULSE_KAFKA_BOOTSTRAP_SERVERS: {server!r} is not host:port")
    return host, int(port)


def _check(settings: Settings) -> None:
    """Refuse values that would only fail later, far from their setting, and that no one field's type states."""
    for server in settings.kafka_bootstrap_servers:
        _host_port(server)
    if settings.kafka_min_insync_replicas > settings.kafka_replication_factor:
        raise ValueError(
            "JOBPULSE_KAFKA_MIN_INSYNC_REPLICAS is above JOBPULSE_KAFKA_REPLICATION_FACTOR: no write would succeed"
        )


def _complaint(error: ErrorDetails) -> str:
    """One field's validation error, said of its environment variable and the text that variable held."""
    name = str(error["loc"][0])
    variable, kind, context, value = OPTIONS[name].env, error["type"], error.get("ctx", {}), error["input"]
    if kind == "greater_than_equal":
        return f"{variable} must be >= {context['ge']}, got {value}"
    if kind == "less_than_equal":
        return f"{variable} must be <= {context['le']}, got {value}"
    if kind.startswith("int_"):
        return f"{variable} must be an integer, got {value!r}"
    if kind == "literal_error":
        choices = get_args(Settings.__pydantic_fields__[name].annotation)
        return f"{variable} must be one of {', '.join(choices)}, got {value!r}"
    if kind == "too_short":  # only address lists have a minimum length
        return f"{variable} needs at least one address"
    if kind == "value_error":  # our own validators word their message to follow the variable's name
        return f"{variable} {context['error']}, got {value!r}"
    return f"{variable}: {error['msg']}, got {value!r}"


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def setting_text(value: object) -> str:
    """A setting's value as its environment variable holds it (a list comma-separated)."""
    return ",".join(value) if isinstance(value, tuple) else str(value)


def environment(settings: Settings) -> dict[str, str]:
    """Every setting as its environment variable: what a child process (dbt, Airflow, a collector) loads again."""
    return {option.env: setting_text(getattr(settings, name)) for name, option in OPTIONS.items()}


@contextmanager
def settings_in_environment(settings: Settings) -> Iterator[None]:
    """Every setting in this process's environment for the duration (for dbt run in-process, or the children a
    benchmark starts for a namespace)."""
    saved = dict(os.environ)
    os.environ.update(environment(settings))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve every option from ``env`` (default: the process environment, then ``.env``) and validate it: a
    value its field's type or range refuses raises a ValueError naming its variable."""
    if env is None:
        env = {**_read_dotenv(PROJECT_ROOT / ".env"), **os.environ}
    topology = env.get(OPTIONS["topology"].env) or OPTIONS["topology"].default
    raw = {name: env.get(option.env) or option.default_for(topology) for name, option in OPTIONS.items()}
    raw["state_dir"] = raw["state_dir"] or str(PROJECT_ROOT / (".stack-cluster" if topology == "cluster" else ".stack"))
    raw["cache_dir"] = raw["cache_dir"] or str(PROJECT_ROOT / ".cache")
    raw["dbt_warehouse_executable"] = raw["dbt_warehouse_executable"] or str(
        PROJECT_ROOT / ".venv-warehouse" / "bin" / "dbt"
    )
    raw["java_home"] = raw["java_home"] or env.get("JAVA_HOME", "")
    try:
        settings = Settings(**raw)
    except ValidationError as error:
        raise ValueError("; ".join(_complaint(detail) for detail in error.errors())) from None
    _check(settings)
    refuse_default_secrets(settings)
    return settings
