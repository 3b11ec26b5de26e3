"""Which guilds the bot serves.

With ``discord.guild_ids`` set, exactly those guilds. With the default (an empty list) a
guild is served when one of Guyub's admins (the PMO: ``admins`` in the config or
``guyub admins add``) is a member of it, or owns it: someone adding the bot to a server of
their own gets one polite line and the bot leaves, and nothing they do is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import discord

from core import Account, Role

if TYPE_CHECKING:
    from core import App

__all__ = ["GuildScope"]

PLATFORM = "discord"

#: Seconds a "not served" answer and the admins' Discord ids are kept before asking again.
RECHECK_AFTER = 60.0


class GuildScope:
    """Answers "may the bot act in this guild?" for every event that comes from one."""

    def __init__(
        self,
        guild_ids: Sequence[int],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allow_list = frozenset(guild_ids)
        self._clock = clock
        self._served: set[int] = set()
        self._refused: dict[int, float] = {}
        self._admins: tuple[float, frozenset[int]] | None = None

    def forget(self) -> None:
        """Ask again next time (an admin joined or a role changed)."""
        self._refused.clear()
        self._admins = None

    def member_left(self, guild_id: int) -> None:
        """An admin left a served guild: whether it is still served is asked again."""
        if not self.allow_list:
            self._served.discard(guild_id)
            self._admins = None

    def member_joined(self, guild_id: int) -> None:
        """Someone joined a guild not served yet: they may be an admin."""
        if not self.allow_list and guild_id in self._refused:
            self.forget()

    async def admin_ids(self, app: App) -> frozenset[int]:
        """The Discord user ids of Guyub's admins (kept for a minute)."""
        now = self._clock()
        if self._admins is not None and now - self._admins[0] < RECHECK_AFTER:
            return self._admins[1]
        members = await app.roles.members_with(Role.ADMIN)
        refs = await Account.filter(platform=PLATFORM, member_id__in=members).values_list(
            "platform_user_id", flat=True
        )
        ids = frozenset(int(str(r)) for r in refs if str(r).isdigit())
        self._admins = (now, ids)
        return ids

    async def serves(self, app: App, guild: discord.Guild) -> bool:
        if self.allow_list:
            return guild.id in self.allow_list
        if guild.id in self._served:
            return True
        refused_at = self._refused.get(guild.id)
        if refused_at is not None and self._clock() - refused_at < RECHECK_AFTER:
            return False
        if await self._has_admin(app, guild):
            self._served.add(guild.id)
            self._refused.pop(guild.id, None)
            return True
        self._refused[guild.id] = self._clock()
        return False

    async def serves_id(self, app: App, client: discord.Client, guild_id: int | None) -> bool:
        """Like :meth:`serves` for an id (None: a DM, always served)."""
        if guild_id is None:
            return True
        if self.allow_list:
            return guild_id in self.allow_list
        guild = client.get_guild(guild_id)
        return guild is not None and await self.serves(app, guild)

    async def _has_admin(self, app: App, guild: discord.Guild) -> bool:
        admins = await self.admin_ids(app)
        if not admins:
            return False
        if guild.owner_id in admins:
            return True
        if any(guild.get_member(user_id) is not None for user_id in admins):
            return True
        # The member cache may be incomplete (large guilds): ask Discord for a few.
        for user_id in sorted(admins)[:5]:
            try:
                await guild.fetch_member(user_id)
            except discord.HTTPException:
                continue
            return True
        return False
