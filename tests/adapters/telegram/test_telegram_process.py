"""``guyub run`` with a token: the adapter is found through its entry point, polls the (fake)
Bot API, answers a command, stops cleanly on SIGTERM and never prints the token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from telegram_kit import text_message

from adapters.telegram.testing import TOKEN, FakeBotApi


@pytest.mark.slow
async def test_guyub_run_serves_telegram(api: FakeBotApi, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GUYUB_TELEGRAM__TOKEN": TOKEN,
        "GUYUB_TELEGRAM__API_BASE_URL": api.root,
        "GUYUB_DATABASE__URL": f"sqlite://{tmp_path / 'guyub.sqlite3'}",
    }
    guyub = Path(sys.executable).with_name("guyub")
    process = await asyncio.create_subprocess_exec(
        str(guyub),
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await api.wait_for("getUpdates", within=60)
        api.push_update({"message": text_message("/help")})
        sent = await api.wait_for("sendMessage", within=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert "/language" in sent.params["text"] or "/bahasa" in sent.params["text"]
    assert process.returncode == 0
    text = output.decode()
    assert TOKEN not in text
    assert TOKEN.split(":", 1)[1] not in text
