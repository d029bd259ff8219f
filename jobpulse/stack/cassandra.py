"""Cassandra 5.0, one node, as a plain JVM process on the jars from Maven Central.

Clients log in (PasswordAuthenticator) as the pipeline's role. On a new node, the role is made by the default
superuser that CassandraRoleManager creates, which is then dropped: its password is public.
"""

from __future__ import annotations

import logging
import os
import re
import time

from jobpulse.config import Settings
from jobpulse.stack import artifacts
from jobpulse.stack.process import ServiceError
from jobpulse.stack.service import Service, java_executable, render_template

# Password authentication, set through Cassandra 5's `cassandra.settings.*` system properties rather than the
# YAML, so that the compose deployment turns it on the same way on the official image (its JVM_EXTRA_OPTS,
# which tests/deploy compares with this list).
AUTH_FLAGS = [
    "-Dcassandra.config.allow_system_properties=true",
    "-Dcassandra.settings.authenticator=PasswordAuthenticator",
    "-Dcassandra.settings.role_manager=CassandraRoleManager",
    "-Dcassandra.superuser_setup_delay_ms=0",
]
DEFAULT_SUPERUSER = ("cassandra", "cassandra")  # what CassandraRoleManager makes on a new cluster
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

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
            *AUTH_FLAGS,
            "-cp",
            os.pathsep.join(str(path) for path in jars),
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def check(self) -> str:
        return f"Cassandra {_release_version(self.settings)}"

    def ping(self) -> str:
        """Up is answering, even if only to refuse a role that ``after_start`` has yet to make."""
        try:
            return self.check()
        except Exception as error:
            if _refused_login(error):
                return "up, the pipeline's role not made yet"
            raise

    def after_start(self) -> None:
        ensure_role(self.settings)


def _release_version(settings: Settings, login: tuple[str, str] | None = None) -> str:
    from cassandra.auth import PlainTextAuthProvider

    from jobpulse.clients import cassandra_cluster

    # the driver logs every refused connection while the node starts: the caller reports failures
    logging.getLogger("cassandra.cluster").setLevel(logging.CRITICAL)
    options = {"auth_provider": PlainTextAuthProvider(*login)} if login else {}
    cluster = cassandra_cluster(settings, connect_timeout=3, control_connection_timeout=3, **options)
    try:
        return cluster.connect().execute("SELECT release_version FROM system.local", timeout=5).one().release_version
    finally:
        cluster.shutdown()


def _refused_login(error: BaseException) -> bool:
    from cassandra import AuthenticationFailed
    from cassandra.cluster import NoHostAvailable

    if isinstance(error, NoHostAvailable):
        return any(isinstance(cause, AuthenticationFailed) for cause in error.errors.values())
    return isinstance(error, AuthenticationFailed)


def _cql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_role(settings: Settings, wait: float = 60.0) -> str:
    """Make the pipeline's role (a superuser: it creates keyspaces and may manage roles) on a new cluster, as the
    default superuser, then drop the default superuser. Idempotent: a role that logs in already is left alone.
    Also what the compose deployment's init runs (`jobpulse stack accounts cassandra`)."""
    from jobpulse.clients import cassandra_cluster

    if not _ROLE.match(settings.cassandra_user):
        raise ServiceError(f"JOBPULSE_CASSANDRA_USER {settings.cassandra_user!r} is not a plain lower-case name")
    try:
        _release_version(settings)
        return "the pipeline's role logs in"
    except Exception as error:
        if not _refused_login(error):
            raise
    deadline = time.monotonic() + wait
    while True:  # the default superuser is made just after the node starts
        try:
            _release_version(settings, DEFAULT_SUPERUSER)
            break
        except Exception as error:
            if not _refused_login(error) or time.monotonic() > deadline:
                raise ServiceError(
                    "Cassandra refuses JOBPULSE_CASSANDRA_PASSWORD for role "
                    f"{settings.cassandra_user!r}, and its default superuser is gone: the password changed since the "
                    "role was made. Set it back, or change the role's password in CQL (ALTER ROLE ... WITH PASSWORD)"
                ) from error
            time.sleep(1)
    from cassandra.auth import PlainTextAuthProvider

    cluster = cassandra_cluster(settings, auth_provider=PlainTextAuthProvider(*DEFAULT_SUPERUSER))
    try:
        cluster.connect().execute(
            f"CREATE ROLE IF NOT EXISTS {settings.cassandra_user} WITH PASSWORD = "
            f"{_cql_text(settings.cassandra_password)} AND LOGIN = true AND SUPERUSER = true"
        )
    finally:
        cluster.shutdown()
    cluster = cassandra_cluster(settings)
    try:
        cluster.connect().execute(f"DROP ROLE IF EXISTS {DEFAULT_SUPERUSER[0]}")
    finally:
        cluster.shutdown()
    return f"made role {settings.cassandra_user}; dropped the default superuser"
