"""Every text of the onboarding plugin exists in Bahasa Indonesia and in English."""

from __future__ import annotations

from core import load_texts


def test_every_key_in_both_languages() -> None:
    bundle = load_texts("plugins.onboarding")
    assert set(bundle) == {"id", "en"}
    assert set(bundle["id"]) == set(bundle["en"])
    assert all(key.startswith("onboarding.") for key in bundle["id"])
