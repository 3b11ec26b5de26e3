"""Matching quality: real-world spellings, each with the region it must give or "ask".

Precision must be 100%: a certain answer is always the right region. The share answered
without asking is printed (run with ``-s`` to see it).
"""

from __future__ import annotations

import pytest

from plugins.regions._commands import matcher

ASK = "ask"

#: (what a member typed, the expected code, or ASK when the bot must offer a choice)
SPELLINGS: list[tuple[str, str]] = [
    # the examples
    ("aceh utara", "11.08"),
    ("Kab. Aceh Utara", "11.08"),
    ("acehutara", "11.08"),
    ("Aceh Utra", "11.08"),
    ("lhokseumawe", "11.73"),
    ("NAD", "11"),
    ("sumut", ASK),  # or Sulut: one letter apart
    ("jogja", ASK),  # the city or the province
    ("Bekasi", ASK),
    ("Kabupaten Bekasi", "32.16"),
    ("Kota Bekasi", "32.75"),
    # with and without kind words, upper case, punctuation, spacing
    ("KABUPATEN ACEH UTARA", "11.08"),
    ("kab aceh utara", "11.08"),
    ("Kab.Aceh Utara", "11.08"),
    ("  aceh   utara  ", "11.08"),
    ("Aceh Utara, Aceh", "11.08"),
    ("Kab Aceh Utara Prov Aceh", "11.08"),
    ("bekasi kota", "32.75"),
    ("kab bekasi", "32.16"),
    ("Kota Lhokseumawe", "11.73"),
    ("kota aceh utara", ASK),  # the kind word contradicts the name
    ("11.08", "11.08"),
    # typos
    ("Aceh Utaraa", "11.08"),
    ("Acheh Utara", "11.08"),
    ("Kabupatn Aceh Utara", "11.08"),
    ("Lhoksumawe", "11.73"),
    ("Lhokseumawee", "11.73"),
    ("bireun", "11.11"),
    ("Makasar", "73.71"),
    ("Surabya", "35.78"),
    ("Banjarmasinn", "63.71"),
    ("Pekanbaru", "14.71"),
    ("Pakanbaru", "14.71"),
    ("Deli Serdang", "12.07"),
    ("Deliserdang", "12.07"),
    ("Labuhan Batu", "12.10"),
    ("Tanggerang", ASK),  # typo of a name that is itself ambiguous
    ("Bekasih", ASK),
    ("Jogjakarta", ASK),
    # abbreviations and colloquial names
    ("DIY", "34"),
    ("Jabar", ASK),  # or Jakbar (Jakarta Barat) missing its k
    ("Jatim", ASK),  # or Jaktim
    ("NTT", ASK),  # or NTB
    ("Kaltim", "64"),
    ("Sulsel", ASK),  # or Sumsel
    ("DKI", "31"),
    ("Jaksel", "31.74"),
    ("Jakarta Selatan", "31.74"),
    ("Tangsel", "36.74"),
    ("Solo", "33.72"),
    ("Kep. Seribu", "31.01"),
    ("Sumatra Utara", "12"),
    ("Sumatera Utara", "12"),
    ("Provinsi Aceh", "11"),
    ("Aceh", "11"),
    # old names
    ("Toba Samosir", "12.12"),
    ("Ujung Pandang", "73.71"),
    ("Pare Pare", "73.72"),
    ("Muko Muko", "17.06"),
    ("Mamuju Utara", "76.01"),
    # names shared by a kabupaten and a kota (and a province)
    ("Bogor", ASK),
    ("Kota Bogor", "32.71"),
    ("Kab Bogor", "32.01"),
    ("Malang", ASK),
    ("kota malang", "35.73"),
    ("Bandung", ASK),
    ("Kab. Bandung Barat", "32.17"),
    ("Semarang", ASK),
    ("Kupang", ASK),
    ("Yogyakarta", ASK),
    ("Kota Yogyakarta", "34.71"),
    ("Jambi", ASK),
    ("Gorontalo", ASK),
    ("Tapanuli", ASK),
    ("Solok", ASK),
    # places that are not regions, or nothing useful
    ("Kotabaru", "63.02"),
    ("kota baru", "63.02"),
    ("xyz", ASK),
    ("Jakarta", "31"),
    ("Jakarta Utara", "31.72"),
    # seats and towns people name as home (issue #16)
    ("Takengon", "11.04"),
    ("Meulaboh", "11.05"),
    ("Lhoksukon", "11.08"),
    ("Sigli", "11.07"),  # Pidie, not Kabupaten Sigi in Sulawesi Tengah
    ("Sigi", "72.10"),
    ("Blangpidie", "11.12"),
    ("Kuala Simpang", "11.16"),
    ("Purwokerto", "33.02"),
    ("Cibinong", "32.01"),
    ("Cepu", "33.16"),
    ("Ubud", "51.04"),
    ("Labuan Bajo", "53.15"),
    ("Timika", "94.04"),
    ("Daerah Khusus Ibukota Jakarta", "31"),
    # a town shared by two regions asks
    ("Martapura", ASK),
    ("Tebing Tinggi", ASK),
    ("Kota Tebing Tinggi", "12.76"),
    ("Kuta", ASK),
    ("Tanjung", ASK),
    ("Sukadana", ASK),
]


