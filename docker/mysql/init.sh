#!/bin/bash
# First start of the MySQL container: the databases and the three accounts JobPulse uses, with only the
# privileges each needs (the same lists as jobpulse/stack/mariadb.py's; tests/deploy checks they match).
# Passwords reach the server as escaped SQL string literals, and the root password through MYSQL_PWD (not
# the process list). Root itself is only for this container's socket (MYSQL_ROOT_HOST=localhost).
# `init.sh --print` prints the accounts' SQL instead of running anything (what tests/deploy runs).
set -euo pipefail

for secret in MYSQL_ROOT_PASSWORD JOBPULSE_MYSQL_PASSWORD JOBPULSE_MYSQL_READONLY_PASSWORD JOBPULSE_METASTORE_PASSWORD; do
  if [[ -z "${!secret}" || "${!secret}" == change-me* ]]; then
    echo "init.sh: $secret is empty or still the example's placeholder: set a real one in docker/.env" >&2
    exit 1
  fi
done

# A value as a SQL string literal: backslashes and quotes doubled (the server's default sql_mode reads both).
sql_string() {
  local value=${1//\\/\\\\}
  printf "'%s'" "${value//\'/\'\'}"
}

# A database or account name: letters, digits and underscores only, as the local stack requires.
name() {
  if [[ ! "$1" =~ ^[A-Za-z0-9_]{1,32}$ ]]; then
    echo "init.sh: '$1' is not a plain name (letters, digits, underscore)" >&2
    exit 1
  fi
  printf '%s' "$1"
}

account() {  # name, password, privileges, database
  local user
  user=$(sql_string "$(name "$1")")
  printf 'CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s;\n' "$user" "'%'" "$(sql_string "$2")"
  printf 'GRANT %s ON `%s`.* TO %s@%s;\n' "$3" "$(name "$4")" "$user" "'%'"
}

PIPELINE_PRIVILEGES="SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE VIEW, SHOW VIEW, CREATE TEMPORARY TABLES"
READONLY_PRIVILEGES="SELECT, SHOW VIEW"
METASTORE_PRIVILEGES="SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX"

warehouse=$(name "$JOBPULSE_MYSQL_DATABASE")
metastore=$(name "$JOBPULSE_METASTORE_DATABASE")
sql=$(
  echo "CREATE DATABASE IF NOT EXISTS \`$warehouse\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
  # Hive's metastore schema has indexed varchar(767) columns: they only fit in a one-byte charset.
  echo "CREATE DATABASE IF NOT EXISTS \`$metastore\` CHARACTER SET latin1 COLLATE latin1_bin;"
  account "$JOBPULSE_MYSQL_USER" "$JOBPULSE_MYSQL_PASSWORD" "$PIPELINE_PRIVILEGES" "$warehouse"
  account "$JOBPULSE_MYSQL_READONLY_USER" "$JOBPULSE_MYSQL_READONLY_PASSWORD" "$READONLY_PRIVILEGES" "$warehouse"
  account "$JOBPULSE_METASTORE_USER" "$JOBPULSE_METASTORE_PASSWORD" "$METASTORE_PRIVILEGES" "$metastore"
)
if [[ "${1-}" == "--print" ]]; then
  printf '%s\n' "$sql"
  exit 0
fi
export MYSQL_PWD="$MYSQL_ROOT_PASSWORD"
printf '%s\n' "$sql" | mysql --protocol=socket -uroot
mysql --protocol=socket -uroot "$metastore" < /docker-entrypoint-initdb.d/hive-metastore-transactions.sql.in
