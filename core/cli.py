"""The ``guyub`` command line.

Adapters are found through the ``guyub.adapters`` entry points (the core imports none of
them); plugins add ``guyub GROUP NAME`` commands through ``guyub_register_cli``.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TextIO

import typer

from core._adapter import Adapter
from core._app import App, worker_name
from core._clock import FakeClock
from core._db import Database, redact_url, throwaway_url
from core._events import UserRef
from core._logging import setup_logging
from core._plugins import LoadedPlugin, PluginError, Plugins, missing_privacy_hooks
from core._roles import Role
from core._scaffold import new_plugin
from core._settings import Settings, SettingsError, load_settings
from core._specs import CliCommand, CliParam
from core.web import create_login_link

__all__ = ["cli", "main"]

log = logging.getLogger("guyub")

ADAPTER_GROUP = "guyub.adapters"

cli = typer.Typer(
    name="guyub",
    help="Guyub: the Kartu Prakerja alumni community bot for Telegram and Discord.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich mode shows "--help <bool>" with click 8.2+ and keeps docstring
    # line breaks mid-sentence.
    rich_markup_mode=None,
)
db_cli = typer.Typer(
    help="Database: migrations and backups.", no_args_is_help=True, rich_markup_mode=None
)
admins_cli = typer.Typer(help="PMO admins.", no_args_is_help=True, rich_markup_mode=None)
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
    return settings.secret_values()


def _logging(settings: Settings, level: str = "WARNING") -> None:
    """Logging as ``[logging]`` says (format), at ``level``; secrets masked."""
    setup_logging(
        level,
        secrets=_secrets(settings),
        format=settings.logging.format,
        worker=worker_name(settings),
    )


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
    """Every adapter whose platform is configured (of ``[worker] adapters`` when that is
    set); the console when none is."""
    modules = adapter_modules()
    only = {name.lower() for name in settings.worker.adapters}
    adapters = [
        adapter
        for name, module in sorted(modules.items())
        if name != "console"
        and (not only or name in only)
        and (adapter := module.create(settings)) is not None
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
    _logging(settings, settings.logging.level)

    adapters = configured_adapters(settings)
    log.info(
        "starting with %s on %s",
        ", ".join(a.platform for a in adapters) or "no adapter",
        redact_url(settings.database.url),
    )
    _run(_configured(_serve(settings, adapters, web=bool(settings.web.listen))))


@cli.command()
def web(config: ConfigOption = None) -> None:
    """Serve the web server (dashboard, health checks) alone, beside worker processes."""
    settings = _settings(config)
    setup_logging(secrets=_secrets(settings))
    if not settings.web.listen:
        typer.echo("configuration error: web.listen is empty (set e.g. 127.0.0.1:8080)", err=True)
        raise typer.Exit(2)

    async def main() -> None:
        async with App(settings) as app:
            await app.run(web=True, workers=False)

    _run(_configured(main()))


async def _announce_web(app: App, *, local: bool) -> None:
    """Say where the dashboard is; on a local console run, with a sign-in link for the
    console's PMO admin (``console:pmo``), so ``make run`` opens it without a chat app."""
    typer.echo(f"Dasbor / dashboard: {app.web.url}/dasbor")
    if not local:
        return
    account = await app.identity.ensure(UserRef("console", "pmo"), "pmo")
    await app.roles.grant(account.member_id, Role.ADMIN)
    link = await create_login_link(app, account.member_id)
    minutes = app.settings.web.login_link_minutes
    typer.echo(f"Tautan masuk admin (sekali pakai, {minutes} menit) / admin sign-in link: {link}")
    typer.echo("In the console, ':as pmo' then /dasbor gives a new link.")


