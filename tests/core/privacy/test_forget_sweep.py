"""Meta-tests: every column of every model that can hold a member id or a platform id is
cleared by /forgetme, found by walking the models (issue #15: ``polls_poll.created_by_id``
and ``captains_broadcast.progress.chat`` kept a forgotten member's ids, because the
project's own table walk listed columns by name)."""

from __future__ import annotations

import json
import re
from typing import Any

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from core import App, FakeClock, Job, Member, PluginInfo, Role, hookimpl
from core.privacy._sweep import person_columns
from core.state import set_value
from core.state.models import KeyValue
from core.testing import FakeChat
from plugins.captains.models import Broadcast
from plugins.polls.models import Poll
from tests.core.privacy.privacy_helpers import EventsPlugin, Signup, agree, link_code

OWN = ("core.models", "core.privacy.models")  # forget_member handles these by name


def _models(app: App) -> list[type[Model]]:
    assert app.database.context is not None
    apps = app.database.context.apps
    assert apps is not None
    return list(apps.get_models_iterable())


def _referenced(app: App, column: str) -> bool:
    """Whether ``x_id`` names another table's row (``event_id`` → an Event model)."""
    stem = re.sub(r"_id$", "", column).replace("_", "")
    return any(
        m.__name__.lower() == stem or m.__name__.lower().endswith(stem)
        for m in _models(app)
        if stem not in ("member", "user", "by", "actor", "sender", "owner")
    )


async def test_every_id_column_of_every_model_is_known_to_the_sweep(everything: FakeChat) -> None:
    """An integer column named ``*_id``, ``*_by`` or ``only_for`` either points at another
    table's row or is swept as a person; a text column named for a chat or user is swept."""
    app = everything.app
    missed = []
    for model in _models(app):
        if model.__module__ in OWN:
            continue
        known = person_columns(model)
        for name, field in model._meta.fields_map.items():
            if name == model._meta.pk_attr or isinstance(field, fields.relational.RelationalField):
                continue
            is_int = isinstance(field, fields.IntField | fields.BigIntField | fields.SmallIntField)
            person_like = re.search(r"(_id|_by|^by|only_for)$", name)
            if is_int and person_like and not _referenced(app, name) and name not in known.member:
                missed.append(f"{model._meta.db_table}.{name}")
            is_text = isinstance(field, fields.CharField | fields.TextField)
            # A chat's kind or title is no id; anything else named for a chat or user is.
            named = re.search(r"(chat|user)(?!_(kind|title))", name)
            if is_text and named and name not in known.platform:
                missed.append(f"{model._meta.db_table}.{name}")
    assert missed == [], missed
    # The two columns of the issue are among them.
    tables = {m._meta.db_table: person_columns(m) for m in _models(app)}
    assert "created_by_id" in tables["polls_poll"].member
    assert "progress" in tables["captains_broadcast"].json
    assert "sender_id" in tables["captains_broadcast"].member


async def _member_on_two_platforms(two: FakeChat) -> tuple[Any, Any, Member]:
    tg = two.user("Zulaikha", platform="telegram")
    dc = two.user("Zulaikha", platform="discord")
    await tg.says("/testregister 11.08 Zulaikha")
    await agree(two, tg)
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    await two.user("Budi", platform="telegram").says("/testregister 11.08 Budi")
    member = await Member.get(display_name="Zulaikha")
    return tg, dc, member


async def _plant(
    app: App, member: Member, platform_id: str, *, with_member: bool = True
) -> list[str]:
    """Put the member's ids into every person column of every table that has a row; without
    ``with_member`` only ``platform_id`` (a chat id), into the chat and user columns alone."""
    planted = []
    for model in _models(app):
        if model.__module__ in OWN:
            continue
        columns = person_columns(model)
        row = await model.all().first()
        if row is None:
            continue
        pk = model._meta.pk_attr
        key = getattr(row, pk)
        if not with_member:
            for column in columns.platform:
                try:
                    await model.filter(**{pk: key}).update(**{column: platform_id})
                except (IntegrityError, ValueError):
                    continue
                planted.append(f"{model._meta.db_table}.{column}")
            for column in columns.json:
                value = {"chat": platform_id, "kind": "dm"}
                await model.filter(**{pk: key}).update(**{column: value})
                planted.append(f"{model._meta.db_table}.{column}")
            continue
        for column in columns.member:
            values = {column: member.id}
            for other in columns.platform:
                values[other] = platform_id
            for other in columns.json:
                values[other] = {"member": member.id, "chat": platform_id, "kind": "dm"}
            try:
                await model.filter(**{pk: key}).update(**values)
            except (IntegrityError, ValueError):
                continue
            planted.append(f"{model._meta.db_table}.{column}")
    return planted


