"""The ``guyub`` command line.

Adapters are found through the ``guyub.adapters`` entry points (the core imports none of
them); plugins add ``guyub GROUP NAME`` commands through ``guyub_register_cli``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TextIO

import typer

from core._adapter import Adapter
from core._app import App
from core._clock import FakeClock
from core._db import Database, redact_url, throwaway_url
from core._events import UserRef
from core._logging import setup_logging
from core._plugins import LoadedPlugin, Plugins, missing_privacy_hooks
from core._roles import Role
from core._scaffold import new_plugin
from core._settings import Settings, SettingsError, load_settings
from core._specs import CliCommand, CliParam

__all__ = ["cli", "main"]

log = logging.getLogger("guyub")

ADAPTER_GROUP = "guyub.adapters"

cli = typer.Typer(
    name="guyub",
    help="Guyub: the Kartu Prakerja alumni community bot for Telegram and Discord.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database: migrations.", no_args_is_help=True)
admins_cli = typer.Typer(help="PMO admins.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(admins_cli, name="admins")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Settings file (default: ./guyub.toml if present)."),
]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **overrides)
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None


def _secrets(settings: Settings) -> list[str]:
    values = [settings.telegram.token, settings.telegram.webhook_secret, settings.discord.token]
    return [v.get_secret_value() for v in values if v is not None]


def adapter_modules() -> dict[str, ModuleType]:
    """Adapter packages installed under ``guyub.adapters``, by name."""
    modules: dict[str, ModuleType] = {}
    for ep in entry_points(group=ADAPTER_GROUP):
        try:
            modules[ep.name] = ep.load()
        except Exception:
            log.exception("adapter %s could not be imported", ep.name)
    return modules


def configured_adapters(settings: Settings) -> list[Adapter]:
    """Every adapter whose platform is configured; the console when none is."""
    modules = adapter_modules()
    adapters = [
        adapter
        for name, module in sorted(modules.items())
        if name != "console" and (adapter := module.create(settings)) is not None
    ]
    if not adapters and "console" in modules:
        adapters.append(modules["console"].create(settings))
    return adapters


def _console() -> ModuleType:
    module = adapter_modules().get("console")
    if module is None:
        typer.echo("the console adapter is not installed", err=True)
        raise typer.Exit(2)
    return module


def _run(coro: Awaitable[int | None]) -> None:
    async def wrapped() -> int | None:
        return await coro

    code = asyncio.run(wrapped())
    if code:
        raise typer.Exit(code)


# --- commands -----------------------------------------------------------------------------


@cli.command()
def run(config: ConfigOption = None) -> None:
    """Run the bot: every configured adapter (the console chat when no token is set)."""
    settings = _settings(config)
    setup_logging(secrets=_secrets(settings))

    async def main() -> None:
        app = App(settings, adapters=configured_adapters(settings))
        log.info(
            "starting with %s on %s",
            ", ".join(app.adapters) or "no adapter",
            redact_url(settings.database.url),
        )
        async with app:
            await app.run()

    _run(main())


@cli.command()
def chat(
    script: Annotated[
        Path | None, typer.Option("--script", "-s", help="Run a scenario script and exit.")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="Database URL (scripts default to a throw-away database)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="Start a script's clock here (ISO with offset, e.g. 2026-11-23T10:00+07:00), "
            "before start-up jobs are scheduled."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Chat with the bot in the terminal, or run a scenario script (exit 0 ok, 1 a failed
    :expect, 2 a malformed line)."""
    started_at = _start_time(start) if start is not None else None
    if started_at is not None and script is None:
        typer.echo("--start needs --script", err=True)
        raise typer.Exit(2)
    overrides: dict[str, Any] = {}
    settings = _settings(config)
    if database:
        overrides["database"] = {"url": database}
    elif script is not None:
        overrides["database"] = {"url": _throwaway(settings)}
    if overrides:
        settings = settings.model_copy(
            update={"database": settings.database.model_copy(update=overrides["database"])}
        )
    setup_logging("WARNING", secrets=_secrets(settings))
    console = _console()
    if script is None:

        async def interactive() -> None:
            async with App(settings, adapters=[console.create(settings)]) as app:
                await app.run()

        _run(interactive())
        return
    try:
        lines = script.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        typer.echo(f"cannot read {script}: {exc}", err=True)
        raise typer.Exit(2) from None
    _run(_play(settings, console, lines, sys.stdout, start=started_at))


