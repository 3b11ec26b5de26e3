"""Neutral markup to Discord markdown, and long texts into Discord-sized messages.

Every run of text is escaped (markdown characters and ``@everyone``/``@here``/mention
syntax), so a member called ``**Amir**`` or ``@everyone`` is shown literally. The messages we
send also carry an ``allowed_mentions`` that pings nobody (:data:`NO_PINGS`): escaping is the
first guard, the API flag the second.
"""

from __future__ import annotations

import functools
import re

import discord

from core import parse_markup

__all__ = ["MAX_CHARS", "NO_PINGS", "escape_text", "split_text", "to_markdown"]

#: Discord's limit on a message's content.
MAX_CHARS = 2000

#: Nobody is pinged by what the bot says: not @everyone/@here, not roles, not users, not the
#: author of a message we reply to.
NO_PINGS = discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=False)

# Channel mentions, custom emoji and timestamps (<#1>, <:x:1>, <t:1>) would render too;
# a zero-width space after "<" keeps them literal.
_ANGLE_SYNTAX = re.compile(r"<(?=[#@]|a?:\w|t:-?\d|/[\w -]+:\d)")


def escape_text(text: str) -> str:
    """``text`` as Discord shows it literally: no markdown, no mentions, no pings."""
    text = discord.utils.escape_markdown(text)
    text = discord.utils.escape_mentions(text)
    return _ANGLE_SYNTAX.sub("<\u200b", text)


def _inline_code(text: str) -> str:
    # Inside code nothing can be escaped; a fence longer than any backtick run keeps it whole.
    text = text.replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _code_block(text: str) -> str:
    body = text.strip("\n").replace("```", "`\u200b``")
    return f"```\n{body}\n```"


def _safe_url(href: str) -> str | None:
    href = href.strip()
    if not re.match(r"^https?://", href, re.IGNORECASE) or any(c in href for c in " ()<>"):
        return None
    return href


@functools.lru_cache(maxsize=512)
def to_markdown(markup: str) -> str:
    """Render neutral markup (``<b>``, ``<i>``, ``<u>``, ``<s>``, ``<code>``, ``<pre>``,
    ``<a href>``) as Discord markdown with all text escaped. Remembered for the texts sent
    most (/help, prompts): a pure function of the markup."""
    out: list[str] = []
    for span in parse_markup(markup):
        if span.pre:
            block = _code_block(span.text)
            if out and not out[-1].endswith("\n"):
                block = "\n" + block
            out.append(block + "\n")
            continue
        if span.code:
            piece = _inline_code(span.text)
        else:
            # Markdown wraps a run; whitespace at its edges must stay outside the markers.
            lead = span.text[: len(span.text) - len(span.text.lstrip())]
            trail = span.text[len(span.text.rstrip()) :]
            core_text = span.text.strip()
            if not core_text:
                out.append(span.text)
                continue
            piece = escape_text(core_text)
            if span.href:
                url = _safe_url(span.href)
                if url is not None:
                    piece = url if core_text == span.href else f"[{piece}]({url})"
                else:
                    piece = f"{piece} ({escape_text(span.href)})"
            if span.strike:
                piece = f"~~{piece}~~"
            if span.underline:
                piece = f"__{piece}__"
            if span.italic:
                piece = f"*{piece}*"
            if span.bold:
                piece = f"**{piece}**"
            out.append(f"{lead}{piece}{trail}")
            continue
        if span.bold:
            piece = f"**{piece}**"
        out.append(piece)
    return "".join(out).rstrip("\n")


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split rendered markdown into pieces of at most ``limit`` characters, at line breaks
    where possible, closing and reopening a code block cut in two."""
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    in_block = False
    reserve = len("\n```")  # room to close a code block cut at the end of a piece

    def flush() -> None:
        nonlocal current
        if in_block:
            pieces.append(current.rstrip("\n") + "\n```")
            current = "```\n"
        else:
            pieces.append(current.rstrip("\n"))
            current = ""

    for line in text.split("\n"):
        while True:
            room = limit - reserve - len(current)
            if len(line) + 1 <= room:
                current += line + "\n"
                break
            if current.strip() and current != "```\n":
                flush()
                continue
            # One line longer than a message: cut at a space, else anywhere.
            cut = line.rfind(" ", 0, room)
            cut = cut if cut > room // 2 else room
            current += line[:cut]
            line = line[cut:].lstrip(" ")
            flush()
        if line.startswith("```"):
            in_block = not in_block
    if current.strip() and current != "```\n":
        pieces.append(current.rstrip("\n"))
    return pieces
