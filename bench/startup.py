"""Start-up: from a new process to an App ready with every built-in plugin (first start with
migrations, then a start with nothing pending), the resident memory once ready and idle, and
``guyub --help``; beside a bare ``python -c pass`` started the same way.

Each figure is the median of RUNS fresh processes; the database is a SQLite file in a
temporary folder. Goals: ready <= 2 s, idle RSS <= 120 MB.

    .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 3
ROOT = Path(__file__).resolve().parent.parent

#: Run in the child: start an App with every plugin, report the time to ready and the RSS.
CHILD = """
import asyncio, sys, time
started = time.perf_counter()
from core import App, load_settings

async def main() -> None:
    settings = load_settings(None)
    async with App(settings):
        ready = time.perf_counter() - started
        ready_at = time.time()
        await asyncio.sleep(0.5)  # idle a moment, as a running bot would
        rss = 0
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
        print(f"{ready} {rss} {ready_at}")

asyncio.run(main())
"""


def spawn(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return time.perf_counter() - started, done.stdout


def spawn_ready(env: dict[str, str]) -> tuple[float, float, int]:
    """A child App: seconds from spawning it to ready, in-process seconds to ready, RSS."""
    spawned = time.time()
    _, out = spawn([sys.executable, "-c", CHILD], env)
    ready, rss, ready_at = out.split()
    return float(ready_at) - spawned, float(ready), int(rss)


def main() -> None:
    folder = tempfile.mkdtemp(prefix="guyub-bench-")
    env = {
        **os.environ,
        "GUYUB_DATABASE__URL": f"sqlite://{folder}/guyub.sqlite3",
        "PYTHONPATH": str(ROOT),
    }
    # A deployed bot keeps its compiled modules (__pycache__); a sandbox that forbids writing
    # them would make every start compile the whole code base again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    bare = statistics.median(spawn([sys.executable, "-c", "pass"], env)[0] for _ in range(RUNS))
    spawn([sys.executable, "-m", "core", "--help"], env)  # compiles what was not yet
    helped = statistics.median(
        spawn([sys.executable, "-m", "core", "--help"], env)[0] for _ in range(RUNS)
    )
    first_wall, first_ready, _ = spawn_ready(env)  # creates and migrates
    walls, readies, rsses = [], [], []
    for _ in range(RUNS):
        wall, ready, rss = spawn_ready(env)
        walls.append(wall)
        readies.append(ready)
        rsses.append(rss)
    print(
        f"startup: {os.cpu_count()} CPUs shared with other sessions, Python {sys.version.split()[0]}"
    )
    print(f"bare python -c pass:            {bare * 1000:8.0f} ms")
    print(f"guyub --help:                   {helped * 1000:8.0f} ms  ({helped / bare:.1f}x bare)")
    print(
        f"first start (migrations):       {first_wall * 1000:8.0f} ms from spawn to ready,"
        f" {first_ready * 1000:.0f} ms to ready in the process"
    )
    wall, ready = statistics.median(walls), statistics.median(readies)
    print(
        f"start, nothing pending:         {wall * 1000:8.0f} ms from spawn to ready,"
        f" {ready * 1000:.0f} ms to ready ({wall / bare:.1f}x bare; goal <= 2000 ms)"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"idle RSS when ready:            {statistics.median(rsses) / 2**20:8.1f} MiB (goal <= 120)"
    )


if __name__ == "__main__":
    main()