def _start_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"--start: {text!r} is not an ISO date and time", err=True)
        raise typer.Exit(2) from None
    if when.tzinfo is None:
        typer.echo("--start needs an offset, e.g. 2026-11-23T10:00+07:00", err=True)
        raise typer.Exit(2)
    return when


def _throwaway(settings: Settings) -> str:
    url = settings.database.url
    return throwaway_url(url) if url.startswith("postgres") else "sqlite://:memory:"


async def _play(
    settings: Settings,
    console: ModuleType,
    lines: Sequence[str],
    out: TextIO,
    *,
    start: datetime | None = None,
) -> int:
    url = settings.database.url
    fresh = not url.startswith("sqlite")
    app = App(
        settings,
        clock=FakeClock(start) if start is not None else FakeClock(),
        create_database=fresh and "guyub_test_" in url,
        drop_database=fresh and "guyub_test_" in url,
    )
    async with app:
        result = await console.ConsoleSession(app, out).run_script(lines)
    return int(result.code)


@cli.command()
def demo(config: ConfigOption = None) -> None:
    """Play the built-in scenario on a throw-away database and print the transcript."""
    settings = _settings(config)
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": "sqlite://:memory:"})}
    )
    setup_logging("WARNING")
    console = _console()
    _run(_play(settings, console, console.demo_script().splitlines(), sys.stdout))


