"""Fixtures for the Discord adapter tests; the harness lives in ``discord_harness``."""

from __future__ import annotations

import discord_sample_plugin as sample
import pytest


@pytest.fixture(autouse=True)
def _clear_sample_state() -> None:
    sample.votes.clear()
    sample.created.clear()
    sample.messages.clear()
    sample.left.clear()
    sample.interest.clear()
