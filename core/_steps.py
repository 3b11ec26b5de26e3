"""Declarative flow steps: a flow as a list of questions, beside the handler style.

Each :class:`Step` names its prompt (a text key, or a function for a dynamic one), a parser
that turns the member's answer into a value, and checks; the core asks, re-asks with the
reason when an answer is refused, stores every answer in the conversation (in the database,
so a restart resumes at the same question) and finally calls ``done(ctx, answers)``::

    Flow.of_steps(
        "jobs:new",
        [
            Step("title", "jobs.ask.title", check=max_length(80)),
            Step("closes", "jobs.ask.closes", parse=parse_date),
        ],
        done=save_vacancy,
    )

and ``await ctx.start_steps("jobs:new", region="11.08")`` starts it (answers given up front
are not asked). ``/cancel`` leaves it, as any flow.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core._adapter import Capability
from core._i18n import LANGUAGES
from core._markup import Markup, to_plain
from core._messages import FORM_TEXT_LIMIT, Form, FormField, fit

if TYPE_CHECKING:
    from core._context import Context
    from core._i18n import Translator
    from core._specs import Flow

__all__ = ["Invalid", "LongFormText", "Step", "long_form_texts", "max_length", "run_steps"]

#: ``parse(text)`` or ``parse(ctx, text)``, sync or async; returns a JSON-serialisable value.
Parser = Callable[..., Any]
#: ``check(value)`` or ``check(ctx, value)``: raise :class:`Invalid` to refuse.
Check = Callable[..., Any]
Prompt = str | Callable[["Context", Mapping[str, Any]], Awaitable[Markup | str]]
Done = Callable[["Context", dict[str, Any]], Awaitable[None]]


class Invalid(Exception):
    """An answer refused: ``key`` (a text key) says why, ``kwargs`` fill it. The step is
    asked again."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


@dataclass(frozen=True, slots=True)
class Step:
    """One question of a declarative flow. ``name`` is the key of the answer; ``prompt`` a
    text key (or ``async prompt(ctx, answers)``); ``parse`` turns the typed text into the
    value (a ``ValueError`` re-asks with ``error``); each of ``checks`` may raise
    :class:`Invalid`. Values must be JSON-serialisable (they are stored). ``label`` (a
    text key, at most 45 characters once translated: a longer one is cut at a word and
    warned about at start-up) lets the flow be one form where the platform has forms
    (Discord modals); ``long`` makes that field multi-line."""

    name: str
    prompt: Prompt
    parse: Parser | None = None
    checks: tuple[Check, ...] = ()
    error: str = "core.steps.invalid"
    label: str | None = None
    long: bool = False

    def __init__(
        self,
        name: str,
        prompt: Prompt,
        parse: Parser | None = None,
        *,
        check: Check | Sequence[Check] = (),
        error: str = "core.steps.invalid",
        label: str | None = None,
        long: bool = False,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "prompt", prompt)
        object.__setattr__(self, "parse", parse)
        checks = tuple(check) if isinstance(check, Sequence) else (check,)
        object.__setattr__(self, "checks", checks)
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "long", long)


def max_length(limit: int) -> Check:
    """A check: the text is at most ``limit`` characters."""

    def check(value: Any) -> None:
        if len(str(value)) > limit:
            raise Invalid("core.steps.too_long", limit=limit)

    return check


def _wants_context(function: Callable[..., Any]) -> bool:
    """Whether ``function`` takes ``(ctx, value)`` rather than ``(value)`` (``int`` and
    other builtins take the value)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(required) >= 2


async def _call(function: Callable[..., Any], ctx: Context, value: Any) -> Any:
    takes_ctx = _wants_context(function)
    result = function(ctx, value) if takes_ctx else function(value)
    return await result if inspect.isawaitable(result) else result


async def ask(ctx: Context, step: Step, answers: Mapping[str, Any]) -> None:
    """Send ``step``'s prompt."""
    if isinstance(step.prompt, str):
        await ctx.reply(ctx.t(step.prompt, **{k: v for k, v in answers.items()}))
    else:
        await ctx.reply(await step.prompt(ctx, answers))


def _next(steps: Sequence[Step], answers: Mapping[str, Any]) -> Step | None:
    return next((s for s in steps if s.name not in answers), None)


#: The action a submitted steps form runs (registered by the core's own plugin).
FORM_ACTION = "core:steps"
_FORM_LIMIT = 5  # Discord modals hold five fields