@cli.command("new-plugin")
def new_plugin_command(
    name: Annotated[str, typer.Argument(help="The plugin's name: lowercase, e.g. jobs.")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to create the guyub-NAME folder.")
    ] = Path("."),
) -> None:
    """Create a new plugin package (guyub-NAME) that installs, loads and passes its tests."""
    try:
        root = new_plugin(name, directory)
    except (ValueError, FileExistsError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {root}")
    typer.echo(f"next: pip install -e {root} && pytest {root}/tests")


@cli.command("plugins")
def plugins_command(config: ConfigOption = None) -> None:
    """List plugins: name, version, source, whether they are enabled, and the member-data
    hooks (export, forget) each one is missing: every plugin must implement both."""
    settings = _settings(config)
    app = App(settings)
    rows = [("NAME", "VERSION", "SOURCE", "PRIVACY", "ENABLED")]
    for plugin in app.loaded_plugins():
        state = "yes" if plugin.enabled else f"no ({plugin.reason})"
        rows.append(
            (plugin.info.name, plugin.info.version, plugin.source, privacy_state(plugin), state)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[4])


def privacy_state(plugin: LoadedPlugin) -> str:
    """``ok``, ``core`` (the core exports and deletes its own tables) or what is missing."""
    if plugin.source == "core":
        return "core"
    missing = missing_privacy_hooks(plugin.obj)
    if not missing:
        return "ok"
    return "MISSING " + ",".join(m.removeprefix("guyub_").removesuffix("_member") for m in missing)


@db_cli.command("migrate")
def db_migrate(config: ConfigOption = None) -> None:
    """Apply pending migrations of the core and every enabled plugin."""
    settings = _settings(config)
    setup_logging("WARNING", secrets=_secrets(settings))

    async def main() -> None:
        database = _database(settings)
        await database.open()
        try:
            applied = await database.migrate()
        finally:
            await database.close()
        typer.echo("\n".join(f"applied {m}" for m in applied) or "nothing to migrate")

    _run(main())


@db_cli.command("makemigrations")
def db_makemigrations(
    check: Annotated[
        bool, typer.Option(help="Only report; exit 1 if migrations are missing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write migration files for model changes (developers)."""
    settings = _settings(config)

    async def main() -> int:
        database = _database(
            settings.model_copy(
                update={
                    "database": settings.database.model_copy(update={"url": "sqlite://:memory:"})
                }
            )
        )
        await database.open()
        try:
            if check:
                pending = await database.pending_changes()
                for change in pending:
                    typer.echo(f"missing migration: {change}")
                return 1 if pending else 0
            for path in await database.make_migrations():
                typer.echo(f"wrote {path}")
            return 0
        finally:
            await database.close()

    _run(main())


def _database(settings: Settings) -> Database:
    app = App(settings)
    return Database(settings.database.url, Plugins(app.loaded_plugins()).models())


@admins_cli.command("add")
def admins_add(
    user: Annotated[str, typer.Argument(help="PLATFORM:USER_ID, e.g. telegram:123456")],
    config: ConfigOption = None,
) -> None:
    """Make a platform user a PMO admin (bootstraps the first admin)."""
    _change_admin(user, config, add=True)


@admins_cli.command("remove")
def admins_remove(
    user: Annotated[str, typer.Argument(help="PLATFORM:USER_ID")], config: ConfigOption = None
) -> None:
    """Take admin rights away."""
    _change_admin(user, config, add=False)


@admins_cli.command("list")
def admins_list(config: ConfigOption = None) -> None:
    """List admins with their accounts."""
    settings = _settings(config)

    async def main() -> None:
        from core.models import Account, Member

        async with App(settings) as app:
            for member_id in await app.roles.members_with(Role.ADMIN):
                member = await Member.get(id=member_id)
                accounts = await Account.filter(member_id=member_id)
                refs = ", ".join(f"{a.platform}:{a.platform_user_id}" for a in accounts)
                typer.echo(f"#{member.id} {member.display_name} ({refs})")

    _run(main())


def _change_admin(user: str, config: Path | None, *, add: bool) -> None:
    settings = _settings(config)
    try:
        ref = UserRef.parse(user)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None

    async def main() -> None:
        async with App(settings) as app:
            account = await app.identity.ensure(ref)
            if add:
                changed = await app.roles.grant(account.member_id, Role.ADMIN)
            else:
                changed = await app.roles.revoke(account.member_id, Role.ADMIN)
            verb = "is now an admin" if add else "is no longer an admin"
            typer.echo(f"{ref} {verb}" if changed else f"{ref}: nothing to change")

    _run(main())


# --- plugin commands ----------------------------------------------------------------------

_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "path": Path}


def _plugin_command(spec: CliCommand) -> Callable[..., None]:
    def command(**kwargs: Any) -> None:
        config = kwargs.pop("config", None)
        settings = _settings(config)
        setup_logging("WARNING", secrets=_secrets(settings))

        async def main() -> int | None:
            async with App(settings) as app:
                return await spec.handler(app, sys.stdout, **kwargs)

        _run(main())

    parameters = [
        inspect.Parameter(
            p.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=_typer_param(p),
            annotation=_annotation(p),
        )
        for p in spec.params
    ]
    parameters.append(
        inspect.Parameter(
            "config",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, "--config", "-c", help="Settings file."),
            annotation=Path | None,
        )
    )
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__doc__ = spec.help
    command.__name__ = spec.name
    return command


def _annotation(param: CliParam) -> Any:
    base = _TYPES.get(param.type, str)
    return base if param.default is not None or not param.option else base | None


def _typer_param(param: CliParam) -> Any:
    if param.type == "bool":
        return typer.Option(
            bool(param.default), f"--{param.name.replace('_', '-')}", help=param.help
        )
    if param.option:
        return typer.Option(param.default, f"--{param.name.replace('_', '-')}", help=param.help)
    if param.default is not None:
        return typer.Argument(param.default, help=param.help)
    return typer.Argument(..., help=param.help)


def _add_plugin_commands() -> None:
    try:
        settings = load_settings(_config_from_argv())
    except SettingsError:
        return  # the command itself will report the configuration error
    app = App(settings)
    groups: dict[str, typer.Typer] = {}
    for _, commands in Plugins(app.loaded_plugins()).cli_commands():
        for spec in commands:
            group = groups.get(spec.group)
            if group is None:
                group = groups[spec.group] = typer.Typer(
                    no_args_is_help=True, help=f"{spec.group} commands."
                )
                cli.add_typer(group, name=spec.group)
            group.command(spec.name, help=spec.help)(_plugin_command(spec))


def _config_from_argv() -> Path | None:
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg in ("--config", "-c") and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    return None


def main() -> None:
    """Console-script entry point."""
    _add_plugin_commands()
    cli()
