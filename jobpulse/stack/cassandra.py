"""Cassandra 5.0, one node, as a plain JVM process on the jars from Maven Central."""

from __future__ import annotations

import logging
import os

from jobpulse.stack import artifacts
from jobpulse.stack.service import Service, java_executable, render_template

# From Cassandra 5.0's conf/jvm17-server.options: without them Java 17 refuses its internal-class access.
JAVA17_FLAGS = [
    "-Djdk.attach.allowAttachSelf=true",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
    *(
        f"--add-exports={module}=ALL-UNNAMED"
        for module in (
            "java.base/jdk.internal.misc",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi",
            "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server",
            "java.sql/java.sql",
            "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
            "jdk.compiler/com.sun.tools.javac.file",
            "jdk.attach/sun.tools.attach",
        )
    ),
    *(
        f"--add-opens={module}=ALL-UNNAMED"
        for module in (
            "java.base/java.lang.module",
            "java.base/jdk.internal.loader",
            "java.base/jdk.internal.ref",
            "java.base/jdk.internal.reflect",
            "java.base/jdk.internal.math",
            "java.base/jdk.internal.module",
            "java.base/jdk.internal.util.jar",
            "jdk.management/com.sun.management.internal",
            "java.base/sun.nio.ch",
            "java.base/java.io",
            "java.base/java.lang.reflect",
            "jdk.compiler/com.sun.tools.javac",
            "java.base/java.lang",
            "java.base/java.util",
        )
    ),
]


class Cassandra(Service):
    name = "cassandra"
    start_timeout = 180.0

    @property
    def host(self) -> str:
        return self.settings.cassandra_host

    @property
    def port(self) -> int:
        return self.settings.cassandra_port

    def prepare(self) -> None:
        render_template(
            "cassandra.yaml",
            self.home / "conf" / "cassandra.yaml",
            host=self.host,
            cql_port=self.port,
            storage_port=self.settings.cassandra_storage_port,
            data_dir=self.home,
        )
        render_template("cassandra-logback.xml", self.home / "conf" / "logback.xml")

    def command(self) -> list[str]:
        conf = self.home / "conf"
        heap = self.settings.cassandra_heap
        jars = artifacts.classpath(self.settings, "cassandra")
        return [
            java_executable(self.settings),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-Xss256k",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=300",
            "-XX:+ExitOnOutOfMemoryError",  # a JVM past an OutOfMemoryError may corrupt data: stop it
            f"-javaagent:{artifacts.jar(self.settings, 'cassandra', 'jamm')}",
            *JAVA17_FLAGS,
            "-Dcassandra-foreground=yes",
            f"-Dcassandra.config=file://{conf / 'cassandra.yaml'}",
            f"-Dcassandra.logdir={self.settings.state_dir / 'logs'}",
            f"-Dcassandra.storagedir={self.home}",
            f"-Dlogback.configurationFile={conf / 'logback.xml'}",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.initial_token=0",
            "-cp",
            os.pathsep.join(str(path) for path in jars),
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def check(self) -> str:
        from jobpulse.clients import cassandra_cluster

        # the driver logs every refused connection while the node starts: the caller reports failures
        logging.getLogger("cassandra.cluster").setLevel(logging.CRITICAL)

        cluster = cassandra_cluster(self.settings, connect_timeout=3, control_connection_timeout=3)
        try:
            session = cluster.connect()
            row = session.execute("SELECT release_version FROM system.local", timeout=5).one()
            return f"Cassandra {row.release_version}"
        finally:
            cluster.shutdown()
