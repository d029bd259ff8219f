"""Cassandra 5.0 nodes as plain JVM processes on the jars from Maven Central: one on each address of
JOBPULSE_CASSANDRA_HOSTS (one in the single topology, three in the cluster topology), all seeds of each other.

Clients log in (PasswordAuthenticator) as the pipeline's role. On a new cluster, the role is made by the default
superuser that CassandraRoleManager creates, which is then dropped: its password is public. Roles are
replicated like the pipeline's keyspace, so a login needs no more nodes than a write of the raw log.
"""

from __future__ import annotations

import logging
import os
import re
import time

from jobpulse.config import Settings
from jobpulse.stack import artifacts
from jobpulse.stack.process import ServiceError
from jobpulse.stack.service import Node, jdk_tool, render_template

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
# a connection's login: a node restarted under load (commit log replay, hints, other JVMs on the same cores)
# takes seconds to answer one, and a health check that gives up sooner reports an answering node as down
CONNECT_SECONDS = 10.0
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


def initial_tokens(nodes: int) -> list[int]:
    """Murmur3 tokens that split the ring evenly between ``nodes`` (0 for a single node)."""
    return [-(2**63) + (2 * index + 1) * 2**64 // (2 * nodes) for index in range(nodes)]


class Cassandra(Node):
    """The node on the ``index``-th address of JOBPULSE_CASSANDRA_HOSTS."""

    name = "cassandra"
    start_timeout = 420.0  # a node killed under load replays its commit log, then takes its hints

    def __init__(self, settings: Settings, index: int = 0) -> None:
        super().__init__(settings, index, len(settings.cassandra_hosts))

    @property
    def host(self) -> str:
        return self.settings.cassandra_hosts[self.index]

    @property
    def port(self) -> int:
        return self.settings.cassandra_port

    @property
    def jmx_port(self) -> int:
        return self.settings.cassandra_jmx_port + self.index  # local JMX binds 127.0.0.1 whatever the node's address

    def prepare(self) -> None:
        storage_port = self.settings.cassandra_storage_port
        render_template(
            "cassandra.yaml",
            self.home / "conf" / "cassandra.yaml",
            host=self.host,
            cql_port=self.port,
            storage_port=storage_port,
            seeds=",".join(f"{host}:{storage_port}" for host in self.settings.cassandra_hosts),
            initial_token=initial_tokens(len(self.settings.cassandra_hosts))[self.index],
            data_dir=self.home,
        )
        (self.home / "conf" / "cassandra-rackdc.properties").write_text(
            f"dc={self.settings.cassandra_datacenter}\nrack=rack1\n"
        )
        render_template("cassandra-logback.xml", self.home / "conf" / "logback.xml")

    def command(self) -> list[str]:
        conf = self.home / "conf"
        heap = self.settings.cassandra_heap
        jars = artifacts.classpath(self.settings, "cassandra")
        return [
            jdk_tool(self.settings, "java"),
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
            f"-Dcassandra-rackdc.properties=file://{conf / 'cassandra-rackdc.properties'}",
            f"-Dcassandra.jmx.local.port={self.jmx_port}",
            f"-Dcassandra.logdir={self.settings.state_dir / 'logs'}",
            f"-Dcassandra.storagedir={self.home}",
            f"-Dlogback.configurationFile={conf / 'logback.xml'}",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            *AUTH_FLAGS,
            "-cp",
            os.pathsep.join(str(path) for path in jars),
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def check(self) -> str:
        """This node's own answer (not any node's), with how many of its peers it sees up."""
        return _node_status(self.settings, self.host)

    def ping(self) -> str:
        """Up is answering, even if only to refuse a role that ``after_start`` has yet to make."""
        try:
            return self.check()
        except Exception as error:
            if _refused_login(error):
                return "up, the pipeline's role not made yet"
            raise

    def after_start(self) -> None:
        if self.index == 0:  # once per cluster, when every node answers (see jobpulse.stack.up)
            ensure_role(self.settings)


def _quiet_driver() -> None:
    # the driver logs every refused connection while a node starts: the caller reports failures
    logging.getLogger("cassandra.cluster").setLevel(logging.CRITICAL)
    logging.getLogger("cassandra.pool").setLevel(logging.CRITICAL)


def _release_version(settings: Settings, login: tuple[str, str] | None = None) -> str:
    from cassandra.auth import PlainTextAuthProvider

    from jobpulse.clients import cassandra_cluster

    _quiet_driver()
    options = {"auth_provider": PlainTextAuthProvider(*login)} if login else {}
    cluster = cassandra_cluster(
        settings, connect_timeout=CONNECT_SECONDS, control_connection_timeout=CONNECT_SECONDS, **options
    )
    try:
        return cluster.connect().execute("SELECT release_version FROM system.local", timeout=5).one().release_version
    finally:
        cluster.shutdown()


def _node_status(settings: Settings, host: str) -> str:
    """The answer of the node on ``host`` itself (the driver talks to no other), with its datacenter and the
    peers its ring holds."""
    from jobpulse.clients import cassandra_cluster

    _quiet_driver()
    cluster = cassandra_cluster(
        settings, hosts=[host], connect_timeout=CONNECT_SECONDS, control_connection_timeout=CONNECT_SECONDS
    )
    try:
        session = cluster.connect()
        local = session.execute("SELECT release_version, data_center FROM system.local", timeout=5).one()
        if len(settings.cassandra_hosts) == 1:
            return f"Cassandra {local.release_version}"
        peers = len(session.execute("SELECT peer FROM system.peers_v2", timeout=5).all())
        return f"Cassandra {local.release_version}, {local.data_center}, {peers} peers in its ring"
    finally:
        cluster.shutdown()


def _refused_login(error: BaseException) -> bool:
    from cassandra import AuthenticationFailed
    from cassandra.cluster import NoHostAvailable

    if isinstance(error, NoHostAvailable):
        # a dict of each host's error; only the hosts' addresses when every pool of a session failed after its
        # control connection had logged in (a node too loaded to take connections: no refusal)
        causes = error.errors.values() if isinstance(error.errors, dict) else ()
        return any(isinstance(cause, AuthenticationFailed) for cause in causes)
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
    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.query import SimpleStatement

    from jobpulse.migrations import replication

    cluster = cassandra_cluster(settings, auth_provider=PlainTextAuthProvider(*DEFAULT_SUPERUSER))
    try:
        session = cluster.connect()
        # Roles on as many nodes as the raw log: system_auth has 1 replica by default, so one node down would
        # refuse every login. A read of the roles at ALL then repairs the default superuser's row onto the new
        # replicas (it was written before they were), so the nodes that check its next statements find it.
        session.execute(f"ALTER KEYSPACE system_auth WITH replication = {replication(settings)}")
        session.execute(SimpleStatement("SELECT role FROM system_auth.roles", consistency_level=ConsistencyLevel.ALL))
        session.execute(
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
