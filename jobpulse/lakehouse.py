"""The lakehouse catalog every Spark process shares: Delta tables, a Hive metastore kept in MariaDB, and the
Cassandra connector.

The Thrift server (dbt's way in) and the Spark jobs are separate JVMs, so the catalog cannot be Spark's default
embedded Derby, which one process locks for itself. The metastore lives in a MariaDB database instead, which
any number of Spark processes use at once. All of them read one generated ``spark-defaults.conf`` from
``SPARK_CONF_DIR``, so there is one definition of the catalog.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from jobpulse.config import Settings
from jobpulse.errors import SetupMissing
from jobpulse.stack import artifacts

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_LOG_CONFIG = """\
# Spark processes of the local stack: warnings only, except the Thrift server's start and stop.
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
# Spark 3.5's libthrift 0.12 logs every client's disconnect (dbt's, the ingest's, each health check's) as this
# ERROR with a TTransportException (THRIFT-4805, fixed in 0.13): Spark 3.5's own log4j2.properties.template drops
# it the same way (SPARK-34128); a real protocol error logged under the same words is dropped with it.
appender.console.filter.1.type = RegexFilter
appender.console.filter.1.regex = .*Thrift error occurred during processing of message.*
appender.console.filter.1.onMatch = deny
appender.console.filter.1.onMismatch = neutral
logger.thrift.name = org.apache.spark.sql.hive.thriftserver
logger.thrift.level = info
logger.datanucleus.name = DataNucleus
logger.datanucleus.level = error
logger.hiveconf.name = org.apache.hadoop.hive.conf.HiveConf
logger.hiveconf.level = error
logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecode.level = error
logger.stringutils.name = org.apache.spark.sql.catalyst.util.SparkStringUtils
logger.stringutils.level = error
"""


def spark_home() -> Path:
    """pyspark's installation, which is a complete Spark distribution (bin/, jars/) minus sbin/."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise SetupMissing("pyspark is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def spark_conf(settings: Settings) -> dict[str, str]:
    """Spark properties of the shared catalog; also what a test or job session needs to see the lakehouse."""
    metastore_url = (
        f"jdbc:mariadb://{settings.mysql_host}:{settings.mysql_port}/{settings.metastore_database}"
        # Hive and DataNucleus pick their SQL dialect from the product name the driver reports: say "MySQL".
        # Without nullDatabaseMeansCurrent the driver's metadata calls take information_schema.PARTITIONS for
        # the metastore's own PARTITIONS table.
        # allowPublicKeyRetrieval lets it log in to MySQL 8.4 (compose) with caching_sha2_password over plain TCP.
        "?useMysqlMetadata=true&nullDatabaseMeansCurrent=true&allowPublicKeyRetrieval=true"
    )
    extension = artifacts.spark_extension_jar(settings)
    if not extension.is_file():
        raise SetupMissing(f"{extension} is not built (`make setup` builds it)")
    classpath = os.pathsep.join(str(path) for path in [*artifacts.classpath(settings, "spark"), extension])
    return {
        "spark.master": settings.spark_master,
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.driver.host": settings.spark_driver_host,
        "spark.driver.bindAddress": settings.spark_driver_host,
        # On the JVM's own classpath rather than spark.jars: the Hive metastore client looks its JDBC driver up
        # through java.sql.DriverManager, which does not see jars added by Spark's user class loader.
        "spark.driver.extraClassPath": classpath,
        "spark.executor.extraClassPath": classpath,
        "spark.sql.extensions": (
            "io.delta.sql.DeltaSparkSessionExtension,com.datastax.spark.connector.CassandraSparkExtensions"
        ),
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalog.cassandra": "com.datastax.spark.connector.datasource.CassandraCatalog",
        "spark.cassandra.connection.host": ",".join(settings.cassandra_hosts),
        "spark.cassandra.connection.port": str(settings.cassandra_port),
        "spark.cassandra.connection.localDC": settings.cassandra_datacenter,
        "spark.cassandra.auth.username": settings.cassandra_user,
        "spark.cassandra.auth.password": settings.cassandra_password,
        # sessions that replace themselves when the driver's schema refresh jams (ingest/spark/jvm)
        "spark.cassandra.connection.factory": "jobpulse.spark.SessionRenewingConnectionFactory",
        # Reading at the raw log's write level (LOCAL_QUORUM by default) sees every acknowledged write whatever
        # the replication factor (LOCAL_ONE, the connector's default, may miss one when it is above 1).
        "spark.cassandra.input.consistency.level": settings.cassandra_consistency,
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(settings.warehouse_dir),
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore_url,
        "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.mariadb.jdbc.Driver",
        "spark.hadoop.javax.jdo.option.ConnectionUserName": settings.metastore_user,
        "spark.hadoop.javax.jdo.option.ConnectionPassword": settings.metastore_password,
        # The metastore creates its tables on first use, without foreign keys: adding one needs a metadata lock on
        # the parent table, which the metastore's own open transaction holds (a self-deadlock on MariaDB and
        # MySQL 8). The transaction tables it never creates come from hive-metastore-transactions.sql.
        "spark.hadoop.datanucleus.schema.autoCreateAll": "false",  # "all" would include the constraints
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.hadoop.hive.metastore.schema.verification.record.version": "true",
        # Event hours come from the text of `ts`; a UTC session keeps any timestamp arithmetic stable too.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        # Delta rebuilds a table's file list from its log in this many tasks, several times per MERGE; the
        # default (50) costs seconds a statement on two cores for tables of a few thousand files
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.ui.showConsoleProgress": "false",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        **(_standalone_conf(settings) if settings.spark_standalone else {}),
    }


