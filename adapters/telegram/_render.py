"""Neutral markup to Telegram HTML: every piece of text escaped, long texts split on line
boundaries, buttons as inline keyboards."""

from __future__ import annotations

import functools
import html
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import RenderedButton, parse_markup
from core._markup import Span

__all__ = [
    "MAX_CAPTION",
    "MAX_TEXT",
    "html_chunks",
    "keyboard",
    "render_html",
    "split_spans",
    "utf16_len",
]

#: Telegram counts message length in UTF-16 code units after entity parsing.
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _span_html(span: Span) -> str:
    text = html.escape(span.text, quote=False)
    if span.pre:
        text = f"<pre>{text}</pre>"
    elif span.code:
        text = f"<code>{text}</code>"
    else:
        # Telegram allows these nested in any order; code and pre allow nothing inside.
        if span.strike:
            text = f"<s>{text}</s>"
        if span.underline:
            text = f"<u>{text}</u>"
        if span.italic:
            text = f"<i>{text}</i>"
        if span.bold:
            text = f"<b>{text}</b>"
    if span.href and _safe_href(span.href):
        text = f'<a href="{html.escape(span.href, quote=True)}">{text}</a>'
    return text


def _safe_href(href: str) -> bool:
    # Telegram rejects the whole message on a bad URL; javascript: and friends are not links.
    return href.startswith(("http://", "https://", "tg://", "mailto:"))


def render_html(spans: list[Span]) -> str:
    """Telegram HTML for already-parsed spans."""
    return "".join(_span_html(s) for s in _flatten_code(spans))


def _flatten_code(spans: list[Span]) -> list[Span]:
    """Telegram allows no formatting inside code and pre: drop it and join the pieces, so
    ``<pre>a <b>b</b></pre>`` stays one block."""
    out: list[Span] = []
    for span in spans:
        if span.pre or span.code:
            span = Span(span.text, pre=span.pre, code=span.code and not span.pre, href=span.href)
            last = out[-1] if out else None
            if last is not None and (last.pre, last.code, last.href) == (
                span.pre,
                span.code,
                span.href,
            ):
                out[-1] = replace(last, text=last.text + span.text)
                continue
        out.append(span)
    return out


def split_spans(text: str, limit: int = MAX_TEXT) -> list[list[Span]]:
    """Parse markup and cut it into chunks of at most ``limit`` characters (UTF-16), at the
    last line break that fits, or mid-line when a single line is longer than ``limit``."""
    spans = parse_markup(text)
    plain = "".join(s.text for s in spans)
    if utf16_len(plain) <= limit:
        return [spans] if plain.strip() else []
    cuts: list[tuple[int, int]] = []
    start = 0
    while start < len(plain):
        end = _fit(plain, start, limit)
        if end < len(plain):
            newline = plain.rfind("\n", start, end)
            if newline > start:
                end = newline + 1
        cuts.append((start, end))
        start = end
    chunks: list[list[Span]] = []
    for begin, end in cuts:
        chunk = _slice(spans, begin, end)
        if "".join(s.text for s in chunk).strip():
            chunks.append(_trim(chunk))
    return chunks


def html_chunks(text: str, limit: int = MAX_TEXT) -> tuple[str, ...]:
    """``text`` as Telegram HTML, cut into messages of at most ``limit`` characters. The
    answer for a text is remembered: the same texts (help, menus, refusals) are sent again
    and again, and parsing them is most of what rendering costs."""
    if len(text) > _REMEMBER_CHARS:
        return _html_chunks(text, limit)
    return _remembered_chunks(text, limit)


#: Texts up to this long are remembered (a few Telegram messages).
_REMEMBER_CHARS = 3 * MAX_TEXT


def _html_chunks(text: str, limit: int) -> tuple[str, ...]:
    return tuple(render_html(chunk) for chunk in split_spans(text, limit))


@functools.lru_cache(maxsize=512)
def _remembered_chunks(text: str, limit: int) -> tuple[str, ...]:
    return _html_chunks(str(text), limit)


def _fit(plain: str, start: int, limit: int) -> int:
    """The largest end such that plain[start:end] is at most ``limit`` UTF-16 units."""
    end = min(len(plain), start + limit)
    while utf16_len(plain[start:end]) > limit:
        end -= max(1, (utf16_len(plain[start:end]) - limit) // 2)
    return end


def _slice(spans: list[Span], begin: int, end: int) -> list[Span]:
    out: list[Span] = []
    offset = 0
    for span in spans:
        lo, hi = offset, offset + len(span.text)
        offset = hi
        if hi <= begin or lo >= end:
            continue
        piece = span.text[max(begin, lo) - lo : min(end, hi) - lo]
        out.append(replace(span, text=piece))
    return out


def _trim(chunk: list[Span]) -> list[Span]:
    """Drop the line breaks a cut leaves at the edges of a chunk."""
    if chunk:
        chunk[0] = replace(chunk[0], text=chunk[0].text.lstrip("\n"))
        chunk[-1] = replace(chunk[-1], text=chunk[-1].text.rstrip("\n"))
    return [s for s in chunk if s.text]


def keyboard(
    rows: tuple[tuple[RenderedButton, ...], ...],
) -> InlineKeyboardMarkup | None:
    """An inline keyboard: a key becomes callback data (the payload stays on the server),
    a URL a link button."""
    built: list[list[InlineKeyboardButton]] = []
    for row in rows:
        line: list[InlineKeyboardButton] = []
        for button in row:
            label = button.label[:64] or "·"
            if button.url:
                line.append(InlineKeyboardButton(label, url=button.url))
            elif button.key is not None:
                if len(button.key.encode()) > MAX_CALLBACK_DATA:
                    raise ValueError(f"button key longer than {MAX_CALLBACK_DATA} bytes")
                line.append(InlineKeyboardButton(label, callback_data=button.key))
        if line:
            built.append(line)
    return InlineKeyboardMarkup(built) if built else None
