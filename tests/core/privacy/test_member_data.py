"""/mydata exports everything, /forgetme deletes everything: a test walks every table."""

from __future__ import annotations

import json
from typing import Any

from tortoise.fields.relational import ForeignKeyFieldInstance

from core import App, AuditEntry, Member, Role
from core.privacy import PrivacySettings
from core.testing import FakeChat, FakeUser
from tests.core.privacy.privacy_helpers import EventsPlugin, agree, link_code

NAME = "Zulaikha Wibisono"
USERNAME = "zulaikha_wibisono"


async def _export(two: FakeChat, user: FakeUser) -> dict[str, Any]:
    await user.says("/dataku")
    sent = two.expect_sent(user, contains="JSON")
    (attached,) = sent.attachments
    kind, filename, data = attached.kind, attached.filename, attached.data
    assert kind == "file"
    assert filename.endswith(".json")
    return dict(json.loads(data))


async def _busy_member(two: FakeChat) -> tuple[FakeUser, FakeUser]:
    """A member on two platforms with a profile, sign-ups, a role, consent and audit."""
    tg = two.user(NAME, platform="telegram", username=USERNAME)
    dc = two.user(NAME, platform="discord", username=USERNAME)
    other = two.user("Budi Santoso", platform="telegram")
    await tg.says(f"/testregister 11.08 {NAME}")
    await agree(two, tg)
    await tg.says("/testsignup temu")
    await dc.says("/testsignup temu")
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    member = await Member.get(display_name=NAME)
    await two.app.roles.grant(member.id, Role.CAPTAIN, "11.08")
    await other.says("/testsignup temu")
    await other.says("/testregister 11.08 Budi Santoso")
    budi = await Member.get(display_name="Budi Santoso")
    await two.app.roles.grant(budi.id, Role.CAPTAIN, "11.09", by=member.id)
    await tg.says("/language en")
    await tg.says(two.group("Aceh", platform="telegram"), "/help")
    return tg, dc


async def test_mydata_holds_core_and_plugin_data(two: FakeChat) -> None:
    _tg, dc = await _busy_member(two)
    data = await _export(two, dc)
    assert data["member"]["display_name"] == NAME
    assert data["member"]["region_code"] == "11.08"
    assert len(data["member"]["earlier_ids"]) == 1
    assert sorted(a["platform"] for a in data["accounts"]) == ["discord", "telegram"]
    assert {a["username"] for a in data["accounts"]} == {USERNAME}
    assert data["roles"] == [
        {
            "role": "captain",
            "scope": "11.08",
            "granted_by": None,
            "created_at": data["roles"][0]["created_at"],
        }
    ]
    assert [c["status"] for c in data["consents"]][-1] == "given"
    actions = {e["action"] for e in data["audit"]}
    assert {"privacy.link", "role.grant"} <= actions
    assert data["plugins"]["signups"] == {"signups": [{"event": "temu", "name": NAME}]}
    assert "Budi" not in json.dumps(data)


async def _rows_mentioning(app: App, ids: set[int], needles: list[str]) -> list[str]:
    """Every row, in every table of every app, that still points at or names the member."""
    assert app.database.context is not None
    apps = app.database.context.apps
    assert apps is not None
    found: list[str] = []
    for model in apps.get_models_iterable():
        fields_map = model._meta.fields_map
        member_columns = set()
        for name, field in fields_map.items():
            if isinstance(field, ForeignKeyFieldInstance) and field.related_model is Member:
                member_columns.add(f"{name}_id")
            if name.endswith("member_id") or name in ("actor_id", "only_for", "granted_by_id"):
                member_columns.add(name)
            if name == "claimed_by_id" or (model is Member and name == "id"):
                member_columns.add(name)
        for row in await model.all().values():
            for column in member_columns:
                if row.get(column) in ids:
                    found.append(f"{model.__name__}.{column}={row[column]}: {row}")
            text = json.dumps(row, default=str)
            for needle in needles:
                if needle.casefold() in text.casefold():
                    found.append(f"{model.__name__} mentions {needle!r}: {row}")
            for member_id in ids:
                for pattern in (f'member:{member_id}"', f':{member_id}"'):
                    if pattern in text and model is not Member:
                        found.append(f"{model.__name__} refers to {pattern}: {row}")
    return found


async def test_forgetme_leaves_nothing_in_any_table(everything: FakeChat) -> None:
    two = everything
    tg, dc = await _busy_member(two)
    data = await _export(two, dc)
    ids = {data["member"]["id"], *data["member"]["earlier_ids"]}
    needles = [NAME, USERNAME, "zulaikha"]
    assert await _rows_mentioning(two.app, ids, needles)  # the walk does find the data
    await tg.says("/forgetme")
    two.expect_sent(tg, contains="Delete all your personal data?")
    await tg.presses("Cancel")
    two.expect_sent(tg, contains="Nothing was deleted")
    assert await Member.filter(display_name=NAME).exists()
    await tg.says("/hapusdata")
    await tg.presses("Yes, delete everything")
    done = two.expect_sent(tg, contains="Your personal data is deleted")
    assert await _rows_mentioning(two.app, ids, needles) == []
    # Totals stay: Budi's sign-up, his role (granted by her, now by nobody), the audit trail.
    budi = await Member.get(display_name="Budi Santoso")
    assert await two.app.roles.captain_scopes(budi.id) == ["11.09"]
    entry = await AuditEntry.get(action="privacy.forget")
    assert entry.details["receipt"] in done.text
    assert entry.actor_id is None
    assert await AuditEntry.filter(action="role.grant", target="member:forgotten").exists()


async def test_forgetme_button_is_only_for_its_member(two: FakeChat) -> None:
    tg = two.user(NAME, platform="telegram")
    await tg.says("/forgetme")
    mallory = two.user("mallory", platform="telegram")
    await mallory.presses("Ya, hapus semua", tg.dm)
    two.expect_sent(tg.dm, contains="bukan untuk Anda")
    assert await Member.filter(display_name=NAME).exists()


async def test_forget_logs_no_personal_data(two: FakeChat, caplog: Any) -> None:
    tg, _ = await _busy_member(two)
    caplog.set_level("DEBUG", logger="core")
    await tg.says("/forgetme")
    await tg.presses("Yes, delete everything")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "personal data of one member deleted" in logged
    assert NAME not in logged
    assert USERNAME not in logged


def test_privacy_settings_defaults_match_default_toml() -> None:
    from core.testing import test_settings

    assert PrivacySettings.model_validate(test_settings().section("privacy")) == PrivacySettings()


async def test_export_of_plugin_without_data(make_app: Any) -> None:
    async with make_app(plugins=[EventsPlugin()]) as app:
        chat = FakeChat(app)
        amir = chat.user("amir")
        await amir.says("/mydata")
        sent = chat.expect_sent(amir, contains="JSON")
        data = json.loads(sent.attachments[0].data)
        assert data["plugins"] == {"signups": {"signups": []}}


async def test_forgetting_a_split_off_account_leaves_no_trace(two: FakeChat) -> None:
    tg = two.user(NAME, platform="telegram", username=USERNAME)
    dc = two.user("Sari Lain", platform="discord", username="sari_lain")
    await tg.says("/link")
    await dc.says(f"/link {link_code(two, tg)}")
    await tg.says("/unlink discord")
    data = await _export(two, dc)
    ids = {data["member"]["id"]}
    await dc.says("/forgetme")
    await dc.presses("Ya, hapus semua")
    assert await _rows_mentioning(two.app, ids, ["sari_lain", "Sari Lain"]) == []
    assert await Member.filter(display_name=NAME).exists()
