"""Matching what people type to regions, without ever placing a member silently wrong.

The order of attempts:

1. a Kemendagri code (``11.08``);
2. an exact hit on a normalised name or alias, with or without the kind words and spaces
   (``Kab. Aceh Utara``, ``acehutara``, ``NAD``, ``sumut``): one code is certain, several
   (``bekasi``: the kabupaten and the kota) are asked, and a kind word narrows them
   (``kota bekasi``);
3. a fuzzy match (rapidfuzz) for typos (``Aceh Utra``): certain only when the best name is
   very close, names one region only, and clearly beats every other region; anything else
   becomes a short ranked list to pick from.

``Aceh Utara, Aceh`` (a province after a comma) keeps only regions in that province.
"""

from __future__ import annotations

import math
import re

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from core import RegionInfo, RegionMatch
from plugins.regions._gazetteer import (
    PROVINCE,
    Gazetteer,
    compact,
    normalise,
    split_kind,
)

__all__ = ["CERTAIN_SCORE", "MARGIN", "Matcher"]

#: A fuzzy match this close (rapidfuzz ``ratio``, 0-100) may be certain...
CERTAIN_SCORE = 88.0
#: ...when no other region scores within this many points of it.
MARGIN = 10.0
#: Shorter typed names are never fuzzily certain: too many names are a letter apart.
MIN_FUZZY_CERTAIN_LENGTH = 6
#: Candidates below this (rapidfuzz ``WRatio``) are not worth offering.
LIST_SCORE = 72.0
MAX_CANDIDATES = 6
_EXTRACT_CUTOFF = min(LIST_SCORE, CERTAIN_SCORE - MARGIN)
#: Distinct typed names whose answers are kept.
_REMEMBERED = 10_000
MAX_INPUT = 80

_CODE = re.compile(r"^\d{2}(\.\d{2})?$")
_PROVINCE_AFTER = re.compile(r"\s*(?:[,/(]|\b(?:prov|provinsi|propinsi)\b\.?)\s*", re.I)
_KIND_ORDER = {"kabupaten": 0, "kota": 1, PROVINCE: 2}


def _split_province(text: str) -> tuple[str, str]:
    """``Aceh Utara, Aceh`` / ``Kab Aceh Utara Prov Aceh`` → the region and the province."""
    found = _PROVINCE_AFTER.search(text)
    if found is None or not text[: found.start()].strip():
        return text, ""
    return text[: found.start()], text[found.end() :].strip(" )")


