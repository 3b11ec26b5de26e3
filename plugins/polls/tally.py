"""Poll results computed in the database: one ``GROUP BY`` over the poll's result cells.

Every ballot change also adds to or takes from a cell (poll, region, answer set) in the same
transaction (``ballots.shift``), so results read a few thousand cells at most, whatever the
number of ballots: exact while votes keep arriving. A ballot's choices are a bit set, so one
scan gives, per region, the respondents (``SUM(weight)``) and every option's count
(``SUM(weight * bit i of choices)``), through the ORM (no SQL text is built anywhere). Python
only folds the few hundred region rows that come back: regions with fewer respondents than
``min_group_size`` go into "other regions" (and, if that group is still too small, the next
smallest regions join it), so nobody's answer can be singled out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tortoise.expressions import CombinedExpression, Connector, F, Value
from tortoise.functions import Sum

from plugins.polls.models import TallyCell

__all__ = ["By", "Row", "Table", "fold", "tally"]


class By(StrEnum):
    """How results are broken down."""

    OVERALL = "overall"
    PROVINCE = "province"
    KABUPATEN = "kabupaten"

    @classmethod
    def parse(cls, word: str | None, default: By) -> By:
        aliases = {
            "province": cls.PROVINCE,
            "provinsi": cls.PROVINCE,
            "kabupaten": cls.KABUPATEN,
            "kab": cls.KABUPATEN,
            "kota": cls.KABUPATEN,
            "region": cls.KABUPATEN,
            "wilayah": cls.KABUPATEN,
            "overall": cls.OVERALL,
            "all": cls.OVERALL,
            "semua": cls.OVERALL,
            "none": cls.OVERALL,
        }
        if not word:
            return default
        return aliases.get(word.strip().lower(), default)


@dataclass(frozen=True, slots=True)
class Row:
    """Respondents and each option's count in one group (a region, "other", or all).

    ``code`` is the region code; None is "region not set", ``OTHER`` the folded group."""

    code: str | None
    respondents: int
    counts: tuple[int, ...]

    def share(self, option: int) -> float:
        """The option's share of respondents (multi-select shares add up to over 1)."""
        return self.counts[option] / self.respondents if self.respondents else 0.0

    def __add__(self, other: Row) -> Row:
        return Row(
            self.code,
            self.respondents + other.respondents,
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
        )


OTHER = "*other*"


@dataclass(frozen=True, slots=True)
class Table:
    """A poll's results: overall, the groups big enough to show, and the folded rest."""

    by: By
    overall: Row
    rows: tuple[Row, ...]
    other: Row | None
    folded: tuple[str | None, ...] = ()
    #: how many of the folded groups were big enough but joined to protect a small one
    protecting: int = 0

    @property
    def all_rows(self) -> list[Row]:
        return [*self.rows, *([self.other] if self.other else [])]


def _option_count(option: int) -> Sum:
    """The weighted count of ballots whose answer set holds ``option``, as an SQL ``SUM`` the
    database computes (integer arithmetic picks the option's bit on SQLite and PostgreSQL)."""
    low = CombinedExpression(F("choices"), Connector.div, Value(1 << option))
    high = CombinedExpression(F("choices"), Connector.div, Value(2 << option))
    # choices / 2^i - 2 * (choices / 2^(i+1)) is bit i, with plain integer arithmetic
    # (SQLite's MOD() is an optional math function, so it is not used).
    bit = CombinedExpression(low, Connector.sub, CombinedExpression(high, Connector.mul, Value(2)))
    return Sum(CombinedExpression(F("weight"), Connector.mul, bit))


_COLUMNS = {By.OVERALL: None, By.PROVINCE: "province_code", By.KABUPATEN: "region_code"}


async def raw_rows(poll_id: int, options: int, by: By) -> list[Row]:
    """Per-group rows straight from the database (no folding): one ``GROUP BY`` query."""
    column = _COLUMNS[by]
    sums = {f"o{i}": _option_count(i) for i in range(options)}
    query = TallyCell.filter(poll_id=poll_id).annotate(respondents=Sum("weight"), **sums)
    if column is not None:
        records = await query.group_by(column).values(column, "respondents", *sums)
    else:
        records = await query.values("respondents", *sums)
    rows = []
    for record in records:
        respondents = int(record["respondents"] or 0)
        if not respondents:
            continue
        counts = tuple(int(record[f"o{i}"] or 0) for i in range(options))
        rows.append(Row(record[column] if column else None, respondents, counts))
    return rows


def fold(rows: Iterable[Row], min_size: int, options: int) -> tuple[list[Row], Row | None]:
    """Keep groups with at least ``min_size`` respondents; fold the rest into one "other
    regions" group. If that group is itself too small (but not empty), the next smallest
    groups join it, so no small group can be worked out by subtracting from the total."""
    kept = sorted(rows, key=lambda r: (r.respondents, r.code or ""))
    small = [r for r in kept if r.respondents < min_size]
    kept = [r for r in kept if r.respondents >= min_size]
    if not small:
        return sorted(kept, key=lambda r: r.code or ""), None
    other = Row(OTHER, 0, (0,) * options)
    for row in small:
        other = other + row
    while other.respondents < min_size and kept:
        other = other + kept.pop(0)
    return sorted(kept, key=lambda r: r.code or ""), other


async def tally(poll_id: int, options: int, by: By, min_size: int) -> Table:
    """The results of a poll, broken down ``by`` region level, small groups folded."""
    rows = await raw_rows(poll_id, options, By.OVERALL if by is By.OVERALL else by)
    overall = Row(None, 0, (0,) * options)
    for row in rows:
        overall = overall + row
    overall = Row(None, overall.respondents, overall.counts)
    if by is By.OVERALL:
        return Table(by, overall, (), None)
    kept, other = fold(rows, min_size, options)
    kept_codes = {r.code for r in kept}
    folded_rows = [r for r in rows if r.code not in kept_codes]
    folded = tuple(r.code for r in folded_rows)
    protecting = sum(1 for r in folded_rows if r.respondents >= min_size)
    return Table(by, overall, tuple(kept), other, folded, protecting)


def shares(row: Row) -> Sequence[float]:
    return [row.share(i) for i in range(len(row.counts))]
