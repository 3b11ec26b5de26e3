"""/stats: the community in numbers for the captain's regions, over the last 30 days and
overall, gathered from the core and every plugin (``guyub_collect_stats``), with one chart."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tortoise.functions import Count

from core import App, Attachment, AttachmentKind, Context, Markup, Member, Message, covers
from plugins.captains._areas import in_areas, names_of, parse_areas
from plugins.captains.models import Broadcast, Warning

__all__ = ["chart", "collect", "stats_command"]


async def collect(app: App, codes: Sequence[str]) -> dict[str, Any]:
    """The captains plugin's own figures for ``guyub_collect_stats``."""
    since = app.clock.now() - timedelta(days=30)
    broadcasts = [
        b
        for b in await Broadcast.filter(status__in=("sending", "done"))
        if _inside(b.regions, codes)
    ]
    return {
        "broadcasts": len(broadcasts),
        "broadcasts_30d": sum(1 for b in broadcasts if b.created_at >= since),
        "warnings_30d": await Warning.filter(in_areas(codes), at__gte=since).count(),
    }


def _inside(regions: Sequence[str], codes: Sequence[str]) -> bool:
    return any(covers(c, r) for r in regions for c in codes)


async def core_figures(app: App, codes: Sequence[str]) -> dict[str, int]:
    since = app.clock.now() - timedelta(days=30)
    area = in_areas(codes)
    return {
        "members": await Member.filter(area).count(),
        "registered": await Member.filter(area, registered_at__isnull=False).count(),
        "active_30d": await Member.filter(area, last_active_at__gte=since).count(),
        "new_30d": await Member.filter(area, created_at__gte=since).count(),
    }


async def by_region(app: App, codes: Sequence[str]) -> list[tuple[str, int, int]]:
    """(region name, members, registered) for the regions inside the areas, largest first."""
    rows = (
        await Member.filter(in_areas(codes), region_code__isnull=False)
        .annotate(n=Count("id"))
        .group_by("region_code")
        .values("region_code", "n")
    )
    registered = dict(
        (str(r["region_code"]), int(r["n"]))
        for r in await Member.filter(
            in_areas(codes), registered_at__isnull=False, region_code__isnull=False
        )
        .annotate(n=Count("id"))
        .group_by("region_code")
        .values("region_code", "n")
    )
    out = [
        (
            await names_of(app, str(r["region_code"])),
            int(r["n"]),
            registered.get(str(r["region_code"]), 0),
        )
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r[1], r[0]))[:15]


def chart(title: str, rows: Sequence[tuple[str, int, int]], labels: tuple[str, str]) -> bytes:
    """A horizontal bar chart (members and registered per region) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r[0] for r in rows][::-1] or ["-"]
    members = [r[1] for r in rows][::-1] or [0]
    registered = [r[2] for r in rows][::-1] or [0]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * len(names)), dpi=100)
    try:
        y = range(len(names))
        ax.barh([i + 0.2 for i in y], members, height=0.4, label=labels[0], color="#2b7bb9")
        ax.barh([i - 0.2 for i in y], registered, height=0.4, label=labels[1], color="#7fc97f")
        ax.set_yticks(list(y), names)
        ax.set_title(title)
        ax.legend(loc="lower right")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


async def stats_command(ctx: Context, region: str | None = None) -> None:
    areas = await parse_areas(ctx, region)
    codes = [a.code for a in areas]
    names = ", ".join(a.name for a in areas)
    figures = await core_figures(ctx.app, codes)
    lines = [
        ctx.t("captains.stats.title", regions=names),
        ctx.t(
            "captains.stats.core",
            members=figures["members"],
            registered=figures["registered"],
            completion=_percent(figures["registered"], figures["members"]),
            active=figures["active_30d"],
            new=figures["new_30d"],
        ),
    ]
    plugin_figures = await ctx.app.plugins.collect_stats(None if "" in codes else codes, ctx.app)
    for plugin, values in sorted(plugin_figures.items()):
        if not isinstance(values, dict) or not values:
            continue
        lines.append(Markup("\n<b>{}</b>").format(plugin))
        for key, value in values.items():
            if isinstance(value, int | float | str):
                label = (
                    ctx.t(f"{plugin}.stats.{key}")
                    if ctx.app.translator.has(f"{plugin}.stats.{key}")
                    else key
                )
                lines.append(Markup("• {}: {}").format(label, value))
    png = chart(
        names,
        await by_region(ctx.app, codes),
        (str(ctx.t("captains.stats.members")), str(ctx.t("captains.stats.registered"))),
    )
    image = Attachment(AttachmentKind.IMAGE, "stats.png", png, mime_type="image/png")
    await ctx.reply(Message(Markup("\n").join(lines), attachments=(image,)))