async def _configured(coro: Awaitable[int | None]) -> int | None:
    """Run ``coro``; a configuration error or a plugin that can't start (its models without
    a migration) found while starting exits 2 with its message, not a traceback."""
    try:
        return await coro
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
    except PluginError as exc:
        typer.echo(f"plugin error: {exc}", err=True)
    return 2


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
    log_level: Annotated[
        str, typer.Option(help="Log level (logs go to stderr, as [logging] format says).")
    ] = "WARNING",
) -> None:
    """Chat with the bot in the terminal, or run a scenario script (exit 0 ok, 1 a failed
    :expect, 2 a script that can't be read, a malformed line or a bad option)."""
    started_at = _start_time(start) if start is not None else None
    if started_at is not None and script is None:
        typer.echo("--start needs --script", err=True)
        raise typer.Exit(2)
    # Read first: a missing file is reported before any database is made for the script.
    lines = _script_lines(script) if script is not None else []
    overrides: dict[str, Any] = {}
    settings = _settings(config)
    if database:
        overrides["database"] = {"url": database}
    elif script is not None and os.environ.get("GUYUB_DATABASE__URL"):
        # The environment names a database: the script runs there, and says so.
        typer.echo(f"script database: {redact_url(settings.database.url)}", err=True)
    elif script is not None:
        overrides["database"] = {"url": _throwaway(settings)}
    if overrides:
        settings = settings.model_copy(
            update={"database": settings.database.model_copy(update=overrides["database"])}
        )
    _logging(settings, log_level.upper())
    console = _console()
    if script is None:
        _run(_configured(_serve(settings, [console.create(settings)])))
        return
    _run(_configured(_play(settings, console, lines, sys.stdout, start=started_at)))


def _script_lines(script: Path) -> list[str]:
    """The lines of a scenario script; one that can't be read exits 2 (as a malformed line
    does) with one line on stderr."""
    try:
        return script.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        typer.echo(f"cannot read script {script}: {reason}", err=True)
    except UnicodeDecodeError as exc:
        typer.echo(f"cannot read script {script}: not UTF-8 text (byte {exc.start})", err=True)
    raise typer.Exit(2)


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


async def _serve(settings: Settings, adapters: Sequence[Adapter], *, web: bool = False) -> None:
    """Run the app until it stops (with the web server when ``web``). When an adapter asks
    for a restart (the console's ``:restart`` and ``:config``), a new App starts on the same
    database with the settings it gives, and the conversation carries on; a setting the app
    refuses falls back."""
    current = settings
    announced = False
    while True:
        try:
            async with App(current, adapters=adapters) as app:
                if web:
                    await app.web.start()
                    if not announced:
                        await _announce_web(app, local=list(app.adapters) == ["console"])
                        announced = True
                await app.run(web=web)
        except (SettingsError, ValueError) as exc:
            if current is settings:
                raise
            typer.echo(f"!! the app did not start with that setting: {exc}", err=True)
            current = settings  # back to the last settings that worked
            continue
        following: Settings | None = None
        for adapter in adapters:
            following = following or getattr(adapter, "next_settings", None)
            if hasattr(adapter, "next_settings"):
                adapter.next_settings = None
        if following is None:
            return
        settings, current = current, following


def _throwaway(settings: Settings) -> str:
    """A database for one script: a fresh PostgreSQL database, or an SQLite file in a
    temporary folder (a file, not memory, so that ``:restart`` finds the same data)."""
    url = settings.database.url
    if url.startswith("postgres"):
        return throwaway_url(url)
    folder = tempfile.mkdtemp(prefix="guyub-script-")
    atexit.register(shutil.rmtree, folder, True)
    return f"sqlite://{folder}/script.sqlite3"


async def _play(
    settings: Settings,
    console: ModuleType,
    lines: Sequence[str],
    out: TextIO,
    *,
    start: datetime | None = None,
) -> int:
    url = settings.database.url
    fresh = not url.startswith("sqlite") and "guyub_test_" in url
    clock = FakeClock(start) if start is not None else FakeClock()
    running = App(settings, clock=clock, create_database=fresh)
    await running.start()

    async def restart(new: Settings) -> App:
        """Stop the app and start another on the same database (``:restart``, ``:config``)."""
        nonlocal running
        old = running
        adapters = list(old.adapters.values())
        await old.stop()
        for candidate in (new, old.settings):
            app = App(candidate, clock=clock, adapters=adapters)
            try:
                await app.start()
            except (SettingsError, ValueError) as exc:
                await app.stop()
                out.write(f"!! the app did not start with that setting: {exc}\n")
                continue
            running = app
            return app  # on the previous settings if the new ones were refused
        raise console.ScriptError("the app did not start again")

    try:
        session = console.ConsoleSession(running, out, restart=restart)
        result = await session.run_script(lines)
    finally:
        running._drop_database = fresh  # the throw-away database goes at the very end
        await running.stop()
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


