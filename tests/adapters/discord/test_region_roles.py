"""Region roles: a channel linked to a region with a Discord role gives that role to the
members who register there, moves it when they change region, takes it on /forgetme."""

from __future__ import annotations

import discord
import simcord
from guyub_world import Guyub, guyub_on_discord


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
        ani = await guyub.joins("ani", captain=True)
        await guyub.make_captain(ani, "11")
        linked = await ani.slash(
            guyub.channel, "region_link", region=f"Aceh Utara <@&{aceh_utara.id}>"
        )
        assert linked.response is not None
        assert "Aceh Utara" in linked.response.content
        linked = await ani.slash(bireuen_channel, "region_link", region=f"Bireuen <@&{bireuen.id}>")
        assert linked.response is not None
        assert "Bireuen" in linked.response.content

        # A province group's role covers the members of every kabupaten/kota in it.
        linked = await ani.slash(province_channel, "region_link", region=f"Aceh <@&{aceh.id}>")
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
