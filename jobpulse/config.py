"""The one place JobPulse reads its configuration from.

Every setting is an environment variable with a documented local default (``jobpulse config`` prints the
table, the README shows it). A ``.env`` file at the project root, when present, fills in variables that the
environment does not set, so a developer can keep local overrides out of their shell profile.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Option:
    """One setting: its environment variable, its local default and what it is for."""

    env: str
    default: str
    help: str


# field name -> option. Paths left empty default to folders under the project root (see load_settings).
OPTIONS: dict[str, Option] = {
    "state_dir": Option("JOBPULSE_STATE_DIR", "", "data, logs and PID files of the local stack (default: .stack/)"),
    "cache_dir": Option("JOBPULSE_CACHE_DIR", "", "downloaded JVM artifacts (default: .cache/)"),
    "java_home": Option("JOBPULSE_JAVA_HOME", "", "JDK 17 used by the stack (default: JAVA_HOME, else `java` on PATH)"),
    "cassandra_host": Option("JOBPULSE_CASSANDRA_HOST", "127.0.0.1", "Cassandra address"),
    "cassandra_port": Option("JOBPULSE_CASSANDRA_PORT", "9042", "Cassandra CQL port"),
    "cassandra_storage_port": Option("JOBPULSE_CASSANDRA_STORAGE_PORT", "7000", "Cassandra inter-node port"),
    "cassandra_heap": Option("JOBPULSE_CASSANDRA_HEAP", "1G", "Cassandra JVM heap"),
    "cassandra_user": Option("JOBPULSE_CASSANDRA_USER", "jobpulse", "Cassandra role of the pipeline"),
    "cassandra_password": Option("JOBPULSE_CASSANDRA_PASSWORD", "cassandra-local", "Cassandra role's password"),
    "cassandra_keyspace": Option("JOBPULSE_CASSANDRA_KEYSPACE", "datalake", "keyspace of the raw event log"),
    "cassandra_replication_factor": Option(
        "JOBPULSE_CASSANDRA_REPLICATION_FACTOR", "1", "replication factor of the keyspace (3 in production)"
    ),
    "kafka_host": Option("JOBPULSE_KAFKA_HOST", "127.0.0.1", "Kafka broker address"),
    "kafka_port": Option("JOBPULSE_KAFKA_PORT", "9092", "Kafka broker port"),
    "kafka_controller_port": Option("JOBPULSE_KAFKA_CONTROLLER_PORT", "9093", "Kafka KRaft controller port"),
    "kafka_heap": Option("JOBPULSE_KAFKA_HEAP", "512M", "Kafka JVM heap"),
    "kafka_user": Option("JOBPULSE_KAFKA_USER", "jobpulse", "Kafka SASL/SCRAM-SHA-512 user of the pipeline"),
    "kafka_password": Option(
        "JOBPULSE_KAFKA_PASSWORD", "kafka-local", "Kafka user's password (neither \" nor \\ : it is written into JAAS)"
    ),
    "kafka_topic": Option("JOBPULSE_KAFKA_TOPIC", "tracking", "topic of the tracking events"),
    "kafka_dlq_topic": Option("JOBPULSE_KAFKA_DLQ_TOPIC", "tracking.dlq", "dead-letter topic of rejected messages"),
    "kafka_partitions": Option("JOBPULSE_KAFKA_PARTITIONS", "6", "partitions of the tracking topic"),
    "collector_group": Option("JOBPULSE_COLLECTOR_GROUP", "jobpulse-collector", "consumer group of the collector"),
    "mysql_host": Option("JOBPULSE_MYSQL_HOST", "127.0.0.1", "MySQL/MariaDB address"),
    "mysql_port": Option("JOBPULSE_MYSQL_PORT", "3306", "MySQL/MariaDB port"),
    "mysql_database": Option("JOBPULSE_MYSQL_DATABASE", "data_warehouse", "serving database of the marts"),
    "mysql_user": Option("JOBPULSE_MYSQL_USER", "jobpulse", "pipeline writer account"),
    "mysql_password": Option("JOBPULSE_MYSQL_PASSWORD", "jobpulse-local", "pipeline writer password"),
    "mysql_readonly_user": Option("JOBPULSE_MYSQL_READONLY_USER", "grafana", "read-only account (Grafana)"),
    "mysql_readonly_password": Option("JOBPULSE_MYSQL_READONLY_PASSWORD", "grafana-local", "read-only password"),
    "mysql_admin_password": Option(
        "JOBPULSE_MYSQL_ADMIN_PASSWORD", "admin-local", "password given to MariaDB's root account at bootstrap"
    ),
    "metastore_database": Option("JOBPULSE_METASTORE_DATABASE", "metastore", "Hive metastore database"),
    "metastore_user": Option("JOBPULSE_METASTORE_USER", "metastore", "Hive metastore account"),
    "metastore_password": Option("JOBPULSE_METASTORE_PASSWORD", "metastore-local", "Hive metastore password"),
    "lakehouse_database": Option("JOBPULSE_LAKEHOUSE_DATABASE", "datalake", "lakehouse database of the landed events"),
    "ingest_safety_lag": Option(
        "JOBPULSE_INGEST_SAFETY_LAG", "20", "the longest an arrival waits before the ingest may capture it (seconds)"
    ),
    "dbt_lakehouse_schema": Option(
        "JOBPULSE_DBT_LAKEHOUSE_SCHEMA", "lakehouse", "lakehouse database of the dbt models"
    ),
    "dbt_warehouse_executable": Option(
        "JOBPULSE_DBT_WAREHOUSE_EXECUTABLE",
        "",
        "dbt of the warehouse project, dbt-mysql 1.7 in a virtualenv of its own (default: .venv-warehouse/bin/dbt)",
    ),
    "task_retries": Option("JOBPULSE_TASK_RETRIES", "2", "retries of a failed Airflow task (with backoff)"),
    "pipeline_idle_wait": Option(
        "JOBPULSE_PIPELINE_IDLE_WAIT", "300", "seconds a pipeline run waits for new data before it ends, skipped"
    ),
    "spark_thrift_host": Option("JOBPULSE_SPARK_THRIFT_HOST", "127.0.0.1", "Spark Thrift server address"),
    "spark_thrift_port": Option("JOBPULSE_SPARK_THRIFT_PORT", "10000", "Spark Thrift server port"),
    "spark_driver_memory": Option("JOBPULSE_SPARK_DRIVER_MEMORY", "2g", "driver memory of Spark processes"),
    "spark_master": Option("JOBPULSE_SPARK_MASTER", "local[2]", "Spark master of the Thrift server and jobs"),
}


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Build it with :func:`load_settings`, never by hand in production code."""

    state_dir: Path
    cache_dir: Path
    java_home: str
    cassandra_host: str
    cassandra_port: int
    cassandra_storage_port: int
    cassandra_heap: str
    cassandra_user: str
    cassandra_password: str
    cassandra_keyspace: str
    cassandra_replication_factor: int
    kafka_host: str
    kafka_port: int
    kafka_controller_port: int
    kafka_heap: str
    kafka_user: str
    kafka_password: str
    kafka_topic: str
    kafka_dlq_topic: str
    kafka_partitions: int
    collector_group: str
    mysql_host: str
    mysql_port: int
    mysql_database: str
    mysql_user: str
    mysql_password: str
    mysql_readonly_user: str
    mysql_readonly_password: str
    mysql_admin_password: str
    metastore_database: str
    metastore_user: str
    metastore_password: str
    lakehouse_database: str
    ingest_safety_lag: int
    dbt_lakehouse_schema: str
    dbt_warehouse_executable: Path
    task_retries: int
    pipeline_idle_wait: int
    spark_thrift_host: str
    spark_thrift_port: int
    spark_driver_memory: str
    spark_master: str

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def warehouse_dir(self) -> Path:
        """Where the lakehouse tables' files live (shared by the Thrift server and Spark jobs)."""
        return self.state_dir / "lakehouse"


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
    hosts = [settings.cassandra_host, settings.kafka_host, settings.mysql_host, settings.spark_thrift_host]
    remote = sorted({host for host in hosts if not _on_loopback(host)})
    if not remote:
        return
    weak = [
        OPTIONS[name].env
        for name in SECRETS
        if getattr(settings, name) == OPTIONS[name].default or getattr(settings, name).startswith(PLACEHOLDER_PREFIX)
    ]
    if weak:
        raise ValueError(
            f"{', '.join(weak)} still hold the local stack's default or a `{PLACEHOLDER_PREFIX}` placeholder, and "
            f"{', '.join(remote)} is not this machine's loopback: set real passwords in the environment or .env "
            "(for compose, in docker/.env; see docker/.env.example)"
        )


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve every option from ``env`` (default: the process environment, then ``.env``)."""
    if env is None:
        env = {**_read_dotenv(PROJECT_ROOT / ".env"), **os.environ}
    raw = {name: env.get(option.env) or option.default for name, option in OPTIONS.items()}
    raw["state_dir"] = raw["state_dir"] or str(PROJECT_ROOT / ".stack")
    raw["cache_dir"] = raw["cache_dir"] or str(PROJECT_ROOT / ".cache")
    raw["dbt_warehouse_executable"] = raw["dbt_warehouse_executable"] or str(
        PROJECT_ROOT / ".venv-warehouse" / "bin" / "dbt"
    )
    raw["java_home"] = raw["java_home"] or env.get("JAVA_HOME", "")
    values: dict[str, object] = {}
    for field in fields(Settings):
        value = raw[field.name]
        if field.type == "Path":
            values[field.name] = Path(value).resolve()
        elif field.type == "int":
            try:
                values[field.name] = int(value)
            except ValueError:
                raise ValueError(f"{OPTIONS[field.name].env} must be an integer, got {value!r}") from None
        else:
            values[field.name] = value
    settings = Settings(**values)  # type: ignore[arg-type]
    refuse_default_secrets(settings)
    return settings
