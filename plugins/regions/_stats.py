"""Counting members per region, for /regions, the CLI and /stats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core import member_counts
from plugins.regions._gazetteer import gazetteer
from plugins.regions.models import RecipientCount

__all__ = ["RegionCount", "count_members", "region_rows"]


@dataclass
class RegionCount:
    """Members (and how many finished registration) in one region and everything under it."""

    code: str
    name: str
    members: int = 0
    registered: int = 0
    recipients: int | None = None

    @property
    def coverage(self) -> float | None:
        """Registered members (registration finished) per official recipient, where
        recipient counts were imported: the programme's coverage, in chat and on the
        dashboard alike."""
        if not self.recipients:
            return None
        return self.registered / self.recipients

    def as_dict(self) -> dict[str, object]:
        coverage = self.coverage
        return {
            "code": self.code,
            "name": self.name,
            "members": self.members,
            "registered": self.registered,
            "recipients": self.recipients,
            "coverage": round(coverage, 6) if coverage is not None else None,
        }


async def count_members() -> dict[str, tuple[int, int]]:
    """(members, registered members) per exact region code: the member tallies the database
    keeps (one row per region, not a count over the members)."""
    return {code: counts for code, counts in (await member_counts()).items() if code}


async def region_rows(codes: Iterable[str]) -> list[RegionCount]:
    """One row per region in ``codes``, each counting its own members and those below it."""
    book = gazetteer()
    wanted = [c for c in codes if c in book.regions]
    rows = {c: RegionCount(c, book.regions[c].name) for c in wanted}
    for code, (members, registered) in (await count_members()).items():
        for target, row in rows.items():
            if code == target or code.startswith(target + "."):
                row.members += members
                row.registered += registered
    recipients = {r.region_code: r.recipients for r in await RecipientCount.all()}
    for code, row in rows.items():
        if code in recipients:
            row.recipients = recipients[code]
        elif book.regions[code].parent_code is None:
            # A province without its own figure: the sum of its kabupaten/kota, if all known.
            children = [c.code for c in book.children(code)]
            if children and all(c in recipients for c in children):
                row.recipients = sum(recipients[c] for c in children)
    return [rows[c] for c in wanted]
