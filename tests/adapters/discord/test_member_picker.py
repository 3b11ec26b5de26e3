"""Members picked in a Discord user option are found even if they never wrote to the
bot; a PMO admin from the config gets their real name once they use the bot."""

from __future__ import annotations

import simcord
from guyub_world import guyub_on_discord

from core import Member, Role, UserRef


async def test_admin_appoints_a_member_who_never_spoke_to_the_bot(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        pmo = await guyub.joins("pmo", admin=True)
        await guyub.make_admin(pmo)
        # Cut was in the server before the bot came: the bot never saw her.
        cut_user = guyub.env.create_user("cut", global_name="Cut Nyak")
        guyub.env.backend.add_member(guyub.guild.id, cut_user.id, announce=False)
        cut = simcord.MemberActor(guyub.env, guyub.guild, cut_user)
        assert await guyub.app.identity.account_for(UserRef("discord", str(cut.id))) is None

        result = await pmo.slash(guyub.channel, "captain_add", member=cut, region="11.08")
        assert result.response is not None
        assert "Cut Nyak sekarang kapten Kabupaten Aceh Utara" in result.response.content
        account = await guyub.app.identity.account_for(UserRef("discord", str(cut.id)))
        assert account is not None
        assert await guyub.app.roles.can_manage(account.member_id, "11.08")


async def test_config_admin_gets_their_discord_name(make_app) -> None:
    async with guyub_on_discord(make_app) as guyub:
        pmo = await guyub.joins("rina")
        ref = UserRef("discord", str(pmo.id))
        # What `admins = ["discord:..."]` does at start, before the bot knows a name.
        account = await guyub.app.identity.ensure(ref)
        await guyub.app.roles.grant(account.member_id, Role.ADMIN)
        await Member.filter(id=account.member_id).update(display_name=str(ref))
        await pmo.slash(guyub.channel, "help")
        member = await Member.get(id=account.member_id)
        assert member.display_name == "rina"