async def _traces(app: App, member_id: int, platform_id: str) -> list[str]:
    found = []
    for model in _models(app):
        if model.__module__ in OWN:
            continue
        columns = person_columns(model)
        for row in await model.all().values():
            for column in columns.member:
                if row[column] == member_id:
                    found.append(f"{model._meta.db_table}.{column}")
            for column in columns.platform:
                if row[column] == platform_id:
                    found.append(f"{model._meta.db_table}.{column}")
            for column in columns.json:
                text = json.dumps(row[column])
                if f'"{platform_id}"' in text or f'"member": {member_id}' in text:
                    found.append(f"{model._meta.db_table}.{column}")
    return found


async def _rows_about(two: FakeChat, tg: Any, member: Member) -> None:
    """Rows in the plugins' tables to plant into: she creates a poll and a broadcast draft
    (the issue's two columns), signs up, and a job is about her."""
    app = two.app
    await app.roles.grant(member.id, Role.ADMIN)
    group = two.group("Alumni Aceh Utara", platform="telegram")
    await tg.says(group, "/poll_new Dipakai untuk apa? | Makan | Modal")
    await tg.says("/siaran")
    await tg.says("/testsignup temu")
    await app.scheduler.schedule("privacy:retention", two.now(), payload={"member": member.id})
    assert await Poll.filter(created_by_id=member.id).exists()
    assert await Broadcast.filter(sender_id=member.id).exists()


async def test_forget_clears_planted_ids_in_every_table(everything: FakeChat) -> None:
    two = everything
    tg, _dc, member = await _member_on_two_platforms(two)
    app = two.app
    await _rows_about(two, tg, member)
    planted = await _plant(app, member, tg.user_id)
    assert planted, "no table had a row to plant into"
    assert await _traces(app, member.id, tg.user_id)
    await tg.says("/hapusdata")
    await tg.presses("Ya, hapus semua")
    two.expect_sent(tg, contains="dihapus")
    assert await _traces(app, member.id, tg.user_id) == []
    payloads = await Job.all().values_list("payload", flat=True)
    assert {"member": member.id} not in payloads


async def test_forget_clears_her_private_chat_ids_on_every_platform(
    everything: FakeChat,
) -> None:
    """A private chat's id is not the user id on Discord (its DM channel has an id of its
    own): the core keeps each account's, and forget clears it from every chat or user
    column and JSON chat key of every table, on each platform, with no member id beside it
    in the row to give it away."""
    two = everything
    tg, dc, member = await _member_on_two_platforms(two)
    app = two.app
    await _rows_about(two, tg, member)
    await dc.says("/bantuan")  # a private chat on Discord, after she linked
    for user in (tg, dc):
        account = await app.identity.account_for(user.ref)
        assert account is not None
        assert account.dm_chat_id == user.dm.id
    assert dc.dm.id != dc.user_id
    chats = {dc.dm.id: "discord", tg.dm.id: "telegram"}
    planted = []
    for chat_id in chats:
        planted += await _plant(app, member, chat_id, with_member=False)
        # ...and the same, as the chat key ``platform:id`` some tables keep.
        planted += await _plant(app, member, f"{chats[chat_id]}:{chat_id}", with_member=False)
    assert {"captains_broadcast.progress", "polls_post.chat_id"} <= set(planted), planted
    for chat_id, platform in chats.items():
        assert await _traces(app, member.id, chat_id) or await _traces(
            app, member.id, f"{platform}:{chat_id}"
        )
    await tg.says("/hapusdata")
    await tg.presses("Ya, hapus semua")
    two.expect_sent(tg, contains="dihapus")
    for chat_id, platform in chats.items():
        assert await _traces(app, member.id, chat_id) == [], chat_id
        assert await _traces(app, member.id, f"{platform}:{chat_id}") == [], chat_id


