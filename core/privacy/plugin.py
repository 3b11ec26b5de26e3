"""The privacy commands, as a core plugin (always loaded, like the help plugin).

/link (/tautkan), /unlink (/putuskan), /mydata (/dataku), /forgetme (/hapusdata) and
/consent (/persetujuan); all of them in a private chat only, since they show or change
personal data.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core._adapter import Unreachable
from core._commands import Command, Param, Where, clean_text
from core._humanize import format_moment
from core._i18n import load_texts
from core._markup import Markup, to_plain
from core._messages import Attachment, AttachmentKind, Button, Message
from core._roles import Role
from core._specs import Action, CliCommand, JobKind, PluginInfo
from core.hookspecs import hookimpl
from core.models import Account, Conversation, Member
from core.privacy import _members, _ratelimit
from core.privacy._consent import ConsentStatus
from core.privacy._retention import JOB_KIND, retention_job, run_retention, schedule_next
from core.privacy._settings import PrivacySettings
from core.privacy.models import LinkCode

if TYPE_CHECKING:
    from typing import TextIO

    from core._app import App
    from core._context import Context

PLUGIN = PluginInfo(
    name="privacy",
    version="0.1.0",
    description="Account linking, consent, data export and deletion, retention",
)

#: Letters and digits that can't be mistaken for each other (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
#: Link codes a member may ask for per code lifetime (each new one replaces the last).
CODES_PER_WINDOW = 5


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise_code(text: str) -> str:
    return "".join(ch for ch in clean_text(text).upper() if ch.isalnum())[:32]


def _settings(ctx: Context) -> PrivacySettings:
    return ctx.app.privacy.settings


def _platform(ctx: Context) -> str:
    return ctx.chat.platform if ctx.chat is not None else ""


# --- /link --------------------------------------------------------------------------


async def link(ctx: Context, code: str | None = None) -> None:
    """Without a code: give a one-time code. With one: join this account to its owner."""
    if code:
        await _claim(ctx, code)
    else:
        await _new_code(ctx)


async def _new_code(ctx: Context) -> None:
    assert ctx.member is not None
    settings = _settings(ctx)
    window = timedelta(minutes=settings.link_code_minutes)
    now = ctx.now()
    if await _ratelimit.hit(f"code:{ctx.member.id}", now, window) > CODES_PER_WINDOW:
        await ctx.reply(ctx.t("privacy.link.slow_down", minutes=settings.link_code_minutes))
        return
    await LinkCode.filter(member_id=ctx.member.id, status="open").delete()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    await LinkCode.create(
        code_hash=_hash(code),
        member_id=ctx.member.id,
        platform=_platform(ctx),
        created_at=now,
        expires_at=now + window,
    )
    await ctx.reply(ctx.t("privacy.link.code", code=code, minutes=settings.link_code_minutes))


async def _claim(ctx: Context, raw: str) -> None:
    assert ctx.member is not None
    me = ctx.member
    settings = _settings(ctx)
    now = ctx.now()
    window = timedelta(minutes=settings.link_code_minutes)
    # Counted per platform account and per chat the codes come from, never per member:
    # /forgetme makes a new member with a clean slate, but not a new account or chat.
    # The buckets hold a digest, not the platform ids.
    buckets = [
        f"link:{me.id}",
        _bucket("link-acct", str(ctx.user)),
        _bucket("link-chat", _chat(ctx)),
    ]
    counts = [await _ratelimit.hit(bucket, now, window) for bucket in buckets]
    if max(counts) > settings.link_attempts:
        await ctx.reply(ctx.t("privacy.link.slow_down", minutes=settings.link_code_minutes))
        return
    code = _normalise_code(raw)
    row = None
    if len(code) == CODE_LENGTH:
        row = await LinkCode.get_or_none(code_hash=_hash(code), status="open")
    if row is None or row.expires_at <= now:
        await ctx.reply(ctx.t("privacy.link.invalid"))
        return
    if row.member_id == me.id:
        await ctx.reply(ctx.t("privacy.link.same_member"))
        return
    owner = await Member.get_or_none(id=row.member_id)
    if owner is None:
        await ctx.reply(ctx.t("privacy.link.invalid"))
        return
    mine = set(await Account.filter(member_id=me.id).values_list("platform", flat=True))
    theirs = set(await Account.filter(member_id=owner.id).values_list("platform", flat=True))
    if mine & theirs:
        await ctx.reply(
            ctx.t(
                "privacy.link.same_platform", platforms=", ".join(sorted(map(str, mine & theirs)))
            )
        )
        return
    claimed = await LinkCode.filter(id=row.id, status="open").update(
        status="claimed", claimed_by_id=me.id, claimed_at=now
    )
    if not claimed:  # another attempt used it first
        await ctx.reply(ctx.t("privacy.link.invalid"))
        return
    if owner.registered_at is not None and me.registered_at is not None:
        await LinkCode.filter(id=row.id).update(status="choosing")
        await ctx.reply(
            ctx.t("privacy.link.choose"),
            buttons=[
                [
                    Button(
                        to_plain(_profile_label(ctx, candidate)),
                        "privacy:link_keep",
                        {"code": row.id, "keep": candidate.id},
                        only_for=me.id,
                    )
                ]
                for candidate in (owner, me)
            ],
        )
        return
    kept, merged = (me, owner) if me.registered_at is not None else (owner, me)
    await _finish_link(ctx, row.id, kept, merged)


def _bucket(kind: str, who: str) -> str:
    return f"{kind}:" + hashlib.sha256(who.encode("utf-8")).hexdigest()[:40]


def _chat(ctx: Context) -> str:
    return ctx.chat.key if ctx.chat is not None else ""


def _profile_label(ctx: Context, member: Member) -> Markup:
    return ctx.t(
        "privacy.link.keep_label", name=member.display_name, region=member.region_code or "-"
    )


async def _keep_chosen(ctx: Context, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    row = await LinkCode.get_or_none(id=int(data.get("code", 0)), status="choosing")
    window = timedelta(minutes=_settings(ctx).link_code_minutes)
    if (
        row is None
        or row.claimed_by_id != ctx.member.id
        or row.claimed_at is None
        or row.claimed_at + window <= ctx.now()
    ):
        await ctx.reply(ctx.t("privacy.link.invalid"))
        return
    ids = {row.member_id, ctx.member.id}
    keep_id = int(data.get("keep", 0))
    if keep_id not in ids:
        await ctx.reply(ctx.t("privacy.link.invalid"))
        return
    (other_id,) = ids - {keep_id}
    kept = await Member.get_or_none(id=keep_id)
    merged = await Member.get_or_none(id=other_id)
    if kept is None or merged is None:
        await ctx.reply(ctx.t("privacy.link.invalid"))
        return
    await _finish_link(ctx, row.id, kept, merged)


async def _finish_link(ctx: Context, code_id: int, kept: Member, merged: Member) -> None:
    await ctx.app.privacy.merge(kept, merged, channel=_platform(ctx) or "link")
    await LinkCode.filter(id=code_id).update(status="used")
    ctx.member = kept
    platforms = sorted(
        {str(p) for p in await Account.filter(member_id=kept.id).values_list("platform", flat=True)}
    )
    await ctx.reply(ctx.t("privacy.link.done", platforms=", ".join(platforms)))
    held = await _members.held_roles(kept.id)
    if held:
        await ctx.reply(ctx.t("privacy.link.roles_held"))
        await _ask_admins(ctx, kept, held, platforms)
    # Tell the member on their other platforms too: a link they did not make is a warning.
    for account in await Account.filter(member_id=kept.id).exclude(platform=_platform(ctx)):
        try:
            await ctx.app.send_dm(
                account, Message.of(ctx.t("privacy.link.notice", platform=_platform(ctx)))
            )
        except Unreachable:
            continue


async def _ask_admins(
    ctx: Context, kept: Member, held: list[tuple[str, str]], platforms: list[str]
) -> None:
    """Ask every admin (but the member) to confirm the held roles, with a button."""
    roles = ", ".join(f"{role} {scope}".strip() for role, scope in held)
    for admin_id in await ctx.roles.members_with(Role.ADMIN):
        if admin_id == kept.id:
            continue
        admin = await Member.get_or_none(id=admin_id)
        if admin is None:
            continue
        text = ctx.app.translator(
            "privacy.link.roles_ask",
            admin.language,
            name=kept.display_name,
            id=kept.id,
            platforms=", ".join(platforms),
            roles=roles,
        )
        label = str(ctx.app.translator("privacy.button.restore_roles", admin.language))
        button = Button(label, "privacy:restore_roles", {"member": kept.id}, only_for=admin.id)
        try:
            await ctx.app.send_dm(admin, Message.of(text, buttons=[button]))
        except Unreachable:
            continue


async def _restore_roles(ctx: Context, data: dict[str, Any]) -> None:
    """An admin confirms a link: the roles it held go back to the member."""
    assert ctx.member is not None
    if not await ctx.roles.is_admin(ctx.member.id):
        await ctx.reply(ctx.t("core.error.not_your_button"))
        return
    member_id = int(data.get("member", 0))
    member = await Member.get_or_none(id=member_id)
    held = await _members.held_roles(member_id) if member is not None else []
    if member is None or not held:
        await ctx.reply(ctx.t("core.error.button_expired"))
        return
    for role, scope in held:
        await ctx.roles.grant(member_id, Role[role.upper()], scope, by=ctx.member.id)
    await ctx.audit("privacy.link.roles_restored", target=f"member:{member_id}")
    await ctx.reply(ctx.t("privacy.link.roles_restored", name=member.display_name, id=member_id))


# --- /unlink ------------------------------------------------------------------------


async def unlink(ctx: Context, platform: str) -> None:
    """Split this member's accounts on ``platform`` off into a member of their own."""
    assert ctx.member is not None
    wanted = clean_text(platform).lower()[:16]
    platforms = {
        str(p)
        for p in await Account.filter(member_id=ctx.member.id).values_list("platform", flat=True)
    }
    if len(platforms) < 2:
        await ctx.reply(ctx.t("privacy.unlink.nothing"))
        return
    if wanted not in platforms:
        await ctx.reply(
            ctx.t("privacy.unlink.unknown", platform=wanted, platforms=", ".join(sorted(platforms)))
        )
        return
    await _members.split_platform(ctx.app, ctx.member, wanted)
    await ctx.reply(ctx.t("privacy.unlink.done", platform=wanted))


