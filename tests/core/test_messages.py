"""Neutral messages (core/_messages.py): form texts fitted to what a form shows."""

from __future__ import annotations

import pytest

from core._messages import FORM_TEXT_LIMIT, fit


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Lowongan baru", "Lowongan baru"),
        ("x" * FORM_TEXT_LIMIT, "x" * FORM_TEXT_LIMIT),
        # Cut mid-word before; now at the last word that fits, with an ellipsis.
        (
            "Tawarkan diri Anda sebagai mentor suatu keahlian",
            "Tawarkan diri Anda sebagai mentor suatu…",
        ),
        # The 45th character is a space: the words before it all fit.
        ("x" * 44 + " lagi", "x" * 44 + "…"),
        # No punctuation left dangling before the ellipsis.
        (
            "Nama lengkap sesuai KTP Anda, tanpa gelar: akademik atau lainnya",
            "Nama lengkap sesuai KTP Anda, tanpa gelar…",
        ),
        # One long word: cut inside it rather than show almost nothing.
        ("Pendaftaran " + "a" * 50, "Pendaftaran " + "a" * 32 + "…"),
    ],
)
def test_a_long_form_text_is_cut_at_a_word_with_an_ellipsis(text: str, shown: str) -> None:
    assert fit(text) == shown
    assert len(fit(text)) <= FORM_TEXT_LIMIT
