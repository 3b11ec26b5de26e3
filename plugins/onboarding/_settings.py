"""The ``[onboarding]`` settings table."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["OnboardingSettings"]


class OnboardingSettings(BaseModel):
    """How new members are welcomed and registered."""

    #: Group rules shown in the welcome; empty shows the default rules text.
    rules: str = ""
    #: Minutes a new member has to press "Saya manusia" before removal; 0 turns the gate off.
    verify_timeout: int = Field(default=0, ge=0, le=24 * 60)
    #: Chat keys (``telegram:-100123``) the gate applies to; empty means every group.
    verify_groups: list[str] = Field(default_factory=list)
    #: Hours after starting registration at which an unfinished member is reminded (two at most).
    nudge_after_hours: list[float] = Field(default_factory=lambda: [24.0, 72.0], max_length=2)
    #: Minutes between digests telling captains about new members in their region.
    digest_minutes: int = Field(default=60, ge=1)
