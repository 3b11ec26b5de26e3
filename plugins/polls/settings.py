"""The ``[polls]`` settings table: group-size threshold, refresh pace and poll templates.

Templates live in config so the PMO can add the next survey without code::

    [polls.templates.incentive]
    aliases = ["insentif"]
    question = { id = "Untuk apa insentif Prakerja Anda gunakan?", en = "..." }
    multiple = true
    options = [{ id = "Bahan pangan", en = "Food" }, ...]
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core import parse_duration

__all__ = ["MAX_OPTIONS", "MIN_OPTIONS", "PollSettings", "Template"]

MIN_OPTIONS = 2
MAX_OPTIONS = 10


def _needs_label(value: dict[str, str]) -> dict[str, str]:
    cleaned = {k.lower(): v.strip() for k, v in value.items() if v and v.strip()}
    if not cleaned:
        raise ValueError("a label needs at least one language, e.g. { id = ..., en = ... }")
    return cleaned


class Template(BaseModel):
    """A poll the PMO runs again and again (each run is a wave)."""

    model_config = ConfigDict(extra="forbid")

    aliases: list[str] = Field(default_factory=list)
    question: dict[str, str]
    options: list[dict[str, str]] = Field(min_length=MIN_OPTIONS, max_length=MAX_OPTIONS)
    multiple: bool = False
    anonymous: bool = True
    results_live: bool = True
    closes_after: str | None = None

    @field_validator("question")
    @classmethod
    def _question(cls, value: dict[str, str]) -> dict[str, str]:
        return _needs_label(value)

    @field_validator("options")
    @classmethod
    def _options(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        return [_needs_label(option) for option in value]

    @field_validator("closes_after")
    @classmethod
    def _closes_after(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value)
            except ValueError:
                raise ValueError(f"closes_after: {value!r} is not a duration like 7d") from None
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        return [a.strip().lower() for a in value if a.strip()]


class PollSettings(BaseModel):
    """Settings of the polls plugin."""

    model_config = ConfigDict(extra="forbid")

    min_group_size: int = Field(default=5, ge=1)
    refresh_seconds: int = Field(default=30, ge=1)
    templates: dict[str, Template] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> PollSettings:
        seen: set[str] = set()
        for name, template in self.templates.items():
            for word in (name.lower(), *template.aliases):
                if word in seen:
                    raise ValueError(f"template name or alias {word!r} is used twice")
                seen.add(word)
        return self

    def template(self, word: str) -> tuple[str, Template] | None:
        """The template called ``word`` (its name or one of its aliases)."""
        wanted = word.strip().lower()
        for name, template in self.templates.items():
            if wanted == name.lower() or wanted in template.aliases:
                return name, template
        return None
