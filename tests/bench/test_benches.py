"""Every benchmark in bench/ still runs to the end and prints its comparison.

Each runs small, in a process of its own, as a developer would run it: a smoke run. The
figures are not checked (a machine's speed is no test's business; the benchmarks report it),
only that the benchmark works, so that none rots between the rounds that measure with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: name -> (arguments, environment, a line the comparison prints)
SMALL: dict[str, tuple[list[str], dict[str, str], str]] = {
    "broadcast.py": ([], {"BENCH_DRAIN": "200", "BENCH_PACED": "100"}, "ratio"),
    "dashboard.py": (["--scale", "0.001", "--repeat", "2"], {}, "p95"),
    "delivery.py": (
        ["--rsvps", "500", "--drain", "200", "--drain-http", "50", "--shared", "50"],
        {},
        "ratio outbox / plain loop",
    ),
    "discord_dispatch.py": (
        [],
        {"BENCH_MESSAGES": "100", "BENCH_INTERACTIONS": "30"},
        "guyub / raw answering",
    ),
    "dispatch.py": (["200"], {}, "ratio"),
    "observability.py": ([], {}, "share of a DM command"),
    "poll_tally.py": (["--ballots", "2000"], {}, "naive"),
    "privacy.py": ([], {}, "ratio on/off"),
    "region_match.py": ([], {}, "ratio baseline/match"),
    "reminders.py": (["--n", "500", "--memory-n", "500", "--window", "2"], {}, "core / PTB"),
    "startup.py": ([], {}, "idle RSS when ready"),
    "telegram_dispatch.py": (["100"], {}, "ratio b/a"),
}


def test_every_benchmark_has_a_smoke_run() -> None:
    assert sorted(SMALL) == sorted(p.name for p in (ROOT / "bench").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_benchmark_runs_and_prints_its_comparison(name: str) -> None:
    args, extra, marker = SMALL[name]
    env = {k: v for k, v in os.environ.items() if k != "GUYUB_TEST_POSTGRES_URL"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        cwd=ROOT,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert marker in result.stdout, result.stdout[-2000:]