class Matcher:
    """Fuzzy region matching over a :class:`Gazetteer`, entirely in memory."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self._keys = list(gazetteer.index)
        # A probe without spaces is only compared with keys without spaces: half the work.
        self._compact_keys = [k for k in self._keys if " " not in k]
        # Substring search over one string of all keys (C speed instead of a loop).
        self._blob = _Blob(self._compact_keys, gazetteer.index)

        self._confusable = _confusable_abbreviations(gazetteer)
        self._reach: dict[int, list[str]] = {}
        self._answers: dict[str, RegionMatch] = {}
        # Every name and alias in every searchable form is answered once, here: what most
        # members type is then one dictionary lookup after normalising (static data).
        self._known: dict[str, RegionMatch] = {}
        for key in self._keys:
            kind, core = split_kind(key)
            answer = self._exact(key, kind, core)
            assert answer is not None  # every key is an exact hit of itself
            self._known[key] = answer

    def _within_reach(self, length: int) -> list[str]:
        """Keys long or short enough to score ``_EXTRACT_CUTOFF`` against a text of
        ``length``: ratio is at most 2*min/(sum) of the two lengths."""
        keys = self._reach.get(length)
        if keys is None:
            c = _EXTRACT_CUTOFF / 100
            low = math.ceil(length * c / (2 - c) - 1e-9)
            high = math.floor(length * (2 - c) / c + 1e-9)
            keys = [k for k in self._compact_keys if low <= len(k) <= high]
            self._reach[length] = keys
        return keys

    def _containing(self, probe: str) -> set[str]:
        """Codes of every key (without spaces) that contains ``probe``."""
        return self._blob.codes_containing(probe)

    def match(self, text: str) -> RegionMatch:
        """Regions matching ``text``, best first; ``certain`` only when nothing is in doubt."""
        text = text.strip()[:MAX_INPUT]
        if _CODE.match(text):
            found = self.gazetteer.get(text)
            return RegionMatch((found,), certain=True) if found else RegionMatch(())
        head, tail = _split_province(text)
        within = self._province(tail) if tail.strip() else None
        result = self._match(head)
        if within is None:
            return result
        inside = tuple(r for r in result.candidates if r.code == within or r.parent_code == within)
        if not inside:
            return RegionMatch(result.candidates, certain=False)
        # The province only narrows a list; it never makes a doubtful name certain.
        return RegionMatch(inside, certain=result.certain and result.best in inside)

    def _province(self, text: str) -> str | None:
        found = self._match(text)
        best = found.best
        if found.certain and best is not None and best.kind == PROVINCE:
            return best.code
        return None

    def _match(self, text: str) -> RegionMatch:
        norm = normalise(text)
        known = self._known.get(norm)
        if known is not None:
            return known
        if not norm:
            return RegionMatch(())
        # Members of one area type the same few names: answers (immutable, over static
        # data) are remembered per normalised text.
        found = self._answers.get(norm)
        if found is None:
            found = self._answer(norm)
            if len(self._answers) >= _REMEMBERED:
                self._answers.clear()
            self._answers[norm] = found
        return found

    def _answer(self, norm: str) -> RegionMatch:
        kind, core = split_kind(norm)
        exact = self._exact(norm, kind, core)
        if exact is not None:
            return exact
        if not core or len(compact(core)) < 4:
            return RegionMatch(())
        return self._fuzzy(norm, kind, core)

    # --- exact -----------------------------------------------------------------------

    def _exact(self, norm: str, kind: str | None, core: str) -> RegionMatch | None:
        index = self.gazetteer.index
        # A short abbreviation one letter from another region's ("jatim" / "jaktim") may be
        # a typo of the other: both are offered.
        neighbours = self._confusable.get(compact(norm))
        if neighbours is not None:
            typed = index[compact(norm)]
            return RegionMatch(
                self._ordered(typed) + self._ordered(neighbours - typed), certain=False
            )
        # The whole text first: "kota baru" is Kabupaten Kotabaru, not a kota called Baru.
        for probe in (norm, compact(norm)):
            codes = index.get(probe)
            if codes:
                return self._decide(codes, None)
        if not core:
            return None
        for probe in (core, compact(core)):
            codes = index.get(probe)
            if codes:
                return self._decide(codes, kind)
        return None

    def _decide(self, codes: frozenset[str], kind: str | None) -> RegionMatch:
        narrowed = [c for c in codes if kind is None or self.gazetteer.regions[c].kind == kind]
        if len(narrowed) == 1:
            return RegionMatch((self.gazetteer.regions[narrowed[0]],), certain=True)
        # Several regions, or the kind word contradicts the name ("kota aceh utara"): ask.
        return RegionMatch(self._ordered(narrowed or codes), certain=False)

    def _ordered(self, codes: object) -> tuple[RegionInfo, ...]:
        regions = [self.gazetteer.regions[c] for c in codes]  # type: ignore[attr-defined]
        regions.sort(key=lambda r: (_KIND_ORDER.get(r.kind, 3), r.code))
        return tuple(regions)

    # --- fuzzy -----------------------------------------------------------------------

    def _fuzzy(self, norm: str, kind: str | None, core: str) -> RegionMatch:
        index = self.gazetteer.index
        query = core or norm
        close: dict[str, float] = {}  # code -> best rapidfuzz ratio, for certainty and order
        partial: set[str] = set()  # codes whose name contains the typed text ("tapanuli")
        # The index holds every name without spaces too, so comparing the text without
        # spaces with those keys finds what comparing it with spaces would (at half the cost).
        probes = {compact(query)}
        if core and core != norm:
            probes.add(compact(norm))
        for probe in probes:
            # ratio is cheap (a bit-parallel Indel distance); the slower WRatio is not needed
            # because partial names are found by the substring scan below.
            keys = self._within_reach(len(probe))
            # Below LIST_SCORE a name is neither listed nor close enough to spoil a certain
            # best (>= CERTAIN_SCORE, so a runner-up under CERTAIN_SCORE - MARGIN can't).
            for key, score, _ in process.extract(
                probe, keys, scorer=fuzz.ratio, limit=20, score_cutoff=_EXTRACT_CUTOFF
            ):
                for code in index[key]:
                    close[code] = max(close.get(code, 0.0), float(score))
            if len(probe) >= _GRAM:
                partial.update(self._containing(probe))
        for code in partial:
            close.setdefault(code, 0.0)
        if kind is not None:
            of_kind = {c for c in close if self.gazetteer.regions[c].kind == kind}
            if of_kind:
                close = {c: s for c, s in close.items() if c in of_kind}
        ranked = sorted(close, key=lambda c: (-close[c], c))
        certain = False
        if ranked and len(compact(query)) >= MIN_FUZZY_CERTAIN_LENGTH:
            best = close[ranked[0]]
            runner_up = close[ranked[1]] if len(ranked) > 1 else 0.0
            certain = best >= CERTAIN_SCORE and best - runner_up >= MARGIN
        order = [c for c in ranked if close[c] >= LIST_SCORE or c in partial]
        if certain:
            order = [ranked[0], *(c for c in order if c != ranked[0])]
        regions = tuple(self.gazetteer.regions[c] for c in order[:MAX_CANDIDATES])
        return RegionMatch(regions, certain=certain and bool(regions))


#: Length of the pieces of keys indexed for substring search (the shortest probe searched).
_GRAM = 5


class _Blob:
    """Every key by each piece of ``_GRAM`` letters it contains, for finding every key that
    contains a longer piece of text: only the keys sharing its rarest piece are looked at."""

    def __init__(self, keys: list[str], index: dict[str, frozenset[str]]) -> None:
        grams: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for key in keys:
            for gram in {key[i : i + _GRAM] for i in range(len(key) - _GRAM + 1)}:
                grams.setdefault(gram, []).append((key, index[key]))
        self.grams = grams

    def codes_containing(self, probe: str) -> set[str]:
        if len(probe) < _GRAM:
            raise ValueError(f"probes are at least {_GRAM} letters long")
        # The keys holding the probe's rarest piece ("kabup" is in hundreds of keys).
        grams = self.grams
        shortest: list[tuple[str, frozenset[str]]] | None = None
        for i in range(len(probe) - _GRAM + 1):
            keys = grams.get(probe[i : i + _GRAM])
            if keys is None:
                return set()  # a piece no key holds: no key holds the probe
            if shortest is None or len(keys) < len(shortest):
                shortest = keys
        found: set[str] = set()
        for key, codes in shortest or ():
            if probe in key:
                found.update(codes)
        return found


#: Abbreviations this short or shorter may be a typo of one another.
SHORT_ABBREVIATION = 6


def _confusable_abbreviations(gazetteer: Gazetteer) -> dict[str, frozenset[str]]:
    """Each short alias (not a region's own name) that is one edit from another region's
    short alias, with the codes of those other regions."""
    names = {compact(split_kind(normalise(r.name))[1]) for r in gazetteer.regions.values()}
    short = sorted(
        {
            key
            for values in gazetteer.aliases.values()
            for alias in values
            if 3 <= len(key := compact(normalise(alias))) <= SHORT_ABBREVIATION
            and key not in names
            and key in gazetteer.index
        }
    )
    out: dict[str, frozenset[str]] = {}
    for key in short:
        mine = gazetteer.index[key]
        others: set[str] = set()
        for other, _, _ in process.extract(
            key, short, scorer=Levenshtein.distance, score_cutoff=1, limit=None
        ):
            if other != key:
                others |= gazetteer.index[other] - mine
        if others:
            out[key] = frozenset(others)
    return out
