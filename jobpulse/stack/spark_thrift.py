"""Spark's Thrift JDBC/ODBC server (HiveServer2 protocol): dbt's door into the lakehouse."""

from __future__ import annotations

import logging

from jobpulse import lakehouse
from jobpulse.stack.service import Service

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


class SparkThrift(Service):
    name = "spark-thrift"
    start_timeout = 240.0

    @property
    def host(self) -> str:
        return self.settings.spark_thrift_host

    @property
    def port(self) -> int:
        return self.settings.spark_thrift_port

    def prepare(self) -> None:
        lakehouse.write_conf_dir(self.settings)
        self.settings.warehouse_dir.mkdir(parents=True, exist_ok=True)

    def environment(self) -> dict[str, str]:
        return lakehouse.spark_environment(self.settings)

    def command(self) -> list[str]:
        # pyspark ships the server's jar but not sbin/start-thriftserver.sh; this is what that script runs.
        return [
            str(lakehouse.spark_home() / "bin" / "spark-submit"),
            "--class",
            THRIFT_SERVER_CLASS,
            "--name",
            "jobpulse-thrift-server",
            "--driver-memory",
            self.settings.spark_driver_memory,
            "spark-internal",
            "--hiveconf",
            f"hive.server2.thrift.bind.host={self.host}",
            "--hiveconf",
            f"hive.server2.thrift.port={self.port}",
        ]

    def check(self) -> str:
        from pyhive import hive

        # thrift logs every refused connection at ERROR while the server is still starting: the caller reports.
        logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)

        connection = hive.connect(host=self.host, port=self.port, username="jobpulse")
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT version()")
            (version,) = cursor.fetchone()
            return f"Spark {version.split()[0]}"
        finally:
            connection.close()
