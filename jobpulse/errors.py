"""Errors the operator fixes, and the one place that recognises them among the drivers' own exceptions.

A stopped stack, a setup not done and a wrong password reach the ``jobpulse`` command as whatever the driver
raises (mysql-connector's 2003 and 1045, the Cassandra driver's NoHostAvailable, a Thrift transport error, a
Kafka transport failure). :func:`translate` turns them into an :class:`OperatorError` whose message says what
happened and what to do; ``jobpulse`` prints that instead of a traceback (``jobpulse --debug`` keeps it).
"""

from __future__ import annotations

import re
from typing import ClassVar

from jobpulse.config import OPTIONS, Settings

# sysexits.h codes, so a script can tell the three apart
EX_UNAVAILABLE, EX_NOPERM, EX_CONFIG = 69, 77, 78

_MYSQL_UNREACHABLE = {2002, 2003, 2005}  # no socket, connection refused or timed out, unknown host
_MYSQL_ACCESS_DENIED = 1045
_MYSQL_DENIED_USER = re.compile(r"Access denied for user '([^']*)'")


class OperatorError(Exception):
    """Something the operator fixes before running the command again; the message says what and how."""

    exit_code: ClassVar[int] = 1


class ServiceUnreachable(OperatorError):
    """Nothing answers at a service's address: usually the stack is not running."""

    exit_code = EX_UNAVAILABLE

    def __init__(self, service: str, address: str) -> None:
        self.service, self.address = service, address
        super().__init__(
            f"cannot reach {service} at {address}: is the stack running? `jobpulse stack up` (or `make up`) "
            "starts it; `jobpulse stack status` shows it."
        )


class LoginRefused(OperatorError):
    """A service refused the pipeline's credentials. The message names the variable, never the password."""

    exit_code = EX_NOPERM

    def __init__(self, service: str, user: str, variable: str) -> None:
        self.service, self.user, self.variable = service, user, variable
        super().__init__(
            f"{service} refused the login of {user!r}: check {variable} in the environment or .env "
            "(`jobpulse config` shows what is in force)."
        )


class SetupMissing(OperatorError):
    """Something `make setup` installs is not there (the JVM jars, the warehouse project's dbt)."""

    exit_code = EX_CONFIG

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: run `make setup` (idempotent: it only adds what is missing).")


def _mysql_password_variable(settings: Settings, user: str) -> str:
    by_user = {
        settings.mysql_readonly_user: "mysql_readonly_password",
        settings.metastore_user: "metastore_password",
        settings.mysql_user: "mysql_password",
    }
    return OPTIONS[by_user.get(user, "mysql_password")].env


def _translate_one(error: BaseException, settings: Settings) -> OperatorError | None:
    """The operator's reading of one exception, or None when it is none of the errors this module knows."""
    if isinstance(error, OperatorError):
        return error
    # Imported here: the drivers load only when a command has already failed.
    import mysql.connector
    from cassandra import AuthenticationFailed
    from cassandra.cluster import NoHostAvailable
    from confluent_kafka import KafkaError, KafkaException
    from thrift.transport.TTransport import TTransportException

    if isinstance(error, mysql.connector.Error):
        if error.errno in _MYSQL_UNREACHABLE:
            return ServiceUnreachable("MySQL", f"{settings.mysql_host}:{settings.mysql_port}")
        if error.errno == _MYSQL_ACCESS_DENIED:
            match = _MYSQL_DENIED_USER.search(error.msg or "")
            user = match.group(1) if match else settings.mysql_user
            return LoginRefused("MySQL", user, _mysql_password_variable(settings, user))
        return None
    cassandra_login = LoginRefused("Cassandra", settings.cassandra_user, OPTIONS["cassandra_password"].env)
    if isinstance(error, AuthenticationFailed):
        return cassandra_login
    if isinstance(error, NoHostAvailable):
        causes = list((error.errors or {}).values())
        if any(isinstance(cause, AuthenticationFailed) for cause in causes):
            return cassandra_login
        if all(isinstance(cause, OSError) for cause in causes):  # refused, timed out, no route: not there
            tried = ", ".join(error.errors or {}) or ", ".join(
                f"{host}:{settings.cassandra_port}" for host in settings.cassandra_hosts
            )
            return ServiceUnreachable("Cassandra", tried)
        return None
    # NOT_OPEN is also a failed SASL handshake with a server that answered: only a connection that failed counts
    if (
        isinstance(error, TTransportException)
        and error.type == TTransportException.NOT_OPEN
        and (isinstance(error.inner, OSError) or str(error.message or "").startswith("Could not connect"))
    ):
        return ServiceUnreachable(
            "the Spark Thrift server", f"{settings.spark_thrift_host}:{settings.spark_thrift_port}"
        )
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        code = error.args[0].code()
        if code in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE):
            return ServiceUnreachable("Kafka", settings.kafka_bootstrap)
        if code in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED):
            return LoginRefused("Kafka", settings.kafka_user, OPTIONS["kafka_password"].env)
        return None
    if isinstance(error, ConnectionRefusedError):  # a client without a driver of its own (a plain socket)
        return OperatorError(
            f"a connection was refused ({error}): is the stack running? `jobpulse stack up` (or `make up`) "
            "starts it; `jobpulse stack status` shows it."
        )
    return None


def translate(error: BaseException, settings: Settings) -> OperatorError | None:
    """The operator's reading of ``error`` or of the exception it was explicitly raised from (``raise ... from``),
    or None: then it is a bug or something new, and its traceback is what helps. An exception that merely happened
    while another was handled is not read through: it may be a bug of its own, which a driver's error would hide."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (found := _translate_one(current, settings)) is not None:
            return found
        current = current.__cause__
    return None
