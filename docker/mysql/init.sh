#!/bin/bash
# First start of the MySQL container: the read-only Grafana account and the Hive metastore database, with the
# same names and grants `jobpulse stack up` gives them locally. The pipeline account and the data_warehouse
# database come from the image's MYSQL_USER / MYSQL_DATABASE variables.
set -euo pipefail
mysql=(mysql --protocol=socket -uroot -p"${MYSQL_ROOT_PASSWORD}")
"${mysql[@]}" <<SQL
CREATE USER IF NOT EXISTS '${JOBPULSE_MYSQL_READONLY_USER}'@'%' IDENTIFIED BY '${JOBPULSE_MYSQL_READONLY_PASSWORD}';
GRANT SELECT, SHOW VIEW ON \`${MYSQL_DATABASE}\`.* TO '${JOBPULSE_MYSQL_READONLY_USER}'@'%';
CREATE DATABASE IF NOT EXISTS \`${JOBPULSE_METASTORE_DATABASE}\` CHARACTER SET latin1 COLLATE latin1_bin;
CREATE USER IF NOT EXISTS '${JOBPULSE_METASTORE_USER}'@'%' IDENTIFIED BY '${JOBPULSE_METASTORE_PASSWORD}';
GRANT ALL PRIVILEGES ON \`${JOBPULSE_METASTORE_DATABASE}\`.* TO '${JOBPULSE_METASTORE_USER}'@'%';
FLUSH PRIVILEGES;
SQL
"${mysql[@]}" "${JOBPULSE_METASTORE_DATABASE}" < /docker-entrypoint-initdb.d/hive-metastore-transactions.sql.in