def _answer(text: str) -> tuple[str, list[str]]:
    found = matcher().match(text)
    codes = [r.code for r in found.candidates]
    if found.certain and found.best is not None:
        return found.best.code, codes
    return ASK, codes


@pytest.mark.parametrize(("typed", "expected"), SPELLINGS, ids=[s for s, _ in SPELLINGS])
def test_spelling(typed: str, expected: str) -> None:
    got, candidates = _answer(typed)
    assert got == expected, f"{typed!r}: got {got} (candidates {candidates})"


def test_precision_is_total_and_share_is_reported() -> None:
    assert len(SPELLINGS) >= 60
    certain = wrong = 0
    for typed, expected in SPELLINGS:
        got, _ = _answer(typed)
        if got != ASK:
            certain += 1
            wrong += got != expected
    assert wrong == 0
    print(
        f"\nregion matching: {len(SPELLINGS)} spellings, {certain} resolved without asking "
        f"({certain / len(SPELLINGS):.0%}), {wrong} wrong (precision 100%)"
    )


def test_asked_lists_hold_the_right_regions() -> None:
    assert {"32.16", "32.75"} <= set(_answer("Bekasi")[1])
    assert {"34", "34.71"} <= set(_answer("jogja")[1])
    assert {"36.03", "36.71"} <= set(_answer("Tanggerang")[1])
    assert _answer("xyz")[1] == []
    assert set(_answer("Martapura")[1]) == {"16.08", "63.03"}  # Sumsel and Kalsel
    assert set(_answer("Tebing Tinggi")[1]) == {"12.76", "16.11"}
    assert set(_answer("Kuta")[1]) == {"51.03", "52.02"}  # Bali and Lombok


def test_long_and_odd_input_is_harmless() -> None:
    assert matcher().match("a" * 10_000).candidates == ()
    assert matcher().match("\u200b\u202e").candidates == ()
    assert matcher().match("🙂🙂🙂").candidates == ()


def test_one_letter_typos_never_land_elsewhere_silently() -> None:
    """A letter dropped from any name or alias is asked, or lands on its own region; the only
    other certain answers are typos that are themselves another region's exact name
    (``badung`` for ``bandung``: Kabupaten Badung is real)."""
    from plugins.regions._gazetteer import compact, gazetteer, normalise, split_kind

    book = gazetteer()
    origins: dict[str, set[str]] = {}
    for code, region in book.regions.items():
        for name in (region.name, *book.aliases.get(code, ())):
            origins.setdefault(name.lower(), set()).add(code)
    checked = 0
    for number, (name, codes) in enumerate(sorted(origins.items())):
        if number % 12:
            continue  # one name in twelve keeps the test quick (the bench covers more)
        for i in range(1, len(name) - 1):
            typo = name[:i] + name[i + 1 :]
            found = matcher().match(typo)
            checked += 1
            if not found.certain or found.best is None or found.best.code in codes:
                continue
            _, core = split_kind(normalise(typo))
            assert {normalise(typo), core, compact(core)} & set(book.index), (
                f"{typo!r} (from {name!r}) silently became {found.best.name}"
            )
    assert checked > 1000


def test_a_short_abbreviation_one_letter_from_another_is_asked_back() -> None:
    """ "jatim" is Jawa Timur's abbreviation, and "jaktim" (Jakarta Timur) with a letter
    dropped: both are offered, the one typed first; the longer names stay certain."""
    for typed, first, other in (("jatim", "35", "31.75"), ("jaktim", "31.75", "35")):
        found = matcher().match(typed)
        assert not found.certain
        assert [r.code for r in found.candidates][:2] == [first, other]
    assert matcher().match("Jawa Timur").certain
    assert matcher().match("Jakarta Timur").certain


def test_names_answered_ahead_are_the_answers_worked_out() -> None:
    """Every name and alias form is answered when the matcher is built; each such answer is
    the one working it out on demand gives (nothing goes stale or differs)."""
    from plugins.regions._match import Matcher

    built = matcher()
    fresh = Matcher(built.gazetteer)
    fresh._known.clear()
    for key in built.gazetteer.index:
        ahead, worked = built.match(key), fresh.match(key)
        assert (ahead.candidates, ahead.certain) == (worked.candidates, worked.certain), key


def test_substring_search_finds_every_name_containing_the_text() -> None:
    """The piece index finds what scanning every name would, wherever the text sits."""
    from plugins.regions._match import _GRAM

    built = matcher()
    keys = [k for k in built.gazetteer.index if " " not in k]
    probes = {k[i : i + n] for k in keys[::7] for n in (_GRAM, 7) for i in (0, 2, len(k) - n)}
    for probe in sorted(p for p in probes if len(p) >= _GRAM):
        expected = {c for k in keys if probe in k for c in built.gazetteer.index[k]}
        assert built._containing(probe) == expected, probe
