"""Shared test set-up. The fixtures themselves come from Guyub's test kit (core.testing)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("GUYUB_TEST_POSTGRES_URL"):
        return
    skip = pytest.mark.skip(reason="needs GUYUB_TEST_POSTGRES_URL (CI sets it)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