async def _accept(ctx: Context, step: Step, text: str) -> Any:
    """The value of ``text`` for ``step``; raises :class:`Invalid`."""
    value: Any = text.strip()
    if step.parse is not None:
        try:
            value = await _call(step.parse, ctx, value)
        except ValueError:
            raise Invalid(step.error, text=text.strip()[:64]) from None
    for check in step.checks:
        await _call(check, ctx, value)
    return value


async def _as_form(ctx: Context, flow: str, steps: Sequence[Step], answers: dict[str, Any]) -> bool:
    """Ask every open step at once where the platform has forms; False if not shown."""
    open_steps = [s for s in steps if s.name not in answers]
    if (
        not open_steps
        or len(open_steps) > _FORM_LIMIT
        or not all(s.label for s in open_steps)
        or not ctx.supports(Capability.MODALS)
    ):
        return False
    spec = ctx.app.flows[flow]
    title_key = spec.title or open_steps[0].label
    assert title_key is not None
    form = Form(
        fit(to_plain(ctx.t(title_key))),
        tuple(
            FormField(s.name, fit(to_plain(ctx.t(s.label))), long=s.long)
            for s in open_steps
            if s.label is not None
        ),
        FORM_ACTION,
        {"flow": flow, "answers": answers},
    )
    return await ctx.show_form(form)


@dataclass(frozen=True, slots=True)
class LongFormText:
    """A form title or step label longer than a form shows, in one language."""

    key: str
    language: str
    text: str

    @property
    def shown(self) -> str:
        """What the member sees: the text cut at a word, with "…"."""
        return fit(self.text)


def long_form_texts(flow: Flow, translator: Translator) -> list[LongFormText]:
    """The title and step labels of ``flow`` over :data:`FORM_TEXT_LIMIT` characters once
    translated, in each language that has them (checked when flows are registered, so an
    author learns at start-up, not from a member's cut-off form)."""
    keys = [flow.title, *(s.label for s in flow.steps)]
    found: list[LongFormText] = []
    for key in dict.fromkeys(k for k in keys if k):
        for lang in LANGUAGES:
            if not translator.has(key, lang):
                continue
            text = to_plain(translator(key, lang))
            if len(text) > FORM_TEXT_LIMIT:
                found.append(LongFormText(key, lang, text))
    return found


async def form_submitted(ctx: Context, data: dict[str, Any]) -> None:
    """A steps form came back: take every answer; if some are refused, say why and ask those
    again step by step (the accepted answers are kept)."""
    flow = str(data.get("flow", ""))
    spec = ctx.app.flows.get(flow)
    if spec is None or not spec.steps or spec.done is None:
        await ctx.reply(ctx.t("core.error.button_expired"), private=True)
        return
    answers = dict(data.get("answers") or {})
    typed = dict(data.get("form") or {})
    refused: list[tuple[Step, Invalid]] = []
    for step in spec.steps:
        if step.name in answers:
            continue
        try:
            answers[step.name] = await _accept(ctx, step, str(typed.get(step.name, "")))
        except Invalid as invalid:
            refused.append((step, invalid))
    if not refused:
        await spec.done(ctx, answers)
        return
    # Say why, then ask again one by one what was refused (the rest is kept).
    first, why = refused[0]
    await ctx.reply(ctx.t(why.key, **why.kwargs))
    await ctx.start_flow(flow, first.name, **answers)
    await ask(ctx, first, answers)


async def begin(
    ctx: Context, flow: str, steps: Sequence[Step], done: Done, answers: dict[str, Any]
) -> None:
    """Start (or, with every answer given, finish) a declarative flow."""
    step = _next(steps, answers)
    if step is None:
        await done(ctx, answers)
        return
    if await _as_form(ctx, flow, steps, answers):
        return
    await ctx.start_flow(flow, step.name, **answers)
    await ask(ctx, step, answers)


async def run_steps(ctx: Context, text: str) -> None:
    """The handler of every declarative flow: take the answer to the current step."""
    conversation = ctx.conversation
    assert conversation is not None
    spec = ctx.app.flows[conversation.flow]
    steps = spec.steps
    answers = dict(conversation.data or {})
    step = next((s for s in steps if s.name == conversation.step), None)
    if step is None:  # the flow changed since this conversation was stored
        step = _next(steps, answers)
        if step is None:
            await ctx.end_flow()
            return
    try:
        value = await _accept(ctx, step, text)
    except Invalid as refused:
        await ctx.reply(ctx.t(refused.key, **refused.kwargs))
        await ask(ctx, step, answers)
        return
    answers[step.name] = value
    following = _next(steps, answers)
    if following is None:
        await ctx.end_flow()
        assert spec.done is not None
        await spec.done(ctx, answers)
        return
    await ctx.set_step(following.name, **{step.name: value})
    await ask(ctx, following, answers)
