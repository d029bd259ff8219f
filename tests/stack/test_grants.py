"""Each MySQL account may do what it uses and nothing more, locally and in the compose deployment's init
script; the read-only account's sessions read backslashes as plain characters and time out."""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import mysql.connector
import pytest
from mysql.connector import errorcode

from jobpulse.config import PROJECT_ROOT, Settings
from jobpulse.dashboards import format_value
from jobpulse.stack import service
from jobpulse.stack.mariadb import (
    METASTORE_PRIVILEGES,
    PIPELINE_PRIVILEGES,
    READONLY_PRIVILEGES,
    READONLY_STATEMENT_SECONDS,
)

pytestmark = pytest.mark.usefixtures("running_stack")
DENIED = {
    errorcode.ER_DBACCESS_DENIED_ERROR,
    errorcode.ER_TABLEACCESS_DENIED_ERROR,
    errorcode.ER_SPECIFIC_ACCESS_DENIED_ERROR,
    errorcode.ER_ACCESS_DENIED_ERROR,
    errorcode.ER_COLUMNACCESS_DENIED_ERROR,
}


def connect(settings: Settings, user: str, password: str, database: str | None = None):
    return mysql.connector.connect(
        host=settings.mysql_host, port=settings.mysql_port, user=user, password=password, database=database
    )


def granted(settings: Settings, user: str, password: str) -> dict[str, set[str]]:
    """{`database` or *: privileges} from the account's own SHOW GRANTS."""
    connection = connect(settings, user, password)
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW GRANTS")
        result: dict[str, set[str]] = {}
        for (line,) in cursor.fetchall():
            match = re.match(r"GRANT (.+) ON (\S+)\.\* TO", line)
            assert match, line
            result[match[2].strip("`")] = {privilege.strip() for privilege in match[1].split(",")}
        return result
    finally:
        connection.close()


def accounts(settings: Settings) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [
        (settings.mysql_user, settings.mysql_password, settings.mysql_database, PIPELINE_PRIVILEGES),
        (settings.mysql_readonly_user, settings.mysql_readonly_password, settings.mysql_database, READONLY_PRIVILEGES),
        (settings.metastore_user, settings.metastore_password, settings.metastore_database, METASTORE_PRIVILEGES),
    ]


def test_each_account_holds_exactly_its_privileges_on_its_own_database(settings: Settings):
    for user, password, database, privileges in accounts(settings):
        grants = granted(settings, user, password)
        assert grants.pop("*") == {"USAGE"}, f"{user} holds global privileges"
        assert grants.pop(database) == set(privileges), user
        assert not {name for name in grants if not name.startswith("test_")}, f"{user} reaches {grants}"


def test_a_namespace_keeps_its_grants_when_the_accounts_are_applied_again(settings: Settings):
    """As on a restart of MariaDB, or an `up` that found it unhealthy: a pipeline running in a namespace keeps
    its database."""
    from jobpulse.stack.mariadb import grant_sql

    mariadb = service(settings, "mariadb")
    database = f"test_grants_{uuid.uuid4().hex[:8]}_dw"
    mariadb.admin_sql(
        f"CREATE DATABASE {database};"
        + grant_sql(PIPELINE_PRIVILEGES, database, settings.mysql_user)
        + grant_sql(READONLY_PRIVILEGES, database, settings.mysql_readonly_user)
    )
    try:
        mariadb.after_start()
        for user, password, _, privileges in accounts(settings)[:2]:
            assert granted(settings, user, password)[database] == set(privileges), user
    finally:
        mariadb.admin_sql(f"DROP DATABASE {database}; DELETE FROM mysql.db WHERE Db = '{database}'; FLUSH PRIVILEGES;")


def test_the_stacks_own_database_keeps_its_grants_when_a_namespace_applies_the_accounts_again(settings: Settings):
    """As when a soak or a test restarts MariaDB through a namespace's settings: the default pipeline keeps its
    database."""
    from jobpulse.namespace import drop_serving_database, named

    elsewhere = named(settings, f"test_grants_{uuid.uuid4().hex[:8]}")
    try:
        service(elsewhere, "mariadb").after_start()
        for user, password, database, privileges in accounts(settings)[:2]:
            assert granted(settings, user, password).get(database) == set(privileges), user
    finally:
        drop_serving_database(elsewhere)
        service(settings, "mariadb").after_start()  # what a failure took away


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE DATABASE jobpulse_not_allowed",
        "SELECT user FROM mysql.user",
        "SELECT COUNT(*) FROM {metastore}.DBS",
        "GRANT SELECT ON {warehouse}.* TO '{readonly}'@'%'",
        "CREATE USER intruder IDENTIFIED BY 'x'",
        "SELECT * FROM information_schema.processlist WHERE user = 'root'",
    ],
)
def test_the_pipeline_account_reaches_nothing_beyond_its_database(settings: Settings, statement: str):
    connection = connect(settings, settings.mysql_user, settings.mysql_password, settings.mysql_database)
    try:
        cursor = connection.cursor()
        sql = statement.format(
            metastore=settings.metastore_database,
            warehouse=settings.mysql_database,
            readonly=settings.mysql_readonly_user,
        )
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        except mysql.connector.Error as error:
            assert error.errno in DENIED, error
        else:
            assert rows == [], f"{sql} returned {rows}"  # the process list shows only one's own sessions
    finally:
        connection.close()