# --- /mydata and /forgetme ------------------------------------------------------------


async def mydata(ctx: Context) -> None:
    """Send the member a JSON file of everything Guyub holds about them."""
    assert ctx.member is not None
    data = await ctx.app.privacy.export(ctx.member)
    await ctx.app.audit.record(
        "privacy.export", actor=ctx.member.id, target=f"member:{ctx.member.id}"
    )
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    filename = f"guyub-data-{ctx.now().date().isoformat()}.json"
    attachment = Attachment(
        AttachmentKind.FILE,
        filename,
        body,
        caption=str(to_plain(ctx.t("privacy.mydata.caption"))),
        mime_type="application/json",
    )
    await ctx.reply(Message(text=ctx.t("privacy.mydata.sent"), attachments=(attachment,)))


async def forgetme(ctx: Context) -> None:
    """Ask for confirmation, then delete everything (see :func:`_forget_confirmed`)."""
    assert ctx.member is not None
    buttons = [
        Button(
            ctx.t("privacy.button.forget_yes"),
            "privacy:forget",
            {"yes": True},
            only_for=ctx.member.id,
        ),
        Button(
            ctx.t("privacy.button.forget_no"),
            "privacy:forget",
            {"yes": False},
            only_for=ctx.member.id,
        ),
    ]
    await ctx.reply(ctx.t("privacy.forget.confirm"), buttons=[buttons])


