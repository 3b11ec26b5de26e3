"""Translation: every user-facing text has an Indonesian (default) and an English entry."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from core._command_names import _PLACEHOLDER, CommandNames, CommandStyle
from core._commands import Command, Param
from core._markup import Markup

__all__ = ["LANGUAGES", "Text", "Translator", "load_texts", "normalize_language"]

log = logging.getLogger(__name__)

#: Languages Guyub speaks, default first.
LANGUAGES: tuple[str, ...] = ("id", "en")


def normalize_language(code: str | None, default: str = "id") -> str:
    """Map a platform language code (``en-US``, ``id``, ``in``) to one Guyub speaks."""
    if not code:
        return default
    base = code.replace("_", "-").split("-", 1)[0].lower()
    if base == "in":  # the old ISO code for Indonesian, still sent by some clients
        base = "id"
    return base if base in LANGUAGES else default


def load_texts(package: str) -> dict[str, dict[str, str]]:
    """Load ``texts/<lang>.toml`` files shipped in ``package`` as {lang: {key: template}}.

    Nested TOML tables become dotted keys: ``[help] title = ...`` is ``help.title``.
    """
    bundle: dict[str, dict[str, str]] = {}
    folder = resources.files(package).joinpath("texts")
    for lang in LANGUAGES:
        entry = folder.joinpath(f"{lang}.toml")
        if entry.is_file():
            bundle[lang] = _flatten(tomllib.loads(entry.read_text(encoding="utf-8")))
    return bundle


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = str(value)
    return out


class Text:
    """A text to translate for whoever receives it: ``Text("events.reminder.dm", id=3)``.

    Pass it wherever a message is sent (``ctx.send_dm(member, Text(...))``, ``ctx.reply``,
    ``ctx.send``): it is translated into the recipient's language (a DM's member, the
    member being answered, or the default language for a group)."""

    __slots__ = ("key", "kwargs")

    def __init__(self, key: str, /, **kwargs: Any) -> None:
        self.key = key
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"Text({self.key!r}, **{self.kwargs!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.key, self.kwargs) == (other.key, other.kwargs)

    __hash__ = None  # type: ignore[assignment]


class Translator:
    """Looks up texts by key and language and fills them in safely.

    Templates are neutral markup with ``{name}`` placeholders; arguments are escaped unless
    they are already :class:`Markup`. ``{cmd:NAME}`` and ``{usage:NAME}`` name a command
    and give its usage line as the member's language and platform (``style``) spell them; a
    :class:`Command` argument renders as its name, a :class:`Param` as its name in the
    language. Without a ``style``, command names stay references that the adapter sending
    the message resolves.
    """

    def __init__(self, default_language: str = "id") -> None:
        self.default_language = default_language
        #: Set by the App once commands are registered.
        self.names: CommandNames | None = None
        self._texts: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        self._owners: dict[str, str] = {}

    def add(self, bundle: Mapping[str, Mapping[str, str]], owner: str = "") -> None:
        for lang, entries in bundle.items():
            target = self._texts.setdefault(lang, {})
            for key, template in entries.items():
                previous = self._owners.get(key)
                if previous is not None and previous != owner and lang == LANGUAGES[0]:
                    log.warning("text %r from %s overrides the one from %s", key, owner, previous)
                target[key] = template
                self._owners.setdefault(key, owner)

    def has(self, key: str, lang: str | None = None) -> bool:
        return key in self._texts.get(lang or self.default_language, {})

    def keys(self, lang: str) -> set[str]:
        return set(self._texts.get(lang, {}))

    def template(self, key: str, lang: str | None = None) -> str:
        lang = normalize_language(lang, self.default_language)
        for candidate in (lang, self.default_language, *LANGUAGES):
            template = self._texts.get(candidate, {}).get(key)
            if template is not None:
                return template
        log.error("missing text %r", key)
        return key

    def __call__(
        self,
        key: str,
        lang: str | None = None,
        style: CommandStyle | None = None,
        /,
        **kwargs: Any,
    ) -> Markup:
        lang = normalize_language(lang, self.default_language)
        raw = self.template(key, lang)
        if self.names is None:
            # A translator outside an App (adapter tests, tools): plain canonical names.
            raw = _PLACEHOLDER.sub(lambda m: f"/{m.group(2)}", raw)
        else:
            raw = self.names.expand(raw, lang, style)
            for name, value in kwargs.items():
                if isinstance(value, Command):
                    kwargs[name] = self.names.name(value, lang, style)
                elif isinstance(value, Param):
                    kwargs[name] = self.names.param(value, lang)
        template = Markup(raw)
        if not kwargs:
            return template
        try:
            return template.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            log.exception("text %r could not be filled with %s", key, sorted(kwargs))
            return template