def test_the_read_only_session_takes_backslashes_literally_and_has_a_time_limit(settings: Settings):
    """Grafana pastes a template variable's value into SQL with its quotes doubled but its backslashes kept: under
    MySQL's default sql_mode a value ending in a backslash escapes the closing quote and the rest is SQL."""
    hostile = "x\\' UNION SELECT user FROM mysql.user -- "
    literal = format_value([hostile], variable=None)  # a multi-value selection: a quoted literal
    reader = connect(settings, settings.mysql_readonly_user, settings.mysql_readonly_password)
    writer = connect(settings, settings.mysql_user, settings.mysql_password)
    try:
        cursor = reader.cursor()
        cursor.execute("SELECT @@SESSION.sql_mode, @@SESSION.max_statement_time")
        mode, seconds = cursor.fetchone()
        assert "NO_BACKSLASH_ESCAPES" in mode and float(seconds) == READONLY_STATEMENT_SECONDS
        cursor.execute(f"SELECT {literal}")
        assert cursor.fetchall() == [(hostile,)]
        cursor = writer.cursor()
        cursor.execute("SELECT @@SESSION.sql_mode, @@SESSION.max_statement_time")
        mode, seconds = cursor.fetchone()
        assert "NO_BACKSLASH_ESCAPES" not in mode and float(seconds) == 0, "only the read-only account is limited"
    finally:
        reader.close()
        writer.close()


def test_the_compose_init_script_creates_the_same_accounts_with_any_password(settings: Settings):
    suffix = uuid.uuid4().hex[:8]
    names = {
        "JOBPULSE_MYSQL_DATABASE": f"test_init_dw_{suffix}",
        "JOBPULSE_METASTORE_DATABASE": f"test_init_ms_{suffix}",
        "JOBPULSE_MYSQL_USER": f"tiw_{suffix}",
        "JOBPULSE_MYSQL_READONLY_USER": f"tir_{suffix}",
        "JOBPULSE_METASTORE_USER": f"tim_{suffix}",
    }
    passwords = {
        "JOBPULSE_MYSQL_PASSWORD": "it's \\ a 'quoted' \\\\ pass; DROP DATABASE x; --",
        "JOBPULSE_MYSQL_READONLY_PASSWORD": "\\",
        "JOBPULSE_METASTORE_PASSWORD": 'ünïcode "double" `tick`',
    }
    env = {**os.environ, **names, **passwords, "MYSQL_ROOT_PASSWORD": "unused-here"}
    script = PROJECT_ROOT / "docker" / "mysql" / "init.sh"
    sql = subprocess.run(["bash", str(script), "--print"], env=env, capture_output=True, text=True, check=True).stdout
    mariadb = service(settings, "mariadb")
    users = [names[key] for key in ("JOBPULSE_MYSQL_USER", "JOBPULSE_MYSQL_READONLY_USER", "JOBPULSE_METASTORE_USER")]
    mariadb.admin_sql(sql)
    try:
        expected = [
            ("JOBPULSE_MYSQL", "JOBPULSE_MYSQL_DATABASE", PIPELINE_PRIVILEGES),
            ("JOBPULSE_MYSQL_READONLY", "JOBPULSE_MYSQL_DATABASE", READONLY_PRIVILEGES),
            ("JOBPULSE_METASTORE", "JOBPULSE_METASTORE_DATABASE", METASTORE_PRIVILEGES),
        ]
        for account, database, privileges in expected:
            user, password = names[f"{account}_USER"], passwords[f"{account}_PASSWORD"]
            assert granted(settings, user, password) == {"*": {"USAGE"}, names[database]: set(privileges)}
    finally:
        mariadb.admin_sql(
            "".join(f"DROP USER IF EXISTS '{user}'@'%';" for user in users)
            + f"DROP DATABASE IF EXISTS {names['JOBPULSE_MYSQL_DATABASE']};"
            + f"DROP DATABASE IF EXISTS {names['JOBPULSE_METASTORE_DATABASE']};"
        )


def test_the_init_script_refuses_the_example_placeholders():
    env = {**os.environ, "MYSQL_ROOT_PASSWORD": "change-me-root", "JOBPULSE_MYSQL_PASSWORD": "p"}
    script = PROJECT_ROOT / "docker" / "mysql" / "init.sh"
    result = subprocess.run(["bash", str(script), "--print"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "MYSQL_ROOT_PASSWORD is empty or still the example's placeholder" in result.stderr