async def test_the_core_tables_keep_nothing_of_her_either(everything: FakeChat) -> None:
    """The core's own tables (handled by name, not by the sweep) are walked the same way
    after /hapusdata: no person column of any of them still holds one of her ids or chats
    (the audit log keeps entries, made anonymous)."""
    two = everything
    tg, dc, member = await _member_on_two_platforms(two)
    await _rows_about(two, tg, member)
    await dc.says("/bantuan")
    await tg.says("/event_new")  # a flow running
    app = two.app
    # ...and a message with buttons of hers in it (core_flow_prompt).
    await app.conversations.remember_prompt(member.id, dc.dm.key, "m1")
    ids = {member.id}
    chats = {tg.user_id, dc.user_id, tg.dm.id, dc.dm.id}
    chats |= {f"{u.platform}:{c}" for u in (tg, dc) for c in (u.user_id, u.dm.id)}
    core = [m for m in _models(app) if m.__module__ in OWN]

    async def left() -> list[str]:
        found = []
        for model in core:
            columns = person_columns(model)
            member_fks = [
                f"{name}_id"
                for name, field in model._meta.fields_map.items()
                if isinstance(field, fields.relational.ForeignKeyFieldInstance)
                and field.related_model is Member
            ]
            for row in await model.all().values():
                for column in (*columns.member, *member_fks):
                    if row[column] in ids:
                        found.append(f"{model._meta.db_table}.{column}")
                for column in columns.platform:
                    if row[column] in chats:
                        found.append(f"{model._meta.db_table}.{column}")
        return found

    before = await left()
    expected = {
        "core_account.member_id",
        "core_conversation.member_id",
        "core_flow_prompt.member_id",
    }
    assert expected <= set(before), before
    await tg.says("/hapusdata")
    await tg.presses("Ya, hapus semua")
    two.expect_sent(tg, contains="dihapus")
    assert await left() == []


class Flaky:
    """A plugin whose forget deletes a row, then fails (a crash part way, in effect)."""

    PLUGIN = PluginInfo(name="flaky")

    def __init__(self) -> None:
        self.fail = True

    @hookimpl
    async def guyub_export_member(self, member: Member) -> None:
        return None

    @hookimpl
    async def guyub_forget_member(self, member: Member) -> None:
        await KeyValue.filter(key=f"flaky:{member.id}").delete()
        if self.fail:
            raise RuntimeError("died half way")


async def test_forget_is_one_transaction_per_plugin_and_resumes(
    make_app: Any, clock: FakeClock, signups: EventsPlugin
) -> None:
    flaky = Flaky()
    async with make_app(clock=clock, plugins=[signups, flaky]) as app:
        chat = FakeChat(app)
        sari = chat.user("sari")
        await sari.says("/testsignup temu")
        member = await Member.get(display_name="sari")
        await set_value(f"flaky:{member.id}", "kept")
        await app.privacy.forget(member, reason="request")
        # The failing plugin's part was rolled back (the row it deleted is back), the member
        # is kept until every part is done, and the resume job waits.
        assert await KeyValue.filter(key=f"flaky:{member.id}").exists()
        assert await Member.filter(id=member.id).exists()
        resume = await Job.get(kind="privacy:forget")
        assert resume.payload == {"member": member.id, "reason": "request"}
        flaky.fail = False
        await chat.advance("11m")
        assert not await Job.filter(kind="privacy:forget", status="pending").exists()
        assert await Signup.filter(member_id=member.id).count() == 0
        assert not await Member.filter(id=member.id).exists()
        assert not await KeyValue.filter(key=f"flaky:{member.id}").exists()
        assert await Signup.filter(member_id=member.id).count() == 0