async def _forget_confirmed(ctx: Context, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    if data.get("yes") is not True:
        await ctx.reply(ctx.t("privacy.forget.kept"))
        return
    _ = ctx.lang  # settle the language while the member still exists
    receipt = await ctx.app.privacy.forget(ctx.member, reason="request")
    ctx.member = ctx.account = None
    await ctx.reply(ctx.t("privacy.forget.done", receipt=receipt))


# --- /consent -----------------------------------------------------------------------


async def consent(ctx: Context) -> None:
    """Show the consent text, the member's current answer, and buttons to change it."""
    assert ctx.member is not None
    privacy = ctx.app.privacy
    row = await privacy.consent_of(ctx.member.id)
    version = privacy.settings.consent_version
    if row is None or row.status == ConsentStatus.ASKED:
        state = ctx.t("privacy.consent.state_none")
    else:
        # The moment as every screen shows it, in the member's own zone: never ISO.
        zone = await ctx.regions.timezone(ctx.member.region_code)
        when = format_moment(row.at, zone, ctx.app.translator, ctx.lang)
        if row.status == ConsentStatus.WITHDRAWN:
            state = ctx.t("privacy.consent.state_withdrawn", when=when)
        else:
            state = ctx.t("privacy.consent.state_given", version=row.version, when=when)
    given = row is not None and row.status == ConsentStatus.GIVEN and row.version == version

    def answer(label: str, value: str) -> Button:
        assert ctx.member is not None
        data = {"version": version, "answer": value}
        return Button(ctx.t(label), "privacy:consent", data, only_for=ctx.member.id)

    if given:
        buttons = [answer("privacy.button.withdraw", "no")]
    elif row is not None and row.status == ConsentStatus.WITHDRAWN:
        buttons = [answer("privacy.button.agree", "yes")]
    else:
        buttons = [answer("privacy.button.agree", "yes"), answer("privacy.button.decline", "no")]
    text = Markup("{}\n\n{}\n\n{}").format(
        privacy.consent_text(ctx), state, ctx.t("privacy.consent.rights")
    )
    await ctx.reply(text, buttons=[buttons])


async def _consent_answer(ctx: Context, data: dict[str, Any]) -> None:
    assert ctx.member is not None
    privacy = ctx.app.privacy
    if data.get("version") != privacy.settings.consent_version:
        await privacy.ask(ctx, updated=True)
        return
    channel = _platform(ctx) or "button"
    if data.get("answer") == "yes":
        await privacy.record_consent(ctx.member.id, ConsentStatus.GIVEN, channel)
        await ctx.reply(ctx.t("privacy.consent.thanks"))
    else:
        await privacy.record_consent(ctx.member.id, ConsentStatus.WITHDRAWN, channel)
        # Stop any flow in progress: nothing but deletion is processed from now on.
        await Conversation.filter(member_id=ctx.member.id).delete()
        await ctx.reply(ctx.t("privacy.consent.withdrawn"))


# --- registration ---------------------------------------------------------------------


async def _retention_cli(app: App, out: TextIO) -> int:
    counts = await run_retention(app)
    out.write(json.dumps(counts, default=str) + "\n")
    return 0


@hookimpl
def guyub_register_commands() -> Sequence[Command]:
    return [
        Command(
            "link",
            link,
            "privacy.cmd.link",
            alias="tautkan",
            params=(Param("code", required=False, description="privacy.param.code", alias="kode"),),
            where=Where.DM,
            private=True,
        ),
        Command(
            "unlink",
            unlink,
            "privacy.cmd.unlink",
            alias="putuskan",
            params=(Param("platform", description="privacy.param.platform", alias="platform"),),
            where=Where.DM,
            private=True,
        ),
        Command(
            "mydata", mydata, "privacy.cmd.mydata", alias="dataku", where=Where.DM, private=True
        ),
        Command(
            "forgetme",
            forgetme,
            "privacy.cmd.forgetme",
            alias="hapusdata",
            where=Where.DM,
            private=True,
        ),
        Command(
            "consent",
            consent,
            "privacy.cmd.consent",
            alias="persetujuan",
            where=Where.DM,
            private=True,
        ),
    ]


@hookimpl
def guyub_register_actions() -> Sequence[Action]:
    return [
        Action("privacy:consent", _consent_answer),
        Action("privacy:link_keep", _keep_chosen),
        Action("privacy:forget", _forget_confirmed),
        Action("privacy:restore_roles", _restore_roles),
    ]


@hookimpl
def guyub_register_jobs() -> Sequence[JobKind]:
    return [JobKind(JOB_KIND, retention_job), JobKind(_members.FORGET_KIND, _members.resume_forget)]


@hookimpl
def guyub_register_settings() -> type[Any]:
    return PrivacySettings


@hookimpl
def guyub_register_texts() -> dict[str, dict[str, str]]:
    return load_texts("core.privacy")


@hookimpl
def guyub_register_cli() -> Sequence[CliCommand]:
    return [CliCommand("privacy", "retention", "Apply the retention rules now.", _retention_cli)]


@hookimpl
async def guyub_on_startup(app: App) -> None:
    await schedule_next(app, app.clock.now())


@hookimpl
async def guyub_collect_stats(
    region_codes: Sequence[str] | None, app: App
) -> dict[str, Any] | None:
    # Secrets (NIK, OTP...) caught and kept out of the database, among the areas' members.
    counts = await app.safety.counts(region_codes)
    if not counts:
        return None  # nothing to show captains
    return {
        "secrets_caught": sum(counts.values()),
        **{f"secrets_{k}": n for k, n in counts.items()},
    }
