"""``make run`` with no setting: ``guyub run`` serves the dashboard on 127.0.0.1 beside the
console chat and prints the address and a first admin sign-in link that works."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import aiohttp
import pytest


@pytest.mark.slow
async def test_guyub_run_prints_a_working_admin_link(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUYUB_")}
    env["GUYUB_WEB__LISTEN"] = "127.0.0.1:0"
    guyub = Path(sys.executable).with_name("guyub")
    process = await asyncio.create_subprocess_exec(
        str(guyub),
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    seen = ""
    link = None
    try:
        while link is None:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, seen
            seen += line.decode()
            found = re.search(r"(http://127\.0\.0\.1:\d+)/dasbor/masuk/([\w-]+)", seen)
            if found:
                base, token = found.group(1), found.group(2)
                link = found.group(0)
        assert f"{base}/dasbor" in seen
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(
                f"{base}/dasbor/masuk", data={"token": token}, allow_redirects=False
            ) as response:
                assert response.status == 303
            async with http.get(f"{base}/dasbor") as page:
                assert page.status == 200
                assert "Seluruh Indonesia" in await page.text()
    finally:
        process.stdin.close()
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, seen + output.decode()


def test_admins_link_prints_a_link_for_admins_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from core.cli import cli

    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("GUYUB_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GUYUB_DATABASE__URL", f"sqlite://{tmp_path / 'guyub.sqlite3'}")
    runner = CliRunner()
    refused = runner.invoke(cli, ["admins", "link", "telegram:42"])
    assert refused.exit_code == 1
    assert "neither an admin nor a captain" in refused.output
    assert runner.invoke(cli, ["admins", "add", "telegram:42"]).exit_code == 0
    given = runner.invoke(cli, ["admins", "link", "telegram:42"])
    assert given.exit_code == 0, given.output
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/dasbor/masuk/[\w-]{40,}\n", given.output)
