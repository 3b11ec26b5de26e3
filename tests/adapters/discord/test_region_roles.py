"""Region roles: a channel linked to a region with a Discord role (``/region_link`` with a
region, a channel and a role option) gives that role to the members who register there,
moves it when they change region, takes it on /forgetme. Only a member who administers the
channel on Discord binds it, and only the region's captain (or an admin) rebinds it."""

from __future__ import annotations

import discord
import pytest
import simcord
from guyub_world import Guyub, guyub_on_discord

from core import ChatKind, ChatRef, UserRef
from core.models import AuditEntry, Job
from plugins.regions import _roles
from plugins.regions.models import RegionChat


def _chat(channel: simcord.ChannelHandle) -> ChatRef:
    return ChatRef("discord", str(channel.id), ChatKind.GROUP)


def _user(actor: simcord.MemberActor) -> UserRef:
    return UserRef("discord", str(actor.id))


async def register(guyub: Guyub, actor: simcord.MemberActor, region: str) -> None:
    dm = actor.user.dm_channel
    await actor.send_dm("halo")
    await actor.user.click(dm.last_message, label="✅ Setuju")
    await actor.send_dm(actor.name.capitalize())
    await actor.send_dm(region)
    if "Apakah wilayah Anda" in dm.last_message.content:
        await actor.user.click(dm.last_message, label="✅ Ya, benar")
    await actor.user.click(dm.last_message, label="Lewati")
    await actor.user.click(dm.last_message, label="Lewati")
    await actor.user.click(dm.last_message, label="Bahasa Indonesia")
    assert any("Pendaftaran selesai" in m.content for m in dm.history()[-3:])


def roles_of(guyub: Guyub, actor: simcord.MemberActor) -> set[str]:
    guild = guyub.adapter.client.get_guild(guyub.guild.id)
    assert guild is not None
    member = guild.get_member(actor.id)
    assert member is not None
    return {r.name for r in member.roles if not r.is_default()}


