"""Debian packages the local stack needs and cannot get from PyPI or Maven Central."""

from __future__ import annotations

import os
import shutil
import subprocess

from jobpulse.stack.process import ServiceError

# command that proves the package is installed -> Debian package
REQUIRED = {
    "mariadbd": "mariadb-server",  # the MySQL server of the stack
    "mariadb": "mariadb-client",  # bootstrap SQL over the server's socket
    "docker-compose": "docker-compose",  # validates docker/docker-compose.yml without a Docker engine
}

SBIN = ("/usr/sbin", "/sbin")


def which(command: str) -> str | None:
    """``shutil.which`` that also looks in sbin folders, which a non-root PATH often lacks."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    return shutil.which(command, path=path)


def missing() -> list[str]:
    return sorted({package for command, package in REQUIRED.items() if which(command) is None})


def install_missing() -> list[str]:
    """Install missing packages with apt when root; otherwise say exactly what to install."""
    packages = missing()
    if not packages:
        return []
    if os.geteuid() != 0:
        raise ServiceError(
            "these Debian packages are missing and installing them needs root:\n"
            f"  sudo apt-get install -y {' '.join(packages)}\nthen run `make setup` again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # policy-rc.d exit 101 keeps the package from starting a system-wide MariaDB on our port: the stack runs
    # its own server on its own data folder.
    policy = "/usr/sbin/policy-rc.d"
    had_policy = os.path.exists(policy)
    if not had_policy:
        with open(policy, "w") as handle:
            handle.write("#!/bin/sh\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
            result = subprocess.run(command, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise ServiceError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    finally:
        if not had_policy:
            os.remove(policy)
    return packages
