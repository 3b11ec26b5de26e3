"""Guyub's platform-agnostic core. The names in ``__all__`` are the public API plugins may
use; every ``_module`` is an implementation detail and may change."""

from __future__ import annotations

from core._adapter import (
    Adapter,
    Capability,
    DeliveryError,
    DeliveryUnknown,
    NotSupported,
    Outgoing,
    RateLimits,
    RetryAfter,
    ScheduledEvent,
    Unreachable,
)
from core._app import App, Worker
from core._clock import Clock, FakeClock, SystemClock, utc
from core._command_names import CommandNames, CommandStyle
from core._commands import (
    Command,
    Param,
    ParamType,
    UsageError,
    Where,
    clean_text,
    parse_command_line,
    parse_duration,
)
from core._context import Context, JobContext
from core._csv import CsvWriter, csv_bytes, safe_cell
from core._events import (
    ButtonPressed,
    ChatKind,
    ChatRef,
    CommandInvoked,
    Event,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    MessageRef,
    PollAnswered,
    ScheduledEventInterest,
    Sender,
    UserRef,
)
from core._humanize import format_duration, format_moment, format_number, format_percent
from core._i18n import LANGUAGES, Text, Translator, load_texts, normalize_language
from core._markup import Markup, escape, parse_markup, to_plain
from core._messages import (
    Attachment,
    AttachmentKind,
    Button,
    Form,
    FormField,
    Message,
    PollSpec,
    RenderedButton,
)
from core._names import MAX_NAME_CHARS, NameCheck, guard_name, neutral_name
from core._plugins import API_VERSION, PluginError
from core._regions import DEFAULT_ZONE, RegionInfo, RegionMatch, Regions, zone_abbreviation
from core._roles import Audit, PermissionDenied, Role, Roles, covers, scope_chain
from core._scheduler import Scheduled, Scheduler
from core._sensitive import SecretKind, find_secret, is_nik
from core._settings import Settings, SettingsError, load_settings
from core._specs import Action, CliCommand, CliParam, Flow, JobKind, ModelModule, PluginInfo
from core._steps import Invalid, Step
from core._tallies import last_activity, member_counts
from core._text import MAX_ID, clean_line, clean_platform_text, parse_id, terminal_safe
from core.hookspecs import hookimpl, hookspec
from core.models import Account, AuditEntry, Conversation, Job, Member, RoleGrant
from core.outbox import BatchReport, DeliveryStatus, Outbox, Recipient
from core.outbox.models import Delivery, OutboxBatch

__all__ = [
    "API_VERSION",
    "DEFAULT_ZONE",
    "LANGUAGES",
    "MAX_ID",
    "MAX_NAME_CHARS",
    "Account",
    "Action",
    "Adapter",
    "App",
    "Attachment",
    "AttachmentKind",
    "Audit",
    "AuditEntry",
    "BatchReport",
    "Button",
    "ButtonPressed",
    "Capability",
    "ChatKind",
    "ChatRef",
    "CliCommand",
    "CliParam",
    "Clock",
    "Command",
    "CommandInvoked",
    "CommandNames",
    "CommandStyle",
    "Context",
    "Conversation",
    "CsvWriter",
    "Delivery",
    "DeliveryError",
    "DeliveryStatus",
    "DeliveryUnknown",
    "Event",
    "FakeClock",
    "Flow",
    "Form",
    "FormField",
    "Invalid",
    "Job",
    "JobContext",
    "JobKind",
    "Markup",
    "Member",
    "MemberJoined",
    "MemberLeft",
    "Message",
    "MessageReceived",
    "MessageRef",
    "ModelModule",
    "NameCheck",
    "NotSupported",
    "Outbox",
    "OutboxBatch",
    "Outgoing",
    "Param",
    "ParamType",
    "PermissionDenied",
    "PluginError",
    "PluginInfo",
    "PollAnswered",
    "PollSpec",
    "RateLimits",
    "Recipient",
    "RegionInfo",
    "RegionMatch",
    "Regions",
    "RenderedButton",
    "RetryAfter",
    "Role",
    "RoleGrant",
    "Roles",
    "Scheduled",
    "ScheduledEvent",
    "ScheduledEventInterest",
    "Scheduler",
    "SecretKind",
    "Sender",
    "Settings",
    "SettingsError",
    "Step",
    "SystemClock",
    "Text",
    "Translator",
    "Unreachable",
    "UsageError",
    "UserRef",
    "Where",
    "Worker",
    "clean_line",
    "clean_platform_text",
    "clean_text",
    "covers",
    "csv_bytes",
    "escape",
    "find_secret",
    "format_duration",
    "format_moment",
    "format_number",
    "format_percent",
    "guard_name",
    "hookimpl",
    "hookspec",
    "is_nik",
    "last_activity",
    "load_settings",
    "load_texts",
    "member_counts",
    "neutral_name",
    "normalize_language",
    "parse_command_line",
    "parse_duration",
    "parse_id",
    "parse_markup",
    "safe_cell",
    "scope_chain",
    "terminal_safe",
    "to_plain",
    "utc",
    "zone_abbreviation",
]