async def test_region_role_given_moved_and_taken(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        aceh_utara = guyub.guild.create_role("Aceh Utara", permissions=discord.Permissions.none())
        bireuen = guyub.guild.create_role("Bireuen", permissions=discord.Permissions.none())
        aceh = guyub.guild.create_role("Aceh", permissions=discord.Permissions.none())
        bireuen_channel = guyub.guild.create_text_channel("bireuen")
        province_channel = guyub.guild.create_text_channel("aceh")
        ani = await guyub.joins("ani", captain=True, manages_channels=True)
        await guyub.make_captain(ani, "11")
        # The region is picked from the suggestions (its code), the role from the server's.
        suggested = await ani.autocomplete(guyub.channel, "region_link", "region", "aceh utara")
        assert suggested[0]["value"] == "11.08"
        linked = await ani.slash(guyub.channel, "region_link", region="11.08", role=aceh_utara)
        assert linked.response is not None
        assert "Aceh Utara" in linked.response.content
        assert "mendapat peran" in linked.response.content
        # Typed in #umum, binding #bireuen: the channel option names the channel bound.
        linked = await ani.slash(
            guyub.channel, "region_link", region="11.11", channel=bireuen_channel, role=bireuen
        )
        assert linked.response is not None
        assert "Kanal “bireuen”" in linked.response.content

        # A province group's role covers the members of every kabupaten/kota in it.
        linked = await ani.slash(province_channel, "region_link", region="11", role=aceh)
        assert linked.response is not None

        amir = await guyub.joins("amir")
        assert roles_of(guyub, amir) == set()
        await register(guyub, amir, "Aceh Utara")
        assert roles_of(guyub, amir) == {"Aceh Utara", "Aceh"}

        # Changing region in /profile moves the role.
        dm = amir.user.dm_channel
        await amir.user.slash("profile")
        await amir.user.click(dm.last_message, label="✏️ Wilayah")
        await amir.send_dm("Bireuen")
        if "Apakah wilayah Anda" in dm.last_message.content:
            await amir.user.click(dm.last_message, label="✅ Ya, benar")
        assert roles_of(guyub, amir) == {"Bireuen", "Aceh"}  # same province: kept

        # /forgetme takes it back.
        asked = await amir.user.slash("forgetme")
        assert asked.response is not None
        await amir.user.click(asked.response, label="Ya, hapus semua")
        assert roles_of(guyub, amir) == set()


async def test_binding_needs_manage_channels_on_that_channel(make_app) -> None:
    """A captain without *Manage Channels* on a channel (Telegram: not a group admin) can't
    bind it; *Manage Channels* on that channel alone is enough, wherever the command is
    typed."""
    async with guyub_on_discord(make_app) as guyub:
        cut = await guyub.joins("cut", captain=True)  # Manage Messages only
        await guyub.make_captain(cut, "11.08")
        refused = await cut.slash(guyub.channel, "region_link", region="11.08")
        assert refused.response is not None
        assert "hanya admin grup ini" in refused.response.content
        own = guyub.guild.create_text_channel(
            "aceh-utara", overwrites={cut: discord.PermissionOverwrite(manage_channels=True)}
        )
        # Typed in #umum, naming her own channel: the rule is about the channel bound.
        linked = await cut.slash(guyub.channel, "region_link", region="11.08", channel=own)
        assert linked.response is not None
        assert "Kanal “aceh-utara”" in linked.response.content
        assert await RegionChat.filter(chat_id=str(guyub.channel.id)).count() == 0
        assert await guyub.adapter.is_chat_admin(_chat(own), _user(cut))
        assert not await guyub.adapter.is_chat_admin(_chat(guyub.channel), _user(cut))


async def test_another_regions_captain_cannot_take_a_bound_channel(make_app) -> None:
    """#15's hijack on Discord: Aceh Utara's captain, even with Manage Channels, cannot
    rebind Bireuen's channel; an admin can, audited, and Bireuen's captains are told."""
    async with guyub_on_discord(make_app) as guyub:
        bireuen_channel = guyub.guild.create_text_channel("bireuen")
        bima = await guyub.joins("bima", captain=True, manages_channels=True)
        amat = await guyub.joins("amat", captain=True, manages_channels=True)
        await guyub.make_captain(bima, "11.11")
        await guyub.make_captain(amat, "11.08")
        linked = await bima.slash(bireuen_channel, "region_link", region="11.11")
        assert linked.response is not None
        assert "Bireuen" in linked.response.content

        taken = await amat.slash(bireuen_channel, "region_link", region="11.08")
        assert taken.response is not None
        assert "Bireuen" in taken.response.content  # "not your region": Bireuen's
        assert "✅" not in taken.response.content
        bound = await RegionChat.get(chat_id=str(bireuen_channel.id))
        assert bound.region_code == "11.11"

        pmo = await guyub.joins("pmo", admin=True)
        await guyub.make_admin(pmo)
        moved = await pmo.slash(
            guyub.channel, "region_link", region="11.08", channel=bireuen_channel
        )
        assert moved.response is not None
        assert "Aceh Utara" in moved.response.content
        bound = await RegionChat.get(chat_id=str(bireuen_channel.id))
        assert bound.region_code == "11.08"
        told = bima.user.dm_channel.last_message
        assert told is not None
        assert "memindahkan grup “bireuen”" in told.content
        entries = await AuditEntry.filter(action="regions.link").order_by("id")
        assert [e.details.get("previous") for e in entries] == [None, "11.11"]


async def test_a_role_linked_later_reaches_the_members_already_there(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linking a role to a region's channel gives it to the members registered there before;
    replacing it moves them to the new role; unlinking takes it back. A durable job does it
    a page at a time (one member a page here, to go through several pages)."""
    monkeypatch.setattr(_roles, "SWEEP_PAGE", 1)
    async with guyub_on_discord(make_app) as guyub:
        pase = guyub.guild.create_role("Aceh Utara", permissions=discord.Permissions.none())
        pasai = guyub.guild.create_role("Samudra Pasai", permissions=discord.Permissions.none())
        ani = await guyub.joins("ani", captain=True, manages_channels=True)
        await guyub.make_captain(ani, "11")
        amir, cut, bima = [await guyub.joins(n) for n in ("amir", "cut", "bima")]
        await guyub.registered(amir, "11.08")
        await guyub.registered(cut, "11.08")
        await guyub.registered(bima, "11.11")  # Bireuen: not this channel's region

        async def sweep() -> None:
            await guyub.app.run_pending()
            await guyub.env.settle()

        await ani.slash(guyub.channel, "region_link", region="11.08", role=pase)
        await sweep()
        assert roles_of(guyub, amir) == roles_of(guyub, cut) == {"Aceh Utara"}
        assert roles_of(guyub, bima) == set()
        assert "Aceh Utara" not in roles_of(guyub, ani)  # a captain of the province only

        await ani.slash(guyub.channel, "region_link", region="11.08", role=pasai)
        await sweep()
        assert roles_of(guyub, amir) == roles_of(guyub, cut) == {"Samudra Pasai"}

        await ani.slash(guyub.channel, "region_unlink")
        await sweep()
        assert roles_of(guyub, amir) == roles_of(guyub, cut) == set()
        assert await Job.filter(kind=_roles.SWEEP_KIND, status="pending").count() == 0
