"""What every service of the local stack provides to ``jobpulse stack``."""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from importlib import resources
from pathlib import Path
from string import Template

from jobpulse.config import Settings
from jobpulse.stack.process import ManagedProcess


class Service(ABC):
    """A local server process: how to prepare, start and probe it. Subclasses hold no state of their own."""

    name: str
    start_timeout: float

    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self.settings = settings
        self.name = name or type(self).name  # a node of a cluster is named after its place in it
        self.process = ManagedProcess(
            name=self.name,
            pid_file=settings.state_dir / "run" / f"{self.name}.pid",
            log_file=settings.state_dir / "logs" / f"{self.name}.log",
        )

    @property
    def home(self) -> Path:
        """The service's own folder under the state dir (data and generated configuration)."""
        return self.settings.state_dir / self.name

    @property
    @abstractmethod
    def host(self) -> str: ...

    @property
    @abstractmethod
    def port(self) -> int: ...

    def prepare(self) -> None:
        """Write configuration and initialise storage; idempotent, runs before every start."""

    @abstractmethod
    def command(self) -> list[str]: ...

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    @abstractmethod
    def check(self) -> str:
        """Make a real request to the service; return a short description, raise if it does not answer."""

    def ping(self) -> str:
        """The first request that shows the server is up, before ``after_start`` (default: ``check``)."""
        return self.check()

    def after_start(self) -> None:
        """Work that needs the running service (accounts, databases); idempotent."""

    def port_in_use(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex((self.host, self.port)) == 0


class Node(Service):
    """One of the nodes of a clustered service, the ``index``-th of ``count``: named after its place in the
    cluster when there are several (``kafka-2``), after the service when it is alone (``kafka``)."""

    def __init__(self, settings: Settings, index: int, count: int) -> None:
        super().__init__(settings, type(self).name if count == 1 else f"{type(self).name}-{index + 1}")
        self.index = index


def render_template(name: str, target: Path, **values: object) -> Path:
    """Write the packaged template ``name`` to ``target`` with its ``$placeholders`` filled in."""
    text = resources.files("jobpulse.stack").joinpath("templates", name).read_text()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Template(text).substitute({key: str(value) for key, value in values.items()}))
    return target


def jdk_tool(settings: Settings, tool: str) -> str:
    """A program of the stack's JDK (``java``, ``javac``, ``jar``)."""
    return str(Path(settings.java_home) / "bin" / tool) if settings.java_home else tool
