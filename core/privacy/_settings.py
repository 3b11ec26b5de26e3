"""The ``[privacy]`` settings table."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PrivacySettings"]


class PrivacySettings(BaseModel):
    """Consent, account linking and retention. Days set to 0 keep data forever."""

    model_config = ConfigDict(extra="forbid")

    #: Bump when the consent text changes: members who agreed earlier are asked again at
    #: their next command. The text is ``privacy.consent.v<N>`` (or ``privacy.consent.text``).
    consent_version: int = Field(default=1, ge=1)
    #: True: nothing but the privacy commands works until a member agrees. False: consent
    #: is collected at registration and with /consent; declining or withdrawing stops.
    consent_required: bool = False
    #: How long a /link code stays valid, and wrong codes allowed per member in that time.
    link_code_minutes: int = Field(default=10, ge=1, le=60)
    link_attempts: int = Field(default=5, ge=1, le=50)
    #: Personal data of members not seen for this many days is deleted (members holding a
    #: captain or admin role are kept until the role is taken away).
    inactive_member_days: int = Field(default=730, ge=0)
    #: Audit entries older than this are deleted.
    audit_days: int = Field(default=730, ge=0)
    #: Delivered outbox rows older than this are deleted (by the outbox, through the
    #: ``guyub_apply_retention`` hook).
    delivered_outbox_days: int = Field(default=30, ge=0)
    #: Finished jobs (done, failed, late, cancelled) older than this are deleted: their
    #: payloads may name members.
    finished_jobs_days: int = Field(default=30, ge=0)
    #: Hour (UTC) of the daily retention run; 19 is 02:00 WIB.
    retention_hour_utc: int = Field(default=19, ge=0, le=23)
