"""The display-name guard: a name the bot shows can't carry a scam.

A Telegram user named ``Admin Prakerja - cairkan insentif: https://bit.ly/prakerja-cair`` was
greeted with that text, so the bot advertised the scam. Every name the bot may show (from a
platform profile, or typed at registration) goes through :func:`guard_name`: links and
``@handles`` removed, invisible fillers (U+3164, the braille blank...) and control characters
dropped, the length capped; a name posing as an official ("admin", "PMO", "Prakerja" with an
official word) is replaced by a neutral ``Alumni NNNN`` and flagged, so captains can look.

Names stored before the guard existed (or written by raw SQL) are guarded again whenever they
are read: the name columns are :class:`ShownNameField`, whose value from the database goes
through :func:`shown_name` (the guard is idempotent, so a name guarded once stays as it was).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tortoise import fields

from core._text import clean_line

__all__ = [
    "MAX_NAME_CHARS",
    "NameCheck",
    "ShownNameField",
    "guard_name",
    "neutral_name",
    "shown_name",
]

#: The longest name the bot shows.
MAX_NAME_CHARS = 40

_URL = re.compile(
    r"(?:https?://|www\.)\S*"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|id|co|ly|me|io|xyz|site|link|info|biz|top|click"
    r"|online|app|gl|to|cc|us|ru|tk|ml|ga|cf)\b(?:/\S*)?"
    r"|\bt\.me/\S*",
    re.I,
)
_HANDLE = re.compile(r"@\w+")
# Characters that show as nothing (or as a blank) and let a name look empty or like another.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
_SPACES = re.compile(r"[\s\u2000-\u200a\u202f\u205f\u3000]+")

_OFFICIAL = {
    "admin",
    "administrator",
    "adm",
    "pmo",
    "moderator",
    "official",
    "resmi",
    "cs",
    "helpdesk",
    "kemnaker",
    "kemenko",
    "verifikator",
    "petugas",
}
_PRAKERJA_OFFICIAL = {
    "tim",
    "team",
    "pusat",
    "info",
    "bantuan",
    "layanan",
    "support",
    "kartu",
    "cair",
    "cairkan",
    "pencairan",
    "insentif",
    "kantor",
    "hotline",
    "care",
    "service",
}
_LEET = str.maketrans("013457$", "oieasts")


@dataclass(frozen=True, slots=True)
class NameCheck:
    """The name to show, and whether the original posed as an official."""

    shown: str
    impersonating: bool = False
    changed: bool = False


def neutral_name(seed: str) -> str:
    """A stable, neutral name (``Alumni 4821``) for someone whose own name can't be shown."""
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()
    return f"Alumni {int(digest[:8], 16) % 10000:04d}"


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).translate(_LEET)
    return re.findall(r"[a-z]+", plain)


def _impersonates(text: str) -> bool:
    words = _words(text)
    found = set(words)
    joined = "".join(words)
    if found & _OFFICIAL or "customerservice" in joined or "adminprakerja" in joined:
        return True
    return "prakerja" in joined and bool(found & _PRAKERJA_OFFICIAL)


def guard_name(raw: str, *, seed: str = "") -> NameCheck:
    """``raw`` made fit to show: see the module docstring. ``seed`` (a stable id) picks the
    neutral name used when nothing showable is left or the name poses as an official.

    Every update carries its sender's name, and people keep theirs: the answer for a
    short name is remembered (a pure function of its arguments)."""
    if len(raw) <= _REMEMBER_CHARS and len(seed) <= _REMEMBER_CHARS:
        return _remembered(raw, seed)
    return _guard(raw, seed)


#: Names up to this long are remembered (platform names are 64–256 characters at most).
_REMEMBER_CHARS = 256


@lru_cache(maxsize=8192)
def _remembered(raw: str, seed: str) -> NameCheck:
    return _guard(raw, seed)


def _guard(raw: str, seed: str) -> NameCheck:
    text = clean_line(unicodedata.normalize("NFKC", raw))
    impersonating = _impersonates(text)
    shown = _INVISIBLE.sub("", text)
    shown = _HANDLE.sub(" ", _URL.sub(" ", shown))
    # Stacked combining marks ("zalgo") spill over other lines: keep at most two per letter.
    shown = re.sub(r"([\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff]{2})[\u0300-\u036f]+", r"\1", shown)
    shown = re.sub(r"\(\s*\)|\[\s*\]|\{\s*\}", " ", shown)
    shown = _SPACES.sub(" ", shown).strip(" -:|,;/\\([{")
    if len(shown) > MAX_NAME_CHARS:
        shown = shown[: MAX_NAME_CHARS - 1].rstrip() + "…"
    # What is left can pose as an official once a link is gone ("adminhttps://x" → "admin").
    impersonating = impersonating or _impersonates(shown)
    if impersonating or not any(c.isalnum() for c in shown):
        shown = neutral_name(seed or raw)
    return NameCheck(shown, impersonating, shown != raw)


@lru_cache(maxsize=4096)
def shown_name(stored: str) -> str:
    """A stored name as the bot may show it: :func:`guard_name` of it (seeded by the text
    itself, having no id), except that an empty name stays empty (no name given yet)."""
    if not stored:
        return stored
    return guard_name(stored, seed=stored).shown


class ShownNameField(fields.CharField[str]):
    """A name column whose values are guarded as they are read (and as models are built):
    a name stored before the guard existed, or by a raw query, is never shown raw."""

    def to_python_value(self, value: Any) -> Any:
        value = super().to_python_value(value)
        return shown_name(value) if isinstance(value, str) else value
