"""Kafka 4, one combined broker and KRaft controller, as a plain JVM process on Maven Central's jars."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from pathlib import Path

from jobpulse.stack import artifacts
from jobpulse.stack.process import ServiceError
from jobpulse.stack.service import Service, java_executable, render_template


class Kafka(Service):
    name = "kafka"
    start_timeout = 90.0

    @property
    def host(self) -> str:
        return self.settings.kafka_host

    @property
    def port(self) -> int:
        return self.settings.kafka_port

    @property
    def _properties(self) -> Path:
        return self.home / "conf" / "server.properties"

    def _java(self, *args: str) -> list[str]:
        heap = self.settings.kafka_heap
        classpath = os.pathsep.join(str(path) for path in artifacts.classpath(self.settings, "kafka"))
        return [
            java_executable(self.settings),
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
        render_template(
            "kafka.properties",
            self._properties,
            host=self.host,
            advertised_host=self.host,
            port=self.port,
            controller_port=self.settings.kafka_controller_port,
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
        # A KRaft cluster id is 16 random bytes in URL-safe base64 without padding (what `random-uuid` prints).
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
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

        # log_level 0: the caller reports a refused connection; librdkafka would print one line per retry
        admin = AdminClient(kafka_config(self.settings, **{"socket.timeout.ms": 3000, "log_level": 0}))
        metadata = admin.list_topics(timeout=3)
        if not metadata.brokers:
            raise ServiceError("Kafka answered without any broker")
        return f"Kafka cluster {metadata.cluster_id}, {len(metadata.brokers)} broker(s)"