@cli.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    stale_after: Annotated[
        float | None,
        typer.Option(
            help="Seconds without a heartbeat before a worker counts as missing "
            "(default: three heartbeats)."
        ),
    ] = None,
    max_lag: Annotated[
        float, typer.Option(help="Scheduler lag, in seconds, above which it is degraded.")
    ] = 300.0,
    config: ConfigOption = None,
) -> None:
    """Workers alive, outbox claims and depths, scheduler lag, last errors, from the
    database. Exit 0 healthy, 1 degraded, 2 configuration error."""
    settings = _settings(config)
    _logging(settings)
    stale = stale_after if stale_after is not None else 3 * settings.worker.heartbeat_seconds

    async def main() -> int:
        from core._clock import SystemClock
        from core._status import collect_status, render_status

        database = _database(settings)
        try:
            await database.open()
            report = await collect_status(SystemClock().now(), stale, max_lag)
        except Exception as exc:
            typer.echo(f"status: DEGRADED\n  ! database unreachable: {exc}", err=True)
            return 1
        finally:
            await database.close()
        if as_json:
            typer.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        else:
            typer.echo(render_status(report))
        return 0 if report.healthy else 1

    _run(main())


@db_cli.command("migrate")
def db_migrate(config: ConfigOption = None) -> None:
    """Apply pending migrations of the core and every enabled plugin."""
    settings = _settings(config)
    _logging(settings)

    async def main() -> None:
        database = _database(settings)
        await database.open()
        try:
            applied = await database.migrate()
        finally:
            await database.close()
        typer.echo("\n".join(f"applied {m}" for m in applied) or "nothing to migrate")

    _run(main())


@db_cli.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="File to write the copy to (must not exist).")],
    config: ConfigOption = None,
) -> None:
    """Copy a SQLite database while the bot runs (SQLite's online backup API): a
    consistent snapshot, taken page by page without stopping the bot. PostgreSQL: use
    pg_dump (docs/operations.md)."""
    settings = _settings(config)
    url = settings.database.url
    if not url.startswith("sqlite://") or ":memory:" in url:
        typer.echo("db backup copies SQLite files; for PostgreSQL use pg_dump", err=True)
        raise typer.Exit(2)
    source = Path(url.removeprefix("sqlite://").split("?", 1)[0])
    if not source.is_file():
        typer.echo(f"no database at {source}", err=True)
        raise typer.Exit(2)
    if target.exists():
        typer.echo(f"{target} exists; not overwriting it", err=True)
        raise typer.Exit(2)
    pages = backup_sqlite(source, target)
    typer.echo(f"backed up {source} to {target} ({pages} pages)")


def backup_sqlite(source: Path, target: Path) -> int:
    """SQLite's online backup of ``source`` into a new file ``target``; returns its pages."""
    import sqlite3

    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        # A few hundred pages at a time, so the running bot's writers are never held long.
        src.backup(dst, pages=256, sleep=0.005)
        dst.execute("PRAGMA journal_mode=WAL")
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    finally:
        dst.close()
        src.close()
    return pages


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


@admins_cli.command("link")
def admins_link(
    user: Annotated[str, typer.Argument(help="PLATFORM:USER_ID of an admin or captain")],
    config: ConfigOption = None,
) -> None:
    """Print a one-time dashboard sign-in link for an admin or captain (as /dasbor does)."""
    settings = _settings(config)
    setup_logging("WARNING", secrets=_secrets(settings))
    try:
        ref = UserRef.parse(user)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None

    async def main() -> int:
        async with App(settings) as app:
            account = await app.identity.account_for(ref)
            if account is None or await app.roles.highest(account.member_id) < Role.CAPTAIN:
                typer.echo(f"{ref} is neither an admin nor a captain", err=True)
                return 1
            typer.echo(await create_login_link(app, account.member_id))
            await app.audit.record("web.link_sent", actor=account.member_id, via="cli")
            return 0

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
        _logging(settings)

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


#: One line on each command group plugins add (``guyub --help``).
_GROUP_HELP = {
    "privacy": "Members' data: the retention policy.",
    "captains": "Captains: add, remove and list them.",
    "export": "Exports for the PMO: members, poll results.",
    "regions": "Regions: search, member counts, official recipient counts.",
}


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
                    no_args_is_help=True,
                    help=_GROUP_HELP.get(spec.group, f"Commands of the {spec.group} plugin."),
                    rich_markup_mode=None,
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
