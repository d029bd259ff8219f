"""JVM artifacts of the stack, resolved from Maven Central into a project-local cache.

Each bundle is a POM in ``maven/``; ``mvn dependency:copy-dependencies`` copies it and its dependencies into
``<cache>/jars/<bundle>/``. A bundle whose folder carries the hash of its current POM is complete, so a
second ``setup`` runs no Maven at all and downloads nothing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections import deque
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jobpulse.config import Settings
from jobpulse.errors import SetupMissing
from jobpulse.stack.process import ServiceError

if TYPE_CHECKING:
    from jobpulse.progress import Progress

BUNDLES = ("cassandra", "kafka", "spark")
# The project's own classes for the Spark application (``ingest/spark/jvm``), compiled by ``setup`` against the
# spark bundle and pyspark's jars; the jar's name carries the hash of the sources, so a change builds it again.
SPARK_EXTENSION = "jobpulse-spark"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# Maven's batch-mode line for a file it has downloaded (a POM or a jar, of a bundle or of Maven's own plugins)
_MAVEN_DOWNLOADED = re.compile(r"^\[INFO\] Downloaded from [^:]+: \S*/(?P<name>[^/\s]+) ")


def downloaded_file(line: str) -> str | None:
    """The file a line of Maven's output says it downloaded, or None for any other line."""
    match = _MAVEN_DOWNLOADED.match(line)
    return match["name"] if match else None


def _pom_text(bundle: str) -> str:
    return resources.files("jobpulse.stack").joinpath("maven", f"{bundle}.xml").read_text()


def bundle_dir(settings: Settings, bundle: str) -> Path:
    return settings.cache_dir / "jars" / bundle


def _stamp(bundle: str) -> str:
    return hashlib.sha256(_pom_text(bundle).encode()).hexdigest()


def is_fetched(settings: Settings, bundle: str) -> bool:
    marker = bundle_dir(settings, bundle) / ".complete"
    return marker.is_file() and marker.read_text().strip() == _stamp(bundle)


def fetch(settings: Settings, bundle: str, progress: Progress | None = None) -> bool:
    """Resolve ``bundle`` unless its cache is complete. Returns True if Maven ran. ``progress`` counts the files
    Maven downloads, naming the latest (how many there are is known only once Maven has resolved them all)."""
    if is_fetched(settings, bundle):
        return False
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError("Maven (`mvn`) is needed to fetch the JVM artifacts: apt-get install maven")
    target = bundle_dir(settings, bundle)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    pom = settings.cache_dir / "poms" / f"{bundle}.xml"
    pom.parent.mkdir(parents=True, exist_ok=True)
    pom.write_text(_pom_text(bundle))
    command = [
        mvn, "-B", "-f", str(pom),  # not -q: its transfer lines are the progress
        "--strict-checksums",  # a download whose checksum does not match fails instead of warning
        f"-Dmaven.repo.local={settings.cache_dir / 'maven'}",
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={target}",
    ]  # fmt: skip
    tail: deque[str] = deque(maxlen=60)  # what a failure shows
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as maven:
        assert maven.stdout is not None
        what = progress.what if progress is not None else ""
        for line in maven.stdout:
            tail.append(line)
            if progress is not None and (name := downloaded_file(line)) is not None:
                progress.describe(f"{what}, now {name}")
                progress.update()
    if maven.returncode != 0:
        raise ServiceError(f"fetching the {bundle} jars failed:\n{''.join(tail)}")
    (target / ".complete").write_text(_stamp(bundle))
    return True


def classpath(settings: Settings, bundle: str) -> list[Path]:
    """The jars of a fetched bundle, sorted for a stable classpath."""
    if not is_fetched(settings, bundle):
        raise SetupMissing(f"the {bundle} jars are not fetched into {bundle_dir(settings, bundle)}")
    return sorted(bundle_dir(settings, bundle).glob("*.jar"))


def jar(settings: Settings, bundle: str, prefix: str) -> Path:
    """The one jar of ``bundle`` whose file name starts with ``prefix`` followed by its version."""
    matches = [path for path in classpath(settings, bundle) if path.name.startswith(prefix + "-")]
    if len(matches) != 1:
        raise ServiceError(f"expected one {prefix} jar in the {bundle} bundle, found {matches}")
    return matches[0]


def _spark_extension_sources() -> list[Path]:
    import ingest.spark

    return sorted((Path(ingest.spark.__file__).parent / "jvm").rglob("*.java"))


def spark_extension_jar(settings: Settings) -> Path:
    """Where the jar of the project's Spark classes is, built or not."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in _spark_extension_sources())).hexdigest()
    return bundle_dir(settings, SPARK_EXTENSION) / f"{SPARK_EXTENSION}-{digest[:16]}.jar"


def build_spark_extension(settings: Settings) -> bool:
    """Compile the project's Spark classes into their jar unless it is there. Returns True if javac ran."""
    from jobpulse.lakehouse import spark_home
    from jobpulse.stack.service import jdk_tool

    target = spark_extension_jar(settings)
    if target.is_file():
        return False
    compile_classpath = [*classpath(settings, "spark"), *sorted((spark_home() / "jars").glob("*.jar"))]
    with tempfile.TemporaryDirectory() as scratch:
        classes, built = Path(scratch) / "classes", Path(scratch) / target.name
        for command in (
            [
                jdk_tool(settings, "javac"), "--release", "11", "-Xlint:all,-path", "-Werror",
                "-classpath", ":".join(map(str, compile_classpath)), "-d", str(classes),
                *map(str, _spark_extension_sources()),
            ],
            [jdk_tool(settings, "jar"), "--create", "--file", str(built), "-C", str(classes), "."],
        ):  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise ServiceError(f"building {target.name} failed:\n{done.stdout}{done.stderr}")
        shutil.rmtree(target.parent, ignore_errors=True)  # older builds
        target.parent.mkdir(parents=True)
        shutil.move(built, target)
    return True
