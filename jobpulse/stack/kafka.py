"""Kafka 4 as plain JVM processes on Maven Central's jars: a combined broker and KRaft controller on each
address of JOBPULSE_KAFKA_BOOTSTRAP_SERVERS (one in the single topology, three in the cluster topology), every
one a voter of the controller quorum, formatted with one cluster id."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from pathlib import Path

from jobpulse.config import Settings
from jobpulse.stack import artifacts
from jobpulse.stack.process import ServiceError
from jobpulse.stack.service import Node, jdk_tool, render_template


class Kafka(Node):
    """The broker on the ``index``-th address of JOBPULSE_KAFKA_BOOTSTRAP_SERVERS; its node id is ``index + 1``."""

    name = "kafka"
    start_timeout = 120.0

    def __init__(self, settings: Settings, index: int = 0) -> None:
        super().__init__(settings, index, len(settings.kafka_brokers))

    @property
    def node_id(self) -> int:
        return self.index + 1

    @property
    def host(self) -> str:
        return self.settings.kafka_brokers[self.index][0]

    @property
    def port(self) -> int:
        return self.settings.kafka_brokers[self.index][1]

    @property
    def _cluster_id_file(self) -> Path:
        """The KRaft cluster id every broker's storage is formatted with."""
        return self.settings.state_dir / "kafka-cluster-id"

    def _cluster_id(self) -> str:
        if not self._cluster_id_file.is_file():
            # 16 random bytes in URL-safe base64 without padding (what `kafka-storage random-uuid` prints)
            self._cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
            self._cluster_id_file.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))
        return self._cluster_id_file.read_text().strip()

    @property
    def _properties(self) -> Path:
        return self.home / "conf" / "server.properties"

    def _java(self, *args: str) -> list[str]:
        heap = self.settings.kafka_heap
        classpath = os.pathsep.join(str(path) for path in artifacts.classpath(self.settings, "kafka"))
        return [
            jdk_tool(self.settings, "java"),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.home / 'conf' / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.settings.state_dir / 'logs'}",
            "-cp",
            classpath,
            *args,
        ]

    @property
    def _scram_user_file(self) -> Path:
        """Which SCRAM user the storage was formatted with (the credential lives in the cluster's metadata)."""
        return self.home / "scram-user"

    def prepare(self) -> None:
        data_dir = self.home / "data"
        user, password = self.settings.kafka_user, self.settings.kafka_password
        if '"' in password or "\\" in password:
            raise ServiceError('JOBPULSE_KAFKA_PASSWORD may hold neither " nor \\ (it is written into JAAS)')
        self._properties.parent.mkdir(parents=True, exist_ok=True)
        self._properties.touch(mode=0o600)
        self._properties.chmod(0o600)  # it holds the password
        controller_port = self.settings.kafka_controller_port
        render_template(
            "kafka.properties",
            self._properties,
            node_id=self.node_id,
            controller_voters=",".join(
                f"{index + 1}@{host}:{controller_port}" for index, (host, _) in enumerate(self.settings.kafka_brokers)
            ),
            controller_host=self.host,
            replication_factor=self.settings.kafka_replication_factor,
            min_insync_replicas=self.settings.kafka_min_insync_replicas,
            host=self.host,
            advertised_host=self.host,
            port=self.port,
            controller_port=controller_port,
            data_dir=data_dir,
            sasl_user=user,
            sasl_password=password,
        )
        render_template("kafka-log4j2.properties", self.home / "conf" / "log4j2.properties")
        if (data_dir / "meta.properties").is_file():
            formatted_for = self._scram_user_file.read_text() if self._scram_user_file.is_file() else None
            if formatted_for != user:
                raise ServiceError(
                    f"Kafka's storage in {data_dir} has no SASL/SCRAM user {user!r} (it was formatted before "
                    "authentication, or for another user): remove that folder (and its topics) and start again"
                )
            return
        cluster_id = self._cluster_id()
        scram = f'SCRAM-SHA-512=[name={user},password="{password}"]'
        command = self._java(
            "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self._properties), "--add-scram", scram
        )
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"formatting Kafka's storage failed:\n{result.stdout}{result.stderr}")
        self._scram_user_file.write_text(user)

    def command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self._properties))

    def check(self) -> str:
        from confluent_kafka.admin import AdminClient

        from jobpulse.clients import kafka_config

        # This broker alone: log_level 0, since the caller reports a refused connection (librdkafka would print
        # one line per retry).
        overrides = {"bootstrap.servers": f"{self.host}:{self.port}", "socket.timeout.ms": 3000, "log_level": 0}
        metadata = AdminClient(kafka_config(self.settings, **overrides)).list_topics(timeout=3)
        if self.node_id not in metadata.brokers:
            raise ServiceError(f"broker {self.node_id} has not joined its cluster yet")
        return f"Kafka cluster {metadata.cluster_id}, {len(metadata.brokers)} broker(s)"
