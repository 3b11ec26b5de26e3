"""/stats: the community in numbers for the captain's regions, over the last 30 days and
overall, gathered from the core and every plugin (``guyub_collect_stats``), with one chart."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from core import (
    App,
    Attachment,
    AttachmentKind,
    Context,
    Markup,
    Member,
    Message,
    covers,
    format_moment,
    format_number,
    format_percent,
    in_areas,
    member_counts,
)
from plugins.captains._areas import names_of, parse_areas
from plugins.captains.models import Broadcast, Warning

__all__ = ["chart", "collect", "stats_command"]

log = logging.getLogger(__name__)


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
    """Members and registered from the tallies the database keeps per region (the
    dashboard's overview reads the same); the 30-day windows from the member indexes."""
    since = app.clock.now() - timedelta(days=30)
    area = in_areas(codes)
    counts = await member_counts()
    inside = [c for code, c in counts.items() if any(covers(scope, code) for scope in codes)]
    return {
        "members": sum(m for m, _ in inside),
        "registered": sum(r for _, r in inside),
        "active_30d": await Member.filter(area, last_active_at__gte=since).count(),
        "new_30d": await Member.filter(area, created_at__gte=since).count(),
    }


async def by_region(app: App, codes: Sequence[str]) -> list[tuple[str, int, int]]:
    """(region name, members, registered) for the regions inside the areas, largest first."""
    counts = await member_counts()
    out = [
        (await names_of(app, code), members, registered)
        for code, (members, registered) in counts.items()
        if code and members and any(covers(scope, code) for scope in codes)
    ]
    return sorted(out, key=lambda r: (-r[1], r[0]))[:15]


def chart(title: str, rows: Sequence[tuple[str, int, int]], labels: tuple[str, str, str]) -> bytes:
    """A horizontal bar chart (members and registered per region) as PNG; ``labels`` are the
    two series and the x axis, in the reader's language."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r[0] for r in rows][::-1] or ["-"]
    members = [r[1] for r in rows][::-1] or [0]
    registered = [r[2] for r in rows][::-1] or [0]
    fig, ax = plt.subplots(figsize=(7, 1.4 + 0.35 * len(names)), dpi=100)
    try:
        y = range(len(names))
        ax.barh([i + 0.2 for i in y], members, height=0.4, label=labels[0], color="#2b7bb9")
        ax.barh([i - 0.2 for i in y], registered, height=0.4, label=labels[1], color="#7fc97f")
        ax.set_yticks(list(y), names)
        ax.set_xlabel(labels[2])
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


#: At most this many rows of a list figure (regions, recent polls) are shown.
MAX_ROWS = 15


def _value(ctx: Context, key: str, value: object) -> str:
    """A figure as a reader writes it: grouped thousands, rates as percentages."""
    if value is None:
        return "–"  # e.g. coverage where no recipient counts were imported
    if isinstance(value, bool):
        return str(ctx.t("captains.stats.yes" if value else "captains.stats.no"))
    if isinstance(value, int | float):
        if key == "coverage":  # a share, written as the dashboard writes it
            return format_percent(value, ctx.lang)
        if key.endswith("_rate"):
            return f"{format_number(100 * value, ctx.lang)}%"
        if key.endswith("_percent"):
            return f"{format_number(value, ctx.lang)}%"
        return format_number(value, ctx.lang)
    return str(value)


def _figure(value: object) -> bool:
    """A non-zero count (names, codes and flags are not figures)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value != 0


def _section(ctx: Context, plugin: str, values: dict[str, Any]) -> list[Markup]:
    """One plugin's figures under its title: each labelled, lists as rows with a total.

    A figure is shown only when the plugin gives it a label (``<plugin>.stats.<key>``, or
    ``<plugin>.stats.<key>_row`` for a list): a captain never reads a raw key.
    """
    has = ctx.app.translator.has
    lines: list[Markup] = []
    for key, value in values.items():
        if isinstance(value, list):
            row_key = f"{plugin}.stats.{key}_row"
            rows = [r for r in value if isinstance(r, dict)]
            if not has(row_key) or not rows:
                continue
            # rows whose every figure is 0 say nothing one by one: they are counted instead
            empty = [r for r in rows if not any(_figure(v) for v in r.values())]
            shown = [r for r in rows if r not in empty]
            if has(f"{plugin}.stats.{key}"):
                lines.append(ctx.t(f"{plugin}.stats.{key}"))
            for row in shown[:MAX_ROWS]:
                lines.append(ctx.t(row_key, **{k: _value(ctx, k, v) for k, v in row.items()}))
            if len(shown) > MAX_ROWS:
                lines.append(ctx.t("captains.stats.more", n=len(shown) - MAX_ROWS))
            if empty:
                lines.append(ctx.t("captains.stats.empty_rows", n=len(empty)))
            total_key = f"{plugin}.stats.{key}_total"
            if has(total_key):
                sums = {
                    k: sum(int(r.get(k) or 0) for r in rows)
                    for k, v in rows[0].items()
                    if isinstance(v, int) and not isinstance(v, bool)
                }
                lines.append(ctx.t(total_key, **{k: _value(ctx, k, v) for k, v in sums.items()}))
        elif isinstance(value, int | float | str) and has(f"{plugin}.stats.{key}"):
            label = ctx.t(f"{plugin}.stats.{key}")
            lines.append(Markup("• {}: <b>{}</b>").format(label, _value(ctx, key, value)))
    if not lines:
        return []
    title_key = f"{plugin}.stats.section"
    if has(title_key):
        title = ctx.t(title_key)
    else:  # never a raw plugin name in a captain's report
        log.warning("plugin %s gives /stats figures but no %s text", plugin, title_key)
        title = ctx.t("captains.stats.other_section")
    return [Markup("\n<b>{}</b>").format(title), *lines]


async def stats_command(ctx: Context, region: str | None = None) -> None:
    """``/stats``: a report a captain can forward — dated, every figure labelled, regions
    named and totalled, with a titled chart."""
    areas = await parse_areas(ctx, region)
    codes = [a.code for a in areas]
    names = ", ".join(a.name for a in areas)
    zone = await ctx.regions.timezone(codes[0] if len(codes) == 1 and codes[0] else None)
    figures = await core_figures(ctx.app, codes)
    lines = [
        ctx.t("captains.stats.title", regions=names),
        ctx.t(
            "captains.stats.as_of",
            at=format_moment(ctx.now(), zone, ctx.app.translator, ctx.lang),
        ),
        ctx.t(
            "captains.stats.core",
            members=format_number(figures["members"], ctx.lang),
            registered=format_number(figures["registered"], ctx.lang),
            completion=_percent(figures["registered"], figures["members"]),
            active=format_number(figures["active_30d"], ctx.lang),
            new=format_number(figures["new_30d"], ctx.lang),
        ),
    ]
    plugin_figures = await ctx.app.plugins.collect_stats(None if "" in codes else codes, ctx.app)
    for plugin, values in sorted(plugin_figures.items()):
        if isinstance(values, dict) and values:
            lines.extend(_section(ctx, plugin, values))
    png = chart(
        str(ctx.t("captains.stats.chart_title", regions=names)),
        await by_region(ctx.app, codes),
        (
            str(ctx.t("captains.stats.members")),
            str(ctx.t("captains.stats.registered")),
            str(ctx.t("captains.stats.chart_axis")),
        ),
    )
    image = Attachment(AttachmentKind.IMAGE, "statistik.png", png, mime_type="image/png")
    await ctx.reply(Message(Markup("\n").join(lines), attachments=(image,)))
