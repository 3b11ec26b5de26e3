"""Three workers on a real PostgreSQL, started by the very commands of docs/operations.md
("Without Docker, the same deployment is the same commands on each host"): each serves its
own /metrics with its own ``worker`` label, ``guyub status`` lists all three alive, an update
Telegram hands to all of them is handled once, and SIGTERM stops each cleanly (exit 0)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.telegram.testing import TOKEN, FakeBotApi
from core._db import throwaway_url
from tests.databases import drop
from tests.deploy.test_operations_doc import code_lines

BIN = Path(sys.executable).parent
SECRET = "webhook-secret-for-three-workers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def documented_block() -> list[str]:
    lines = code_lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("export GUYUB_DATABASE__URL"))
    return lines[start : start + 6]


async def shell(line: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        line,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode()


async def until_ready(http: aiohttp.ClientSession, port: int) -> None:
    for _ in range(300):
        try:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.3)
    raise AssertionError(f"worker on {port} never became ready")


def counts(text: str, name: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                worker = sample.labels["worker"]
                found[worker] = found.get(worker, 0.0) + sample.value
    return found


@pytest.mark.slow
@pytest.mark.postgres
async def test_three_workers_as_documented(tmp_path: Path):
    url = throwaway_url(os.environ["GUYUB_TEST_POSTGRES_URL"])
    admin = await asyncpg.connect(os.environ["GUYUB_TEST_POSTGRES_URL"])
    try:
        await admin.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')
    finally:
        await admin.close()
    export, migrate, *workers, status = documented_block()
    assert export.startswith("export GUYUB_DATABASE__URL=")
    assert migrate == "guyub db migrate"
    assert len(workers) == 3
    assert status == "guyub status"
    processes: list[asyncio.subprocess.Process] = []
    async with FakeBotApi() as api, aiohttp.ClientSession() as http:
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "GUYUB_DATABASE__URL": url,
            "GUYUB_TELEGRAM__TOKEN": TOKEN,
            "GUYUB_TELEGRAM__API_BASE_URL": api.root,
            "GUYUB_WORKER__HEARTBEAT_SECONDS": "1",
            "GUYUB_TELEGRAM__MODE": "webhook",
            "GUYUB_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/telegram",
            "GUYUB_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "GUYUB_TELEGRAM__WEBHOOK_LISTEN": "127.0.0.1",
        }
        code, out = await shell(migrate, env)
        assert code == 0, out
        ports, hooks = [], []
        try:
            for line in workers:
                port, hook = free_port(), free_port()
                ports.append(port)
                hooks.append(hook)
                line = re.sub(r"0\.0\.0\.0:\d+", f"127.0.0.1:{port}", line)
                line = f"GUYUB_TELEGRAM__WEBHOOK_PORT={hook} {line}"
                processes.append(
                    await asyncio.create_subprocess_exec(
                        "bash",
                        "-c",
                        line,
                        env=env,
                        cwd=tmp_path,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.PIPE,
                    )
                )
            for port, process in zip(ports, processes, strict=True):
                try:
                    await until_ready(http, port)
                except AssertionError:
                    process.kill()
                    _, err = await process.communicate()
                    raise AssertionError(err.decode()[-3000:]) from None

            # The proxy hands an update to one worker, and Telegram's retry of it to another.
            person = {"id": 501, "is_bot": False, "first_name": "A", "language_code": "id"}
            update = {
                "update_id": 7001,
                "message": {
                    "message_id": 1,
                    "date": 1795000000,
                    "text": "/help",
                    "from": person,
                    "chat": {"id": 501, "type": "private", "first_name": "A"},
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            for hook in hooks[:2]:
                async with http.post(
                    f"http://127.0.0.1:{hook}/telegram", json=update, headers=headers
                ) as response:
                    assert response.status == 200
            await api.wait_for("sendMessage", within=60)

            texts = []
            for port in ports:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    assert response.status == 200
                    texts.append(await response.text())
            for name, text in zip(["bot-1", "bot-2", "bot-3"], texts, strict=True):
                assert set(counts(text, "guyub_worker_start_time_seconds")) == {name}
            handled = sum(
                sum(counts(text, "guyub_updates_received_total").values()) for text in texts
            )
            assert handled == 1  # delivered twice, handled once
            assert len(api.called("sendMessage")) == 1

            for _ in range(50):
                code, out = await shell(status, env)
                if code == 0 and out.count(" alive ") == 3:
                    break
                await asyncio.sleep(0.3)
            assert code == 0, out
            for name in ("bot-1", "bot-2", "bot-3"):
                assert re.search(rf"{name}\s+alive", out), out
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            results = [await asyncio.wait_for(p.communicate(), 60) for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], [
            r[1].decode()[-2000:] for r in results
        ]
        code, out = await shell(status, env)
        assert code == 1  # nobody is serving now
        assert out.count(" stopped ") == 3, out
        assert "no worker alive" in out
    await drop(url)


def test_documented_block_is_what_the_test_runs():
    block = documented_block()
    assert [shlex.split(line)[-2:] for line in block[2:5]] == [["guyub", "run"]] * 3
