"""Installs examples/hello-plugin the way a user would (pip, entry points) into a folder that
subprocesses put on their path: a real third-party install, without touching the venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "examples" / "hello-plugin"


def install_hello(target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(HELLO),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


def guyub(
    args: list[str],
    *,
    path: Path | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the ``guyub`` CLI in a subprocess, with ``path`` (where hello is installed) first."""
    environment = {**os.environ, **(env or {})}
    if path is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(path), environment.get("PYTHONPATH", "")])
        )
    base = environment.get("GUYUB_TEST_POSTGRES_URL")
    if base and args and args[0] == "chat" and "--database" not in args:
        from core._db import throwaway_url

        args = [*args, "--database", throwaway_url(base)]
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=300,
        check=False,
    )
