"""``guyub captains add|remove|list`` and ``guyub export members``."""

from __future__ import annotations

from typing import TextIO

from core import App, CliCommand, CliParam, Member, Role, UserRef
from plugins.captains._captains import list_captains
from plugins.captains._members import export_members

__all__ = ["cli_commands"]


async def _member(app: App, who: str) -> Member | None:
    if who.startswith("#"):
        return await app.identity.find(who)
    try:
        ref = UserRef.parse(who)
    except ValueError:
        return await app.identity.find(who)
    account = await app.identity.ensure(ref)
    return await Member.get(id=account.member_id)


async def _region(app: App, text: str, out: TextIO) -> str | None:
    text = text.strip()
    if text and text[0].isdigit():
        if await app.regions.get(text) is None:
            out.write(f"region code {text!r} does not exist\n")
            return None
        return text
    match = await app.regions.match(text)
    if match.best is not None and (match.certain or len(match.candidates) == 1):
        return match.best.code
    choices = ", ".join(f"{c.name} ({c.code})" for c in match.candidates[:5])
    out.write(f"region {text!r} not found{': ' + choices if choices else ''}\n")
    return None


async def add(app: App, out: TextIO, member: str, region: str) -> int:
    who = await _member(app, member)
    code = await _region(app, region, out)
    if who is None or code is None:
        out.write("" if who else f"member {member!r} not found\n")
        return 2
    created = await app.roles.grant(who.id, Role.CAPTAIN, code)
    name = await app.regions.name(code)
    out.write(
        f"#{who.id} {who.display_name}: captain of {name} ({code})"
        + ("" if created else " already")
        + "\n"
    )
    return 0


async def remove(app: App, out: TextIO, member: str, region: str | None = None) -> int:
    who = await _member(app, member)
    if who is None:
        out.write(f"member {member!r} not found\n")
        return 2
    if region:
        code = await _region(app, region, out)
        if code is None:
            return 2
        codes = [code]
    else:
        codes = await app.roles.captain_scopes(who.id)
    removed = [c for c in codes if await app.roles.revoke(who.id, Role.CAPTAIN, c)]
    out.write(f"#{who.id}: removed {', '.join(removed) or 'nothing'}\n")
    return 0


async def list_(app: App, out: TextIO, region: str | None = None) -> int:
    codes = [""]
    if region:
        code = await _region(app, region, out)
        if code is None:
            return 2
        codes = [code]
    found = await list_captains(app, codes)
    for member, code, name in found:
        out.write(f"#{member.id}\t{member.display_name}\t{code}\t{name}\n")
    if not found:
        where = f" for {await app.regions.name(codes[0])} ({codes[0]})" if codes[0] else ""
        out.write(f"no captains{where} yet; add one with: guyub captains add MEMBER REGION\n")
    return 0


async def members(app: App, out: TextIO, format: str = "csv", region: str | None = None) -> int:
    if format not in ("csv", "json"):
        out.write("--format must be csv or json\n")
        return 2
    codes = [""]
    if region:
        code = await _region(app, region, out)
        if code is None:
            return 2
        codes = [code]
    await export_members(app, codes, format, out)
    return 0


def cli_commands() -> list[CliCommand]:
    member = CliParam("member", "PLATFORM:USER_ID or #MEMBER_NUMBER")
    return [
        CliCommand(
            "captains",
            "add",
            "Make a member captain of a region.",
            add,
            (member, CliParam("region", "Region code or name")),
        ),
        CliCommand(
            "captains",
            "remove",
            "Take a region (or all) from a captain.",
            remove,
            (member, CliParam("region", "Region code or name", option=True)),
        ),
        CliCommand(
            "captains",
            "list",
            "List captains (of a region).",
            list_,
            (CliParam("region", "Region code or name", option=True),),
        ),
        CliCommand(
            "export",
            "members",
            "Export members as CSV or JSON to standard output.",
            members,
            (
                CliParam(
                    "format", "csv or json", option=True, default="csv", choices=("csv", "json")
                ),
                CliParam("region", "Region code or name", option=True),
            ),
        ),
    ]
