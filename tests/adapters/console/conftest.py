from __future__ import annotations

from pathlib import Path

import pytest

from tests.hello_plugin import install_hello


@pytest.fixture(scope="session")
def hello_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("hello-site")
    install_hello(target)
    return target
