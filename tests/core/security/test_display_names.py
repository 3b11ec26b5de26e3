"""A member can't escalate or inject markup by choosing a display name or username."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise import connections

from core import Account, AuditEntry, Member, Role, guard_name, neutral_name, parse_markup
from core._names import shown_name
from core.testing import FakeChat

HOSTILE = [
    "admin",
    "Admin PMO",
    "@everyone",
    "@here",
    "<b>x</b>",
    '<a href="https://evil.example">klik</a>',
    "</code><i>x",
    "&lt;b&gt;",
    "kapten 11",
    "#1",
    "telegram:1",
]


@pytest.mark.parametrize("name", HOSTILE)
async def test_name_grants_nothing_and_renders_as_text(chat: FakeChat, name: str) -> None:
    admin = chat.user("Budi", username="pmo")
    await admin.says("/help")
    await chat.app.roles.grant((await Member.get(display_name="Budi")).id, Role.ADMIN)
    user = chat.user(name, username=name)
    await user.says("/start")
    greeting = chat.last(user)
    shown = guard_name(name, seed=str(user.ref)).shown
    assert greeting.text.startswith(f"Halo {shown}!")
    account = await chat.app.identity.account_for(user.ref)
    assert account is not None
    member = await Member.get(id=account.member_id)
    assert await chat.app.roles.highest(member.id) is Role.MEMBER
    # The name arrives as literal text: no tag or link from it survives rendering.
    spans = parse_markup(greeting.markup)
    assert all(span.href is None for span in spans)
    assert not any(span.italic for span in spans)
    assert [span.text for span in spans if span.bold] == ["Guyub"]
    await user.says("/help")
    assert "Untuk admin PMO" not in chat.last(user).text


async def test_finding_by_name_never_finds_the_admin(chat: FakeChat) -> None:
    real = chat.user("Budi", username="budi_pmo")
    await real.says("/help")
    budi = await Member.get(display_name="Budi")
    await chat.app.roles.grant(budi.id, Role.ADMIN)
    fake = chat.user("admin", username="admin")
    await fake.says("/help")
    found = await chat.app.identity.find("admin")
    assert found is not None
    assert found.id != budi.id
    assert await chat.app.identity.find("@budi_pmo") == budi


# --- the display-name guard (issue #15) -----------------------------------------------

SCAM = "Admin Prakerja - cairkan insentif: https://bit.ly/prakerja-cair"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Budi Santoso", "Budi Santoso"),
        ("Siti @siti_aceh", "Siti"),
        ("Rina https://bit.ly/x", "Rina"),
        ("Rina (bit.ly/x)", "Rina"),
        ("Nur\u200bul\u3164", "Nurul"),
        ("Ayu" + "\u0301" * 30, "Ay\u00fa\u0301\u0301"),  # NFKC, then two marks at most
        ("x" * 100, "x" * 39 + "…"),
    ],
)
def test_guard_cleans_names(raw: str, shown: str) -> None:
    checked = guard_name(raw, seed="tg:1")
    assert checked.shown == shown
    assert not checked.impersonating


@pytest.mark.parametrize(
    "raw", [SCAM, "PMO Jakarta", "ADMIN", "4dm1n", "Ádmín", "Tim Prakerja", "CS Prakerja", "@admin"]
)
def test_official_looking_names_are_shown_neutrally(raw: str) -> None:
    checked = guard_name(raw, seed="tg:1")
    assert checked.impersonating
    assert checked.shown == neutral_name("tg:1")


@pytest.mark.parametrize("raw", ["\u3164", "\u2800\u2800", "😀😀😀", "@x https://t.me/y", ""])
def test_names_with_nothing_showable_get_a_neutral_name(raw: str) -> None:
    checked = guard_name(raw, seed="tg:9")
    assert checked.shown == neutral_name("tg:9")
    assert checked.shown.startswith("Alumni ")


async def test_scam_name_is_never_amplified_and_captains_are_told(chat: FakeChat) -> None:
    cut = chat.user("cut")
    await cut.says("/help")
    captain = await Member.get(display_name="cut")
    await chat.app.roles.grant(captain.id, Role.CAPTAIN, "11")
    scammer = chat.user(SCAM)
    await scammer.says("/start")
    greeting = chat.last(scammer)
    for piece in ("bit.ly", "Admin", "cairkan", "insentif"):
        assert piece not in greeting.text
    account = await chat.app.identity.account_for(scammer.ref)
    assert account is not None
    member = await Member.get(id=account.member_id)
    assert member.display_name == neutral_name(str(scammer.ref))
    assert account.display_name == member.display_name
    flagged = await AuditEntry.filter(action="safety.name_flagged")
    assert [e.target for e in flagged] == [f"member:{member.id}"]

    # Once the member is in a region, its captains hear of the name (once).
    await Member.filter(id=member.id).update(region_code="11.08")
    await AuditEntry.filter(action="safety.name_flagged").delete()
    group = chat.group("Alumni Aceh Utara")
    await scammer.joins(group)
    await scammer.says(group, "/help")
    told = [s for s in chat.sent_to(cut) if "meniru nama resmi" in s.text]
    assert len(told) == 1
    assert member.display_name in told[0].text
    for sent in chat.sent:
        assert "bit.ly" not in sent.full_text()


# --- names stored before the guard existed ----------------------------------------------


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(
    raw=st.lists(
        st.one_of(
            st.characters(),
            st.sampled_from(list("@:/.- ()\u3164\u2800\u200b\u202e\u0301")),
            st.sampled_from(["admin", "PMO", "Prakerja", "https://", "bit.ly", "t.me/", "x" * 45]),
        ),
        max_size=30,
    ).map("".join)
)
def test_a_guarded_name_read_back_is_unchanged(raw: str) -> None:
    """Names are guarded again as they are read: a name guarded when it arrived must come
    back as it was stored (else every message would rewrite the account)."""
    shown = guard_name(raw, seed="tg:1").shown
    assert shown_name(shown) == shown


async def test_a_hostile_name_stored_before_the_guard_is_shown_guarded(chat: FakeChat) -> None:
    """A row written before the guard existed (or by raw SQL) keeps its scam name in the
    database: the bot still never shows it."""
    scammer = chat.user("Rahmat")
    await scammer.says("/help")
    account = await chat.app.identity.account_for(scammer.ref)
    assert account is not None
    # As an old row holds it: an update writes the value as given, unguarded.
    await Member.filter(id=account.member_id).update(display_name=SCAM)
    await Account.filter(id=account.id).update(display_name=SCAM)
    stored = await connections.get("default").execute_query_dict(
        f"SELECT display_name FROM core_member WHERE id = {int(account.member_id)}"
    )
    assert stored == [{"display_name": SCAM}]
    chat.app.cache.clear()  # a freshly started process: nothing cached
    neutral = neutral_name(SCAM)
    member = await Member.get(id=account.member_id)
    assert member.display_name == neutral
    assert await Member.filter(id=member.id).values_list("display_name", flat=True) == [neutral]
    loaded = await Account.get(id=account.id).select_related("member")
    assert (loaded.display_name, loaded.member.display_name) == (neutral, neutral)
    # What the bot says to and about her: the greeting uses the stored name.
    await scammer.says("/start")
    assert chat.last(scammer).text.startswith(f"Halo {neutral}!")
    for sent in chat.sent:
        for piece in ("bit.ly", "cairkan", "Admin Prakerja"):
            assert piece not in sent.full_text()
