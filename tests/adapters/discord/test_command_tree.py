"""The command tree Discord shows: captain tools in their own groups, member commands
never behind a captain permission, Indonesian names for commands, groups and options."""

from __future__ import annotations

from guyub_world import guyub_on_discord


def _by_name(payload, name):
    return next(c for c in payload if c["name"] == name)


async def test_members_never_see_captain_subcommands(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        ani = await guyub.joins("ani", captain=True)
        seen_by_member = budi.available_commands(guyub.channel)
        seen_by_captain = ani.available_commands(guyub.channel)
        for captain_only in ("event new", "event edit", "event cancel", "poll new", "poll close"):
            assert captain_only in seen_by_captain
            assert captain_only not in seen_by_member
        # Member commands of the same plugins stand alone, visible to everyone.
        for everyone in ("events", "checkin", "event_ics", "help", "region"):
            assert everyone in seen_by_member
        assert not any(c.startswith("event ") for c in seen_by_member)


async def test_indonesian_names_for_groups_subcommands_and_options(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        commands = guyub.adapter.command_set()
        event = _by_name(commands.payload, "event")
        assert event["name_localizations"] == {"id": "acara"}
        assert event["description_localizations"] == {"id": "Kelola acara (kapten)"}
        new = next(o for o in event["options"] if o["name"] == "new")
        assert new["name_localizations"] == {"id": "baru"}
        title = next(o for o in new["options"] if o["name"] == "title")
        assert title["name_localizations"] == {"id": "judul"}
        # How replies and /help name commands, per language.
        assert commands.spell("event_new", "id") == "/acara baru"
        assert commands.spell("event_new", "en") == "/event new"
        assert commands.spell("checkin", "id") == "/absen"
        assert commands.spell("help", "id") == "/bantuan"
        assert commands.spell("poll_new", "en") == "/poll new"
        assert commands.spell("poll_close", "id") == "/polling tutup"
        assert commands.spell("events", "en") == "/events"
        assert commands.spell("events", "id") == "/daftar_acara"
        # Every name Discord gets is valid: lowercase, at most 32, unique per level.
        slash = [c for c in commands.payload if c["type"] == 1]
        names = [c["name"] for c in slash]
        assert len(names) == len(set(names))
        localized = [c.get("name_localizations", {}).get("id") for c in slash]
        localized = [n for n in localized if n]
        assert len(localized) == len(set(localized))
        assert all(n == n.lower() and len(n) <= 32 for n in names + localized)


async def test_help_is_only_for_the_member_who_asked(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        result = await budi.slash(guyub.channel, "help")
        assert result.ephemeral
        assert result.response is not None


async def test_replies_spell_commands_as_discord_has_them(make_app) -> None:
    from core import CommandStyle

    async with guyub_on_discord(make_app) as guyub:
        commands = guyub.adapter.command_set()
        names = guyub.app.command_names
        for command in guyub.app.visible_commands():
            for lang in ("id", "en"):
                assert names.spell(command, lang, CommandStyle.GROUPED) == commands.spell(
                    command.name, lang
                ), (command.name, lang)


async def test_help_names_discord_commands(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        result = await budi.slash(guyub.channel, "help")
        assert result.response is not None
        text = result.response.content.replace("\\_", "_")
        spelled = {n.indonesian for n in guyub.adapter.command_set().names.values()}
        listed = [line.split(" — ")[0] for line in text.splitlines() if line.startswith("/")]
        assert "/daftar_acara" in listed
        assert "/absen" in listed
        assert all(name in spelled for name in listed), listed


async def test_a_refusal_names_the_command_as_discord_has_it(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        # The server gave her the captains' Discord role; Guyub never made her a captain.
        ani = await guyub.joins("ani", captain=True)
        result = await ani.slash(guyub.channel, "event new", title="Temu alumni", start="besok")
        assert result.response is not None
        text = result.response.content.replace("\\_", "_")
        assert "/event_new" not in text
        assert "/acara_baru" not in text
        assert "/event new" in text or "/acara baru" in text, text


async def test_help_asked_by_many_at_once_is_answered_to_each_privately(make_app) -> None:
    """An interaction is answered through its own response, which Discord counts against
    neither the channel's message limit nor the bot's global one: ten members asking one after the other at the
    same moment all get their private answer at once, none is held back (the channel's
    pace) or posted later in the channel."""
    from core.outbox.models import OutboxBatch

    async with guyub_on_discord(make_app) as guyub:
        members = [await guyub.joins(f"alumni{n}") for n in range(10)]
        before = guyub.app.clock.now()
        results = [await m.slash(guyub.channel, "help") for m in members]
        assert all(r.ephemeral and r.response is not None for r in results)
        assert all("/bantuan" in r.response.content for r in results)
        # Not paced like channel messages (1 a second there): no wait in simulated time.
        assert guyub.app.clock.now() == before
        assert not await OutboxBatch.exists()  # nothing deferred to the outbox


async def test_an_answer_in_place_still_waits_out_a_pause_discord_asked_for(make_app) -> None:
    """Discord said 429 for the channel: the answer is not sent into it now (the delivery
    layer stores it for after the pause), whichever way it would have gone out."""
    from core.outbox._outbox import pace_key
    from core.outbox.models import OutboxBatch

    async with guyub_on_discord(make_app) as guyub:
        budi = await guyub.joins("budi")
        outbox = guyub.app.outbox
        pace = outbox.pace("discord")
        assert pace is not None
        pace.pause(pace_key("group", str(guyub.channel.id)), 60.0, outbox.timer.monotonic())
        result = await budi.slash(guyub.channel, "help")
        assert result.response is None or "/bantuan" not in (result.response.content or "")
        assert await OutboxBatch.exists()
