"""A second `make setup` fetches nothing: each fetched bundle is recognised from the hash of its POM."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from jobpulse.config import Settings
from jobpulse.stack import artifacts


def test_fetched_bundles_are_not_fetched_again(settings: Settings):
    for bundle in artifacts.BUNDLES:
        assert artifacts.is_fetched(settings, bundle)
        assert artifacts.fetch(settings, bundle) is False  # Maven not run


def test_a_changed_or_missing_pom_stamp_means_fetch_again(settings: Settings, tmp_path: Path):
    elsewhere = dataclasses.replace(settings, cache_dir=tmp_path)
    assert not artifacts.is_fetched(elsewhere, "kafka")
    stamp_dir = artifacts.bundle_dir(elsewhere, "kafka")
    stamp_dir.mkdir(parents=True)
    (stamp_dir / ".complete").write_text("hash of an older POM")
    assert not artifacts.is_fetched(elsewhere, "kafka")


def test_each_bundle_brings_its_entry_points(settings: Settings):
    names = {bundle: {path.name for path in artifacts.classpath(settings, bundle)} for bundle in artifacts.BUNDLES}
    assert any(name.startswith("cassandra-all-5.0.") for name in names["cassandra"])
    assert any(name.startswith("logback-classic-") for name in names["cassandra"])
    assert any(name.startswith("kafka_2.13-4.") for name in names["kafka"])
    assert any(name.startswith("log4j-slf4j2-impl-") for name in names["kafka"])
    assert "spark-cassandra-connector_2.12-3.5.1.jar" in names["spark"]
    assert any(name.startswith("mariadb-java-client-") for name in names["spark"])
    # pyspark ships its own Scala library: a second copy on the classpath would clash
    assert not any(name.startswith("scala-library-") for name in names["spark"])


def test_maven_download_lines_name_the_file_and_nothing_else_counts():
    line = (
        "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/com/github/luben/zstd-jni/1.5.6-3/"
        "zstd-jni-1.5.6-3.jar (6.7 MB at 9.1 MB/s)\n"
    )
    assert artifacts.downloaded_file(line) == "zstd-jni-1.5.6-3.jar"
    assert artifacts.downloaded_file("[INFO] Downloading from central: https://repo/x/y/a-1.pom\n") is None
    assert artifacts.downloaded_file("[INFO] BUILD SUCCESS\n") is None


def test_the_projects_spark_classes_are_built_once_and_on_every_spark_classpath(settings: Settings):
    from jobpulse.lakehouse import spark_conf

    extension = artifacts.spark_extension_jar(settings)
    assert extension.is_file()
    assert artifacts.build_spark_extension(settings) is False  # javac not run
    conf = spark_conf(settings)
    assert str(extension) in conf["spark.driver.extraClassPath"].split(":")
    assert str(extension) in conf["spark.executor.extraClassPath"].split(":")
    assert conf["spark.cassandra.connection.factory"] == "jobpulse.spark.SessionRenewingConnectionFactory"
