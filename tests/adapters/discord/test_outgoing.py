"""Core messages as discord.py arguments (adapters/discord/_outgoing.py): modals."""

from __future__ import annotations

from core import Form, FormField


async def test_a_modals_long_title_and_labels_are_cut_at_a_word() -> None:
    """Discord refuses a title or label over 45 characters; a form a plugin built itself
    (not from steps) is fitted here, cut at a word with an ellipsis, never mid-word."""
    from adapters.discord._outgoing import build_modal

    form = Form(
        "Tawarkan diri Anda sebagai mentor suatu keahlian",
        (FormField("seats", "Berapa banyak kursi yang tersedia untuk peserta"),),
        "x:y",
    )
    modal = build_modal(form, "k1")
    assert modal.title == "Tawarkan diri Anda sebagai mentor suatu…"
    (field,) = modal.children
    assert field.to_component_dict()["label"] == "Berapa banyak kursi yang tersedia untuk…"
