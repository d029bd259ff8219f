"""MariaDB from Debian as the stack's MySQL server, on its own data folder and port.

The server runs as the invoking OS user. Its root account is reachable only through the server's Unix socket
by that OS user or with the admin password from configuration; JobPulse itself uses dedicated accounts.
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from importlib import resources

from jobpulse.stack.process import ServiceError
from jobpulse.stack.service import Service
from jobpulse.stack.system_packages import which

ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")

# What each account may do in its database, and nothing more (tests/stack/test_grants.py checks both ways).
# The pipeline writer runs the migrations, dbt-mysql (tables and views it creates, swaps and indexes) and the
# publish; the read-only account serves Grafana and analysts; the metastore account is Hive's, whose schema
# DataNucleus creates and extends on first use.
PIPELINE_PRIVILEGES = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "REFERENCES", "CREATE VIEW",
    "SHOW VIEW", "CREATE TEMPORARY TABLES",
)  # fmt: skip
READONLY_PRIVILEGES = ("SELECT", "SHOW VIEW")
METASTORE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX")
# Sessions of the read-only account (Grafana's data source, whose template variables are pasted into SQL with
# their quotes doubled but backslashes kept): backslashes are plain characters, and no statement runs longer.
READONLY_STATEMENT_SECONDS = 30


def readonly_session_sql(user: str, server: str = "mariadb") -> str:
    """The ``init_connect`` statement that sets those session limits for ``user`` only: MariaDB's statement time
    limit (seconds) here, or MySQL's (milliseconds, for SELECT) in the compose deployment."""
    mine = f"SUBSTRING_INDEX(CURRENT_USER(), '@', 1) = '{sql_identifier(user).strip('`')}'"
    limit, value = (
        ("max_statement_time", READONLY_STATEMENT_SECONDS)
        if server == "mariadb"
        else ("max_execution_time", READONLY_STATEMENT_SECONDS * 1000)
    )
    return (
        f"SET SESSION sql_mode = IF({mine}, CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES'), @@SESSION.sql_mode), "
        f"SESSION {limit} = IF({mine}, {value}, @@SESSION.{limit})"
    )


def grant_sql(privileges: tuple[str, ...], database: str, user: str) -> str:
    return f"GRANT {', '.join(privileges)} ON {sql_identifier(database)}.* TO {sql_literal(user)}@'%';"


