"""How results look: text for chats, a bar chart PNG readable on a phone, CSV and JSON.

Everything here works on aggregated :class:`Table` rows; individual ballots appear only in
:func:`ballots_csv`, which the commands offer to admins for non-anonymous polls alone.
"""

from __future__ import annotations

import io
import json
import math
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core import CsvWriter
from plugins.polls.ballots import choices_of, label
from plugins.polls.models import Ballot, Poll
from plugins.polls.tally import OTHER, Row, Table

__all__ = [
    "ExportRow",
    "ballots_csv",
    "bar_chart",
    "compare_chart",
    "export_rows",
    "percent",
    "table_csv",
    "table_json",
    "whole_percent",
]

NameOf = Callable[[str | None], Awaitable[str]]


def percent(share: float) -> str:
    """Whole percent, halves rounded up (12.5% shows as 13%, as people expect)."""
    return f"{whole_percent(share)}%"


def whole_percent(share: float) -> int:
    return math.floor(share * 100 + 0.5 + 1e-9)


# --- exports -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One aggregated row of an export: a region (or other regions, or all)."""

    code: str
    name: str
    row: Row


async def export_rows(table: Table, name_of: NameOf, other: str, overall: str) -> list[ExportRow]:
    out = []
    for row in table.rows:
        code = row.code or ""
        out.append(ExportRow(code, await name_of(row.code), row))
    if table.other is not None:
        out.append(ExportRow("other", other, table.other))
    out.append(ExportRow("all", overall, table.overall))
    return out


def table_csv(rows: Sequence[ExportRow], options: Sequence[str]) -> str:
    """Region code, name, respondents, then each option's count and share of respondents."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    header = ["region_code", "region_name", "respondents"]
    for option in options:
        header += [f"{option} (n)", f"{option} (share)"]
    writer.writerow(header)
    for item in rows:
        line: list[Any] = [item.code, item.name, item.row.respondents]
        for i in range(len(options)):
            line += [item.row.counts[i], f"{item.row.share(i):.4f}"]
        writer.writerow(line)
    return buffer.getvalue()


def table_json(
    poll: Poll, table: Table, rows: Sequence[ExportRow], lang: str, min_size: int
) -> str:
    data = {
        "poll": {
            "id": poll.id,
            "question": label(poll.question, lang),
            "template": poll.template,
            "wave": poll.wave,
            "label": poll.label,
            "multiple": poll.multiple,
            "anonymous": poll.anonymous,
            "region": poll.region_code,
            "created_at": poll.created_at.isoformat(),
            "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
        },
        "by": table.by.value,
        "min_group_size": min_size,
        "share_of": "respondents",
        "rows": [
            {
                "region_code": item.code,
                "region_name": item.name,
                "respondents": item.row.respondents,
                "options": [
                    {
                        "label": label(option, lang),
                        "count": item.row.counts[i],
                        "share": round(item.row.share(i), 4),
                    }
                    for i, option in enumerate(poll.options)
                ],
            }
            for item in rows
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


async def ballots_csv(poll: Poll, lang: str, names: dict[int, str]) -> str:
    """Individual ballots of a non-anonymous poll (admins only; the caller checks)."""
    if poll.anonymous:
        raise ValueError("individual ballots of an anonymous poll are never exported")
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    options = [label(o, lang) for o in poll.options]
    writer.writerow(["member_id", "name", "region_code", "platform", "voted_at", *options])
    for ballot in await Ballot.filter(poll_id=poll.id, member_id__not_isnull=True).order_by("id"):
        picked = set(choices_of(ballot.choices, len(options)))
        writer.writerow(
            [
                ballot.member_id,
                names.get(ballot.member_id or 0, ""),
                ballot.region_code or "",
                ballot.platform or "",
                ballot.voted_at.isoformat(),
                *(1 if i in picked else 0 for i in range(len(options))),
            ]
        )
    return buffer.getvalue()


# --- charts --------------------------------------------------------------------------------

_BLUE = "#1f6fb2"
_ORANGE = "#e07b24"


def _figure(options: int, series: int) -> Any:
    # The object API with the Agg canvas: no pyplot global state, safe off the main thread.
    from matplotlib.figure import Figure

    height = 1.6 + 0.55 * options * max(1, series * 0.8)
    return Figure(figsize=(6.4, min(height, 12.0)), dpi=150, layout="constrained")


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def bar_chart(title: str, options: Sequence[str], row: Row, caption: str) -> bytes:
    """Horizontal bars, one per option, each labelled with its share: big type, few lines,
    so it reads on a phone."""
    figure = _figure(len(options), 1)
    axes = figure.add_subplot()
    values = [row.share(i) * 100 for i in range(len(options))]
    positions = list(range(len(options)))[::-1]
    axes.barh(positions, values, color=_BLUE, height=0.65)
    axes.set_yticks(positions, [_wrap(o, 22) for o in options], fontsize=12)
    axes.set_xlim(0, max(100.0, max(values, default=0) * 1.15))
    for y, value, count in zip(positions, values, row.counts, strict=True):
        axes.text(
            value + 1.5, y, f"{whole_percent(value / 100)}% ({count})", va="center", fontsize=12
        )
    axes.set_title(_wrap(title, 48), fontsize=14, loc="left")
    axes.set_xlabel(caption, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="x", labelsize=10)
    return _png(figure)


def compare_chart(
    title: str, options: Sequence[str], a: Row, b: Row, names: tuple[str, str], caption: str
) -> bytes:
    """Two waves side by side, option by option."""
    figure = _figure(len(options), 2)
    axes = figure.add_subplot()
    height = 0.38
    positions = list(range(len(options)))[::-1]
    for offset, row, color, name in (
        (height / 2, a, _BLUE, names[0]),
        (-height / 2, b, _ORANGE, names[1]),
    ):
        values = [row.share(i) * 100 for i in range(len(options))]
        axes.barh([p + offset for p in positions], values, height=height, color=color, label=name)
        for y, value in zip(positions, values, strict=True):
            label_text = f"{whole_percent(value / 100)}%"
            axes.text(value + 1.5, y + offset, label_text, va="center", fontsize=11)
    axes.set_yticks(positions, [_wrap(o, 22) for o in options], fontsize=12)
    axes.set_xlim(0, 115)
    axes.set_title(_wrap(title, 48), fontsize=14, loc="left")
    axes.set_xlabel(caption, fontsize=11)
    axes.legend(fontsize=11, loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def is_other(row: Row) -> bool:
    return row.code == OTHER
