"""Privacy by design, in the core: account linking, consent records, member data export
and deletion, retention and the per-member command rate limit.

The tables live in their own tortoise app (``privacy``); the commands (/link, /unlink,
/mydata, /forgetme, /consent) come from :mod:`core.privacy.plugin`, a core plugin that is
always loaded. The App holds the service as ``app.privacy``.
"""

from __future__ import annotations

from core.privacy._consent import ConsentStatus
from core.privacy._retention import RetentionPolicy, run_retention
from core.privacy._service import Privacy
from core.privacy._settings import PrivacySettings

__all__ = ["ConsentStatus", "Privacy", "PrivacySettings", "RetentionPolicy", "run_retention"]
