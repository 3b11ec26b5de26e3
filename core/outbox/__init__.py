"""The core outbox: durable, paced fan-out of one message to many recipients."""

from __future__ import annotations

from core.outbox._outbox import (
    BatchReport,
    BatchStatus,
    DeliveryStatus,
    Outbox,
    ProgressCallback,
    Recipient,
)
from core.outbox._pace import ClockTimer, Pace, RealTimer, Timer

__all__ = [
    "BatchReport",
    "BatchStatus",
    "ClockTimer",
    "DeliveryStatus",
    "Outbox",
    "Pace",
    "ProgressCallback",
    "RealTimer",
    "Recipient",
    "Timer",
]
