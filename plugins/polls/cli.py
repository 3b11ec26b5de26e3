"""``guyub export poll POLL_ID --format csv|json [--by region]``: aggregated results for the
PMO's analysts, with the same small-group folding as in chat."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from core import App, CliCommand, CliParam, Translator
from plugins.polls.ballots import label
from plugins.polls.models import Poll
from plugins.polls.present import export_rows, table_csv, table_json
from plugins.polls.tally import By, tally

__all__ = ["commands", "export_poll", "export_text"]


def commands() -> list[CliCommand]:
    return [
        CliCommand(
            "export",
            "poll",
            "Export a poll's aggregated results (one row per region, small groups folded).",
            export_poll,
            params=(
                CliParam("poll_id", "The poll's number (see /polls).", type="int"),
                CliParam(
                    "format", "csv or json", option=True, default="csv", choices=("csv", "json")
                ),
                CliParam(
                    "by",
                    "overall, province or region (kabupaten/kota)",
                    option=True,
                    default="overall",
                    choices=("overall", "province", "region", "kabupaten"),
                ),
                CliParam("lang", "Language of labels: id or en", option=True, default="id"),
                CliParam(
                    "output", "Write to this file instead of the screen", type="path", option=True
                ),
            ),
        )
    ]


async def export_text(app: App, poll: Poll, format: str, by: By, lang: str) -> str:
    """The aggregated results as ``guyub export poll`` writes them (the dashboard's
    downloads are this same text)."""
    min_size = int(app.plugin_settings("polls").min_group_size)
    table = await tally(poll.id, len(poll.options), by, min_size)
    t: Translator = app.translator
    rows = await export_rows(
        table,
        app.regions.name,
        str(t("polls.results.other_regions", lang)),
        str(t("polls.export.overall", lang)),
    )
    if format == "json":
        return table_json(poll, table, rows, lang, min_size)
    return table_csv(rows, [label(o, lang) for o in poll.options])


async def export_poll(
    app: App,
    out: TextIO,
    poll_id: int,
    format: str = "csv",
    by: str = "overall",
    lang: str = "id",
    output: Path | None = None,
) -> int:
    poll = await Poll.get_or_none(id=poll_id)
    if poll is None:
        print(f"no poll #{poll_id}", file=out)
        return 1
    if format not in ("csv", "json"):
        print("--format must be csv or json", file=out)
        return 2
    text = await export_text(app, poll, format, By.parse(by, By.OVERALL), lang)
    if output is not None:
        await asyncio.to_thread(output.write_text, text, encoding="utf-8")
        print(f"wrote {output}", file=out)
    else:
        out.write(text)
    return 0