def _standalone_conf(settings: Settings) -> dict[str, str]:
    """Executors on a standalone cluster's workers: 1 core each, with the heap a worker offers. With no
    ``spark.cores.max``, the Thrift server (the pipeline's one long-running application) takes every core the
    workers offer, and a worker that joins later (or comes back) gets an executor of it at once. Off the loopback,
    every process of the cluster proves it holds the shared secret (the daemons read it from the same
    spark-defaults.conf; workers hand it to the executors they start), and the UIs offer no kill links."""
    conf = {
        "spark.executor.cores": "1",
        "spark.executor.memory": settings.spark_worker_memory,
        "spark.ui.killEnabled": "false",
    }
    if settings.spark_rpc_password:
        conf |= {"spark.authenticate": "true", "spark.authenticate.secret": settings.spark_rpc_password}
    return conf


def conf_dir(settings: Settings) -> Path:
    return settings.state_dir / "spark" / "conf"


def write_conf_dir(settings: Settings) -> Path:
    """Write ``spark-defaults.conf`` (owner-only: it holds the metastore password) and the log config."""
    target = conf_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    defaults = target / "spark-defaults.conf"
    defaults.touch(mode=0o600)
    defaults.chmod(0o600)
    defaults.write_text("".join(f"{key} {value}\n" for key, value in spark_conf(settings).items()))
    (target / "log4j2.properties").write_text(SPARK_LOG_CONFIG)
    return target


def spark_environment(settings: Settings) -> dict[str, str]:
    """Environment for ``spark-submit``: the shared conf dir, Spark's home and the JDK."""
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_CONF_DIR": str(conf_dir(settings)),
        "SPARK_LOCAL_IP": settings.spark_driver_host,
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", _python()),
    }
    if settings.java_home:
        env["JAVA_HOME"] = settings.java_home
    return env


def _python() -> str:
    import sys

    return sys.executable


def landing_table(settings: Settings) -> str:
    return f"{settings.lakehouse_database}.tracking"


# The lakehouse models that resume after the highest landing batch they hold, and the column that holds it:
# batch numbers must never restart below these (tests check the list against the models).
BATCH_WATERMARKS = (
    ("base_datalake__tracking_first_arrivals", "ingest_batch"),
    ("stg_datalake__tracking", "ingest_batch"),
    ("fct_job_hourly", "last_ingest_batch"),
    ("fct_tracking_quality_daily", "last_ingest_batch"),
)


def landing_table_path(settings: Settings) -> Path:
    """Where the landing table's files and Delta log live (a managed table under the warehouse)."""
    return settings.warehouse_dir / f"{settings.lakehouse_database}.db" / "tracking"


def spark_session(settings: Settings, app_name: str) -> SparkSession:
    """A Spark session on the shared catalog, configured exactly like the Thrift server."""
    write_conf_dir(settings)
    os.environ.update(spark_environment(settings))
    from pyspark.sql import SparkSession

    # the Thrift server owns the Spark UI port; a job's UI would only move to the next one
    return SparkSession.builder.appName(app_name).config("spark.ui.enabled", "false").getOrCreate()
