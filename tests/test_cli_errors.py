"""`jobpulse --version`, and what `jobpulse` says about a stopped stack, a missing setup and a wrong password:
a message that says what to do and an exit code, never a traceback (unless `--debug` asks for it).

The stopped stack is a free port of the loopback that nothing listens on, so these tests need no service; only
the wrong password's end-to-end tests use the running stack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from jobpulse import cli
from jobpulse.config import PROJECT_ROOT, Settings, load_settings
from jobpulse.errors import (
    EX_CONFIG,
    EX_NOPERM,
    EX_UNAVAILABLE,
    LoginRefused,
    ServiceUnreachable,
    SetupMissing,
    translate,
)

PROJECT_VERSION = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]


def jobpulse(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it, in a process of its own, on this checkout's package."""
    return subprocess.run(
        [sys.executable, "-m", "jobpulse.cli", *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def closed_port() -> int:
    """A loopback port nothing listens on (bound by the system's choice, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def stopped_stack(tmp_path: Path, closed_port: int) -> dict[str, str]:
    """An environment whose every service is at the closed port, with state and jar cache of its own (empty)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("JOBPULSE_")}
    for folder in ("state", "cache"):
        (tmp_path / folder).mkdir()
    return {
        **env,
        "JOBPULSE_TOPOLOGY": "single",
        "JOBPULSE_STATE_DIR": str(tmp_path / "state"),
        "JOBPULSE_CACHE_DIR": str(tmp_path / "cache"),
        "JOBPULSE_MYSQL_HOST": "127.0.0.1",
        "JOBPULSE_MYSQL_PORT": str(closed_port),
        "JOBPULSE_CASSANDRA_HOSTS": "127.0.0.1",
        "JOBPULSE_CASSANDRA_PORT": str(closed_port),
        "JOBPULSE_SPARK_THRIFT_HOST": "127.0.0.1",
        "JOBPULSE_SPARK_THRIFT_PORT": str(closed_port),
        "JOBPULSE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port}",
    }


def test_version_prints_the_package_version():
    result = jobpulse("--version", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"jobpulse {PROJECT_VERSION}\n"


def test_version_from_a_source_tree_that_is_not_installed(monkeypatch):
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert cli.version() == PROJECT_VERSION


@pytest.mark.parametrize(
    ("command", "service"),
    [
        (["migrate"], "MySQL"),  # its first store
        (["replay", "--direct", "--quiet", "-"], "Cassandra"),
        (["maintain"], "the Spark Thrift server"),
    ],
)
def test_a_stopped_stack_says_how_to_start_it(stopped_stack, closed_port, command, service):
    result = jobpulse(*command, env=stopped_stack)
    assert result.returncode == EX_UNAVAILABLE, result.stderr
    assert f"jobpulse {command[0]}: cannot reach {service} at 127.0.0.1:{closed_port}" in result.stderr
    assert "is the stack running? `jobpulse stack up` (or `make up`) starts it" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_debug_keeps_the_traceback(stopped_stack):
    result = jobpulse("--debug", "maintain", env=stopped_stack)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "TTransportException" in result.stderr


def test_missing_jars_say_to_run_setup(stopped_stack):
    """`stack serve` builds the service's command line from the jars before it runs anything."""
    result = jobpulse("stack", "serve", "kafka", env=stopped_stack)
    assert result.returncode == EX_CONFIG, result.stderr
    assert "jobpulse stack: the kafka jars are not fetched into" in result.stderr
    assert "run `make setup`" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_warehouse_dbt_says_to_run_setup(tmp_path):
    from jobpulse import dbt

    with pytest.raises(SetupMissing, match=r"warehouse project's dbt .* does not exist: run `make setup`"):
        dbt._start_subprocess(load_settings({}), tmp_path / "no-venv" / "bin" / "dbt", ["parse"])


# The translation of the drivers' own errors, one by one.


@pytest.fixture(scope="module")
def settings_for_translation() -> Settings:
    return load_settings({"JOBPULSE_MYSQL_PORT": "3307", "JOBPULSE_SPARK_THRIFT_PORT": "10001"})


def mysql_error(errno: int, message: str) -> Exception:
    import mysql.connector

    return mysql.connector.errors.ProgrammingError(msg=message, errno=errno, sqlstate="28000")


@pytest.mark.parametrize(
    ("user", "variable"),
    [
        ("jobpulse", "JOBPULSE_MYSQL_PASSWORD"),
        ("grafana", "JOBPULSE_MYSQL_READONLY_PASSWORD"),
        ("metastore", "JOBPULSE_METASTORE_PASSWORD"),
    ],
)
def test_mysql_access_denied_names_the_password_variable(settings_for_translation, user, variable):
    error = mysql_error(1045, f"Access denied for user '{user}'@'localhost' (using password: YES)")
    found = translate(error, settings_for_translation)
    assert isinstance(found, LoginRefused)
    assert found.exit_code == EX_NOPERM
    assert str(found) == (
        f"MySQL refused the login of '{user}': check {variable} in the environment or .env "
        "(`jobpulse config` shows what is in force)."
    )


def test_mysql_connection_refused(settings_for_translation):
    import mysql.connector

    error = mysql.connector.errors.InterfaceError(msg="Can't connect to MySQL server", errno=2003)
    found = translate(error, settings_for_translation)
    assert isinstance(found, ServiceUnreachable)
    assert (found.service, found.address) == ("MySQL", "127.0.0.1:3307")


def test_cassandra_errors(settings_for_translation):
    from cassandra import AuthenticationFailed
    from cassandra.cluster import NoHostAvailable

    refused = NoHostAvailable("Unable to connect to any servers", {"127.0.0.1:9042": ConnectionRefusedError(111)})
    found = translate(refused, settings_for_translation)
    assert isinstance(found, ServiceUnreachable)
    assert found.address == "127.0.0.1:9042"
    denied = NoHostAvailable("Unable to connect to any servers", {"127.0.0.1:9042": AuthenticationFailed("bad")})
    found = translate(denied, settings_for_translation)
    assert isinstance(found, LoginRefused)
    assert found.variable == "JOBPULSE_CASSANDRA_PASSWORD"


def test_thrift_and_kafka_unreachable(settings_for_translation):
    from confluent_kafka import KafkaError, KafkaException
    from thrift.transport.TTransport import TTransportException

    thrift = translate(
        TTransportException(TTransportException.NOT_OPEN, "Could not connect to any of []"), settings_for_translation
    )
    assert isinstance(thrift, ServiceUnreachable)
    assert thrift.address == "127.0.0.1:10001"
    kafka = translate(KafkaException(KafkaError(KafkaError._TRANSPORT)), settings_for_translation)
    assert isinstance(kafka, ServiceUnreachable)
    assert kafka.service == "Kafka"


def test_only_an_explicit_cause_is_read_through(settings_for_translation):
    from thrift.transport.TTransport import TTransportException

    unreachable = TTransportException(TTransportException.NOT_OPEN, "Could not connect to any of [('127.0.0.1', 1)]")
    try:
        raise RuntimeError("the landing failed") from unreachable
    except RuntimeError as error:
        assert isinstance(translate(error, settings_for_translation), ServiceUnreachable)
    try:
        try:
            raise unreachable
        except TTransportException:
            raise RuntimeError("a bug in the handler")  # noqa: B904
    except RuntimeError as error:  # a failure of its own while handling another: its traceback is what helps
        assert translate(error, settings_for_translation) is None


def test_a_thrift_transport_that_answered_is_not_called_unreachable(settings_for_translation):
    from thrift.transport.TTransport import TTransportException

    handshake = TTransportException(TTransportException.NOT_OPEN, "Could not start SASL: Bad status: 3")
    assert translate(handshake, settings_for_translation) is None


def test_anything_else_keeps_its_traceback(settings_for_translation):
    assert translate(KeyError("bug"), settings_for_translation) is None
    assert translate(mysql_error(1146, "Table 'x' doesn't exist"), settings_for_translation) is None


def test_main_prints_a_wrong_password_without_the_password(monkeypatch, capsys):
    secret = "s3cret-never-shown"
    monkeypatch.setenv("JOBPULSE_MYSQL_PASSWORD", secret)
    monkeypatch.setenv("JOBPULSE_MYSQL_USER", "jobpulse")

    def refused(args: object) -> int:
        raise mysql_error(1045, "Access denied for user 'jobpulse'@'localhost' (using password: YES)")

    monkeypatch.setattr(cli, "_migrate", refused)
    assert cli.main(["migrate"]) == EX_NOPERM
    out, err = capsys.readouterr()
    assert "jobpulse migrate: MySQL refused the login of 'jobpulse': check JOBPULSE_MYSQL_PASSWORD" in err
    assert secret not in out + err
    assert "Traceback" not in out + err


# Against the running stack (what `make test` starts): a real server refusing a wrong password.


@pytest.mark.parametrize(
    ("command", "service", "variable", "user_setting"),
    [
        (["migrate"], "MySQL", "JOBPULSE_MYSQL_PASSWORD", "mysql_user"),
        (["replay", "--direct", "--quiet", "-"], "Cassandra", "JOBPULSE_CASSANDRA_PASSWORD", "cassandra_user"),
    ],
)
def test_a_wrong_password_says_which_variable(running_stack, command, service, variable, user_setting):
    wrong = "not-the-password-0451"
    result = jobpulse(*command, env={**os.environ, variable: wrong})
    user = getattr(running_stack, user_setting)
    assert result.returncode == EX_NOPERM, result.stderr
    assert f"{service} refused the login of '{user}': check {variable} in the environment or .env" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
