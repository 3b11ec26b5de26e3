"""``guyub new-plugin NAME``: a new plugin package that installs, loads and passes its own
tests on creation (the layout docs/plugins.md explains)."""

from __future__ import annotations

import re
from pathlib import Path

from core._plugins import API_VERSION

__all__ = ["new_plugin", "valid_name"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,24}$")


def valid_name(name: str) -> bool:
    """A plugin name: lowercase letters, digits and ``_``, 2–25 characters."""
    return bool(_NAME.match(name)) and not name.endswith("_")


def _api_range() -> str:
    major, _, minor = API_VERSION.partition(".")
    return f">={major}.{minor},<{int(major) + 1}"


def _files(name: str) -> dict[str, str]:
    package = f"guyub_{name}"
    title = name.replace("_", " ").capitalize()
    return {
        "pyproject.toml": f'''[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "guyub-{name.replace("_", "-")}"
version = "0.1.0"
description = "{title}: a Guyub plugin"
requires-python = ">=3.11"
dependencies = ["guyub"]

[project.entry-points."guyub.plugins"]
{name} = "{package}"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.setuptools.package-data]
{package} = ["texts/*.toml"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
filterwarnings = [
    # discord.py imports audioop (voice) at import time; Python 3.11 warns about it.
    "ignore:'audioop' is deprecated:DeprecationWarning",
]

[tool.ruff]
line-length = 100
# `guyub db makemigrations` writes the migrations; they are not edited by hand.
extend-exclude = ["*/migrations/*"]

[tool.ruff.lint]
select = ["E", "F", "W", "I", "UP", "B", "SIM", "RUF", "ASYNC", "PT"]
# Indonesian texts and comments have en dashes and other look-alike characters.
ignore = ["RUF001", "RUF002", "RUF003"]
''',
        "README.md": f"""# guyub-{name.replace("_", "-")}

{title}: a plugin for Guyub. Install it next to Guyub with `pip install .`;
`guyub plugins` lists it and `guyub run` loads it.

Test it with `pytest` (Guyub's test kit is a pytest plugin). The plugin author's guide is
Guyub's `docs/plugins.md`. To share the plugin, publish this folder as a repository of
its own (or the package on a package index) and add its address to `[project.urls]` in
`pyproject.toml`.
""",
        f"{package}/__init__.py": f'''"""{title}: a Guyub plugin."""

from __future__ import annotations

from collections.abc import Sequence

from core import Command, Context, PluginInfo, hookimpl, load_texts

PLUGIN = PluginInfo(
    name="{name}",
    version="0.1.0",
    description="{title}",
    api="{_api_range()}",
)


async def hello(ctx: Context) -> None:
    """Greets the member by name, in their language."""
    name = ctx.member.display_name if ctx.member is not None else ""
    await ctx.reply(ctx.t("{name}.greeting", name=name))


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return [Command("{name}_hello", hello, "{name}.cmd.hello", alias="{name}_halo")]


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts(__name__)
''',
        f"{package}/texts/id.toml": f"""[{name}.cmd]
hello = "Sapaan dari plugin {title}"

[{name}]
greeting = "Halo, {{name}}! Ketik {{cmd:help}} untuk daftar perintah."
""",
        f"{package}/texts/en.toml": f"""[{name}.cmd]
hello = "A greeting from the {title} plugin"

[{name}]
greeting = "Hello, {{name}}! Type {{cmd:help}} for the list of commands."
""",
        "tests/__init__.py": "",
        f"tests/test_{name}.py": f'''"""The {name} plugin through the real core."""

from core.testing import FakeChat, MemoryAdapter

import {package}


async def test_hello_in_the_members_language_and_platform(make_app):
    async with make_app(plugins=[{package}]) as app:
        chat = FakeChat(app, [MemoryAdapter("telegram"), MemoryAdapter("discord")])
        amir = chat.user("amir", platform="telegram")
        await amir.says("/{name}_halo")
        chat.expect_sent(amir, contains="Halo, amir! Ketik /bantuan")
        budi = chat.user("budi", platform="discord", language="en")
        await budi.says("/{name}_hello")
        chat.expect_sent(budi, contains="Hello, budi! Type /help")
''',
    }


def new_plugin(name: str, where: Path) -> Path:
    """Write the package ``guyub-NAME`` under ``where``; returns its folder. Refuses a bad
    name or an existing folder."""
    if not valid_name(name):
        raise ValueError(
            f"bad plugin name {name!r}: use 2-25 lowercase letters, digits and _ (e.g. jobs)"
        )
    root = where / f"guyub-{name.replace('_', '-')}"
    if root.exists():
        raise FileExistsError(f"{root} already exists")
    for relative, content in _files(name).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root
