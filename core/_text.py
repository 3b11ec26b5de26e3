"""Hostile text from platforms, made safe once where it enters the core.

Every string a platform hands us (message text, command arguments, display names, form
answers) may hold lone surrogates (which can't be encoded, so the database or a send
raises), NUL (PostgreSQL refuses it) or terminal control characters. Events clean their
strings when they are built (see ``core._events``), so every adapter is covered and no
plugin sees them. Numbers typed as ids are bounded here too: SQLite raises OverflowError on
integers over 2^63 and PostgreSQL's ``integer`` ends at 2^31.
"""

from __future__ import annotations

import re

__all__ = ["MAX_ID", "clean_line", "clean_platform_text", "parse_id", "terminal_safe"]

#: The largest row id a command accepts (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1

# C0 controls except tab and newline, DEL, and C1 controls.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")


def _no_lone_surrogates(text: str) -> str:
    if not _SURROGATES.search(text):
        return text
    # A well-formed pair (as some JSON decoders leave it) becomes its character; a lone half
    # becomes U+FFFD.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_platform_text(text: str) -> str:
    """Text as the core accepts it: line breaks as ``\\n``, lone surrogates replaced by
    U+FFFD, NUL and other control characters (except tab and newline) removed."""
    if not isinstance(text, str):
        return text
    if text.isascii() and text.isprintable():
        return text  # the common case: nothing to change (no control, break or surrogate)
    text = _BREAKS.sub("\n", _no_lone_surrogates(text))
    return _CONTROLS.sub("", text)


def clean_line(text: str) -> str:
    """:func:`clean_platform_text` on one line (names, titles): breaks and tabs become spaces."""
    if not isinstance(text, str):
        return text
    if text.isascii() and text.isprintable():
        return text
    return clean_platform_text(text).replace("\n", " ").replace("\t", " ")


def parse_id(text: str) -> int | None:
    """A row id typed by a member (``"42"``, ``"#42"``): ASCII digits only, 1..MAX_ID;
    None for anything else, so a huge or odd number is "not found", never an error."""
    text = text.strip().removeprefix("#")
    if not (0 < len(text) <= 10 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


_VISIBLE = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}


def terminal_safe(text: str) -> str:
    """``text`` fit for a terminal: control characters (ESC, BEL, NUL...) shown as their
    Unicode pictures (␛, ␇, ␀), C1 and bidi controls as ``<U+202E>``, lone surrogates as
    U+FFFD; newlines and tabs kept."""
    out = []
    for char in _no_lone_surrogates(text):
        code = ord(char)
        if char in "\n\t":
            out.append(char)
        elif code in _VISIBLE:
            out.append(_VISIBLE[code])
        elif 0x80 <= code <= 0x9F or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(f"<U+{code:04X}>")
        else:
            out.append(char)
    return "".join(out)
