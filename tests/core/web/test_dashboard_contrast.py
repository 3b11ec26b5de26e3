"""WCAG AA: every text colour of the dashboard's stylesheet and charts has a contrast of at
least 4.5:1 against the background it is drawn on."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from core.web._svg import BAR, COVERAGE_COLOURS

CSS = resources.files("core.web").joinpath("static/dashboard.css").read_text(encoding="utf-8")
WHITE = "#ffffff"


def _rules() -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        props = dict(
            (k.strip(), v.strip())
            for k, v in (p.split(":", 1) for p in body.split(";") if ":" in p)
        )
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(props)
    return rules


def _hex(value: str) -> str:
    found = re.search(r"#[0-9a-fA-F]{3,6}\b", value)
    assert found, value
    text = found.group(0)[1:]
    return "#" + ("".join(c * 2 for c in text) if len(text) == 3 else text)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(_hex(a)), _luminance(_hex(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


RULES = _rules()
# Rules that set both colours.
BOTH = [(s, p) for s, p in RULES.items() if "color" in p and "background" in p]
# Text set on a background declared by an enclosing rule.
INHERITED = [
    (".top a, .top button.link", RULES[".top a"]["color"], RULES[".top"]["background"]),
    ("a", RULES["a"]["color"], WHITE),
    (".menu a", RULES[".menu a"]["color"], RULES[".menu"]["background"]),
    (".scope", RULES[".scope"]["color"], WHITE),
    (".cards dt", RULES[".cards dt"]["color"], WHITE),
    (".flag", RULES[".flag"]["color"], WHITE),
    (".ok", RULES[".ok"]["color"], WHITE),
    (".foot", RULES[".foot"]["color"], WHITE),
    ("table header", RULES["body"]["color"], RULES["thead th"]["background"]),
    ("error box", RULES["body"]["color"], RULES[".errors"]["background"]),
]


def test_the_stylesheet_declares_colour_pairs() -> None:
    assert len(BOTH) >= 8  # body, header, buttons, the coverage scale...


@pytest.mark.parametrize(("selector", "props"), BOTH, ids=[s for s, _ in BOTH])
def test_rules_with_both_colours(selector: str, props: dict[str, str]) -> None:
    assert contrast(props["color"], props["background"]) >= 4.5, selector


@pytest.mark.parametrize(("name", "fg", "bg"), INHERITED, ids=[n for n, _, _ in INHERITED])
def test_text_on_its_enclosing_background(name: str, fg: str, bg: str) -> None:
    assert contrast(fg, bg) >= 4.5, name


def test_chart_bars_and_labels() -> None:
    assert contrast(BAR, WHITE) >= 4.5  # bars against the page
    assert contrast("#0f172a", WHITE) >= 4.5  # labels


@pytest.mark.parametrize("name", sorted(COVERAGE_COLOURS))
def test_tile_map_colours_are_the_legend_colours_and_readable(name: str) -> None:
    fill, ink = COVERAGE_COLOURS[name]
    assert _hex(RULES[f".{name}"]["background"]) == fill  # the legend shows the map's colours
    assert _hex(RULES[f".{name}"]["color"]) == ink
    assert contrast(ink, fill) >= 4.5, name  # the short name and figure in each square
