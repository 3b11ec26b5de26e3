"""Region matching speed: matches per second over 10,000 typed names, and dataset load time.

The mix is built from the shipped data with a fixed seed: exact names, short names and
aliases, ``Kab.``/``Kota`` prefixes, upper/lower case, names without spaces, and typos (a
letter dropped, doubled, swapped or replaced). The baseline is an exact dictionary lookup of
the normalised text in the same process: the ratio says what fuzzy matching costs over it.

Run: ``.venv/bin/python bench/region_match.py``
"""

from __future__ import annotations

import os
import random
import string
import time

from plugins.regions._gazetteer import gazetteer, normalise
from plugins.regions._match import Matcher

TYPED = 10_000
SEED = 20261123


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2:
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1 :]


def typed_names(count: int = TYPED) -> list[tuple[str, frozenset[str]]]:
    """What members type, drawn from the data with a fixed seed, with the codes it came from."""
    rng = random.Random(SEED)
    book = gazetteer()
    pool = [(r.name, r.code) for r in book.regions.values()]
    pool += [(a, code) for code, values in book.aliases.items() for a in values]
    # A name that several regions share ("Bekasi") may be any of them.
    sources: dict[str, set[str]] = {}
    for name, code in pool:
        sources.setdefault(name, set()).add(code)
    out: list[tuple[str, frozenset[str]]] = []
    while len(out) < count:
        base, _ = rng.choice(pool)
        origin = frozenset(sources[base])
        text = _shape(rng, base)
        out.append((text, origin))
    return out


def _shape(rng: random.Random, base: str) -> str:
    shape = rng.randrange(6)
    if shape == 0:
        return base
    if shape == 1:
        return base.lower()
    if shape == 2:
        return base.upper().replace(" ", "")
    if shape == 3:
        return "Kab. " + base if not base.startswith(("Kab", "Kota")) else base
    return _typo(rng, base.lower())


def main() -> None:
    # The shipped data as the bot reads it (regions, aliases, seats and towns): the names
    # typed below are drawn from the same data.
    started = time.perf_counter()
    book = gazetteer.__wrapped__()
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    matcher = Matcher(book)
    index_seconds = time.perf_counter() - started

    mix = typed_names()
    names = [text for text, _ in mix]
    matcher.match("aceh utara")  # warm up rapidfuzz

    # Cold: every name matched by a fresh matcher (nothing remembered); then warm: the same
    # names again, as a bot hears the same few names from one area's members.
    cold_matcher = Matcher(book)
    cold_matcher.match("aceh utara")
    # CPU seconds too: on a machine shared with other work, wall time counts theirs.
    started, cpu = time.perf_counter(), time.process_time()
    for text in names:
        cold_matcher._answers.clear()
        cold_matcher.match(text)
    cold_seconds = time.perf_counter() - started
    cold_cpu = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    answers = [matcher.match(text) for text in names]
    fuzzy_seconds = time.perf_counter() - started
    fuzzy_cpu = time.process_time() - cpu
    certain = sum(a.certain for a in answers)
    # A random typo can turn one name into another region's exact name ("sigli" -> "sigi",
    # "kotabaru" -> "kotabatu"): the member typed that region, and naming it is right. Any
    # other certain answer outside the source region is wrong.
    elsewhere = exact_other = 0
    for a, (text, origin) in zip(answers, mix, strict=True):
        if a.certain and a.best is not None and a.best.code not in origin:
            norm = normalise(text)
            if a.best.code in book.index.get(norm, book.index.get(norm.replace(" ", ""), ())):
                exact_other += 1
            else:
                elsewhere += 1

    started = time.perf_counter()
    hits = 0
    for text in names:
        hits += normalise(text) in book.index
    exact_seconds = time.perf_counter() - started

    fuzzy_rate = len(names) / fuzzy_seconds
    exact_rate = len(names) / exact_seconds
    print(f"machine: {os.cpu_count()} CPUs (shared with other sessions; figures are noisy)")
    print(
        f"dataset load (5 CSVs, {len(book.regions)} regions, {len(book.index)} keys): "
        f"{load_seconds * 1000:.1f} ms; matcher index {index_seconds * 1000:.1f} ms"
    )
    print(f"typed names: {len(names)} (seed {SEED})")
    cold_rate = len(names) / cold_seconds
    print(
        f"match, nothing remembered: {cold_rate:>12,.0f} matches/s"
        f"  ({len(names) / cold_cpu:,.0f} per CPU second)"
    )
    print(
        f"match (first pass):        {fuzzy_rate:>12,.0f} matches/s"
        f"  ({len(names) / fuzzy_cpu:,.0f} per CPU second; {certain / len(names):.1%} certain)"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"baseline (exact):  {exact_rate:>12,.0f} lookups/s  ({hits / len(names):.1%} found)")
    print(f"certain answers outside the source region: {elsewhere} (goal 0)")
    print(f"typos that are another region's exact name, answered as that region: {exact_other}")
    print(f"ratio baseline/match: {exact_rate / fuzzy_rate:.1f}x slower than an exact lookup")
    print(f"ratio baseline/match, nothing remembered: {exact_rate / cold_rate:.1f}x")


if __name__ == "__main__":
    main()
