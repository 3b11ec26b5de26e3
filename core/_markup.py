"""Neutral markup: a small, safe subset of HTML that every adapter can render.

Text the bot sends is a :class:`Markup` string. Its tags are ``<b>``, ``<i>``, ``<u>``,
``<s>``, ``<code>``, ``<pre>`` and ``<a href="...">``; everything else is text, with
``&``, ``<`` and ``>`` escaped. User-typed text enters markup only through :func:`escape`
(which :meth:`Markup.format` and the translator apply to every argument), so a member called
``<b>Amir</b>`` is shown literally on every platform. Adapters turn markup into their own
format with :func:`parse_markup`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from string import Formatter
from typing import Any, SupportsIndex

__all__ = ["ALLOWED_TAGS", "Markup", "Span", "escape", "parse_markup", "to_plain"]

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a"})


class Markup(str):
    """A string that is already safe neutral markup.

    Concatenating or formatting with plain strings escapes them, as markupsafe does. In
    :meth:`format`, the spec ``cap`` starts the value with a capital letter
    (``"{param:cap} harus berupa angka"``: a name that opens a sentence).
    """

    __slots__ = ()

    def __new__(cls, value: object = "") -> Markup:
        return super().__new__(cls, value)

    def __add__(self, other: str) -> Markup:
        return Markup(str.__add__(self, escape(other)))

    def __radd__(self, other: str) -> Markup:
        return escape(other) + self

    def join(self, parts: Any) -> Markup:
        return Markup(str.join(self, (escape(p) for p in parts)))

    def format(self, *args: Any, **kwargs: Any) -> Markup:
        return Markup(_EscapingFormatter().vformat(self, args, kwargs))

    def __mul__(self, n: SupportsIndex) -> Markup:
        return Markup(str.__mul__(self, n))

    def __repr__(self) -> str:
        return f"Markup({str.__repr__(self)})"


class _EscapingFormatter(Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "cap":
            text = str(value)
            capital = text[:1].upper() + text[1:]
            value, format_spec = (Markup(capital) if isinstance(value, Markup) else capital), ""
        if isinstance(value, Markup):
            return str(value) if not format_spec else format(str(value), format_spec)
        return html.escape(format(value, format_spec), quote=False)


def escape(value: object) -> Markup:
    """Return ``value`` as markup: markup stays as it is, anything else is escaped text."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=False))


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with the formatting that applies to it."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    code: bool = False
    pre: bool = False
    href: str | None = None


class _SpanParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.spans: list[Span] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.handle_data(self.get_starttag_text() or "")
            return
        href = dict(attrs).get("href") if tag == "a" else None
        self._open.append((tag, href))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.handle_data(f"</{tag}>")
            return
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i]
                return

    def handle_data(self, data: str) -> None:
        if not data:
            return
        tags = {t for t, _ in self._open}
        href = next((h for t, h in reversed(self._open) if t == "a"), None)
        self.spans.append(
            Span(
                data,
                bold="b" in tags,
                italic="i" in tags,
                underline="u" in tags,
                strike="s" in tags,
                code="code" in tags,
                pre="pre" in tags,
                href=href,
            )
        )


# Alternative spellings (a command's name on flat and on grouped platforms) travel inside
# markup between private-use characters until the adapter that sends picks one.
ALT_OPEN, ALT_SEP, ALT_CLOSE = "\ue000", "\ue001", "\ue002"
_ALTERNATIVES = re.compile(
    f"{ALT_OPEN}([^{ALT_SEP}{ALT_CLOSE}]*){ALT_SEP}([^{ALT_CLOSE}]*){ALT_CLOSE}"
)


def pick_alternative(text: str, second: bool = False) -> str:
    """Keep the first (or ``second``) spelling of every alternative in ``text``."""
    if ALT_OPEN not in text:
        return text
    picked = _ALTERNATIVES.sub(lambda m: m.group(2 if second else 1), text)
    return Markup(picked) if isinstance(text, Markup) else picked


def parse_markup(text: str) -> list[Span]:
    """Split markup into formatted spans of plain (unescaped) text. Alternatives not yet
    resolved by an adapter read as their first spelling."""
    parser = _SpanParser()
    parser.feed(pick_alternative(str(text)))
    parser.close()
    merged: list[Span] = []
    for span in parser.spans:
        if merged and _same_format(merged[-1], span):
            last = merged.pop()
            span = Span(
                last.text + span.text,
                last.bold,
                last.italic,
                last.underline,
                last.strike,
                last.code,
                last.pre,
                last.href,
            )
        merged.append(span)
    return merged


def _same_format(a: Span, b: Span) -> bool:
    return (a.bold, a.italic, a.underline, a.strike, a.code, a.pre, a.href) == (
        b.bold,
        b.italic,
        b.underline,
        b.strike,
        b.code,
        b.pre,
        b.href,
    )


def to_plain(text: str) -> str:
    """Markup as plain text (links keep their address in brackets)."""
    out: list[str] = []
    for span in parse_markup(text):
        out.append(span.text)
        if span.href and span.href != span.text:
            out.append(f" ({span.href})")
    return "".join(out)