def sql_literal(value: str) -> str:
    """Quote ``value`` as a MariaDB string literal (the bootstrap runs as a script, not with parameters)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0") + "'"


def sql_identifier(value: str) -> str:
    if not ACCOUNT_NAME.match(value):
        raise ServiceError(f"{value!r} is not a plain name (letters, digits, underscore)")
    return f"`{value}`"


class MariaDB(Service):
    name = "mariadb"
    start_timeout = 90.0

    @property
    def host(self) -> str:
        return self.settings.mysql_host

    @property
    def port(self) -> int:
        return self.settings.mysql_port

    @property
    def socket_path(self) -> str:
        return str(self.home / "mysqld.sock")

    @property
    def _os_user(self) -> str:
        return getpass.getuser()

    def _binary(self, name: str) -> str:
        path = which(name)
        if path is None:
            raise ServiceError(f"`{name}` not found: run `make setup` (it installs mariadb-server)")
        return path

    def prepare(self) -> None:
        data_dir = self.home / "data"
        if (data_dir / "mysql").is_dir():
            return
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            self._binary("mariadb-install-db"),
            "--no-defaults",
            f"--datadir={data_dir}",
            f"--user={self._os_user}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"mariadb-install-db failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")

    def command(self) -> list[str]:
        return [
            self._binary("mariadbd"),
            "--no-defaults",
            f"--datadir={self.home / 'data'}",
            f"--socket={self.socket_path}",
            f"--pid-file={self.home / 'mariadbd.pid'}",
            f"--bind-address={self.host}",
            f"--port={self.port}",
            f"--user={self._os_user}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--default-time-zone=+00:00",
            "--innodb-buffer-pool-size=256M",
            "--innodb-log-file-size=128M",
            "--max-connections=300",
            "--max-allowed-packet=64M",
            "--lock-wait-timeout=300",  # a blocked DDL fails with an error instead of waiting a year
            f"--init-connect={readonly_session_sql(self.settings.mysql_readonly_user)}",
        ]

    def admin_sql(self, sql: str) -> str:
        """Run SQL as the OS user's socket-authenticated admin account (root when we are root)."""
        command = [
            self._binary("mariadb"),
            "--no-defaults",
            f"--socket={self.socket_path}",
            f"--user={self._os_user}",
            "--batch",
            "--skip-column-names",
        ]
        result = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise ServiceError(f"MariaDB admin SQL failed: {result.stderr.strip()}")
        return result.stdout

    def ping(self) -> str:
        return self.admin_sql("SELECT VERSION();").strip()

    def pipeline_databases(self) -> dict[str, list[str]]:
        """{account: the pipelines' existing databases granted to it}: the namespaces' (jobpulse.namespace) and
        the stack's own, which an `up` through a namespace's settings (a soak's, a test's) must not take away.
        Any other grant an operator made is not renewed, so none is widened to the account's privileges."""
        from jobpulse.config import load_settings
        from jobpulse.namespace import MYSQL_DATABASE_SUFFIX

        own = load_settings().mysql_database
        rows = self.admin_sql(
            "SELECT grants.User, grants.Db FROM mysql.db AS grants JOIN information_schema.SCHEMATA AS existing "
            "ON existing.SCHEMA_NAME = grants.Db WHERE grants.Host = '%' ORDER BY grants.Db;"
        )
        databases: dict[str, list[str]] = {}
        for line in rows.splitlines():
            user, database = line.split("\t")
            if database == own or (ACCOUNT_NAME.match(database) and database.endswith(MYSQL_DATABASE_SUFFIX)):
                databases.setdefault(user, []).append(database)
        return databases

    def after_start(self) -> None:
        """Create the databases and accounts; re-applying passwords makes a config change take effect."""
        s = self.settings
        warehouse, metastore = sql_identifier(s.mysql_database), sql_identifier(s.metastore_database)
        accounts = [
            (s.mysql_user, s.mysql_password, PIPELINE_PRIVILEGES, s.mysql_database),
            (s.mysql_readonly_user, s.mysql_readonly_password, READONLY_PRIVILEGES, s.mysql_database),
            (s.metastore_user, s.metastore_password, METASTORE_PRIVILEGES, s.metastore_database),
        ]
        statements = [
            f"CREATE DATABASE IF NOT EXISTS {warehouse} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;",
            # Hive's metastore schema has indexed varchar(767) columns: they only fit in a one-byte charset.
            f"CREATE DATABASE IF NOT EXISTS {metastore} CHARACTER SET latin1 COLLATE latin1_bin;",
        ]
        pipelines = self.pipeline_databases()
        for user, password, privileges, database in accounts:
            account = f"{sql_literal(sql_identifier(user).strip('`'))}@'%'"
            statements += [
                f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {sql_literal(password)};",
                f"ALTER USER {account} IDENTIFIED BY {sql_literal(password)};",
                # whatever an older version granted goes first; the pipelines' databases are granted anew, so
                # that this (on a restart, say) never locks a pipeline out of its data
                f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};",
                grant_sql(privileges, database, user),
                *(grant_sql(privileges, other, user) for other in pipelines.get(user, ()) if other != database),
            ]
        statements += [
            "DELETE FROM mysql.global_priv WHERE User = '';",  # no anonymous accounts
            "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password "
            f"USING PASSWORD({sql_literal(s.mysql_admin_password)});",
            "FLUSH PRIVILEGES;",
            f"USE {metastore};",
            resources.files("jobpulse.stack").joinpath("templates", "hive-metastore-transactions.sql").read_text(),
        ]
        self.admin_sql("\n".join(statements))

    def check(self) -> str:
        from jobpulse.clients import mysql_connect

        connection = mysql_connect(self.settings, connection_timeout=3)
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT VERSION()")
            (version,) = cursor.fetchone()
            return f"MariaDB {version}"
        finally:
            connection.close()

    def environment(self) -> dict[str, str]:
        return {**os.environ, "TZ": "UTC"}
