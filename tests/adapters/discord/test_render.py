"""Neutral markup to Discord markdown: escaping user text, formatting, splitting."""

from __future__ import annotations

import pytest

from adapters.discord import escape_text, split_text, to_markdown
from core import Markup, escape


def test_everyone_and_here_never_ping() -> None:
    out = to_markdown(escape("@everyone and @here, come!"))
    assert out == "@\u200beveryone and @\u200bhere, come!"


def test_user_role_and_channel_mentions_stay_literal() -> None:
    out = to_markdown(escape("<@123456789012345678> <@&123456789012345678> <#123456789012345678>"))
    assert "<@1" not in out
    assert "<@&" not in out
    assert "<#1" not in out


def test_a_name_like_bold_amir_is_shown_literally() -> None:
    template = Markup("Halo <b>{name}</b>!")
    assert to_markdown(template.format(name="**Amir**")) == "Halo **\\*\\*Amir\\*\\***!"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("_miring_", "\\_miring\\_"),
        ("~~coret~~", "\\~\\~coret\\~\\~"),
        ("`kode`", "\\`kode\\`"),
        ("||spoiler||", "\\|\\|spoiler\\|\\|"),
        ("> kutipan", "\\> kutipan"),
        ("# judul", "\\# judul"),
        ("- daftar", "\\- daftar"),
        ("[klik](https://jahat.example)", "\\[klik](https://jahat.example)"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_markdown_typed_by_members_is_escaped(typed: str, shown: str) -> None:
    assert escape_text(typed) == shown


def test_neutral_tags_become_markdown() -> None:
    markup = Markup(
        "<b>tebal</b> <i>miring</i> <u>garis</u> <s>coret</s> <code>x = 1</code> "
        '<a href="https://prakerja.go.id">situs</a>'
    )
    assert to_markdown(markup) == (
        "**tebal** *miring* __garis__ ~~coret~~ `x = 1` [situs](https://prakerja.go.id)"
    )


def test_whitespace_stays_outside_markers() -> None:
    assert to_markdown(Markup("<b>tebal </b>lalu")) == "**tebal** lalu"


def test_code_keeps_backticks_and_pre_is_a_block() -> None:
    assert to_markdown(Markup("<code>a`b</code>")) == "``a`b``"
    out = to_markdown(Markup("Kode:<pre>x = 1\n```\ny</pre>selesai"))
    assert out == "Kode:\n```\nx = 1\n`\u200b``\ny\n```\nselesai"


def test_only_web_links_are_linked() -> None:
    out = to_markdown(Markup('<a href="javascript:alert(1)">klik</a>'))
    assert out == "klik (javascript:alert(1))"
    assert to_markdown(Markup('<a href="https://a.id/x">https://a.id/x</a>')) == "https://a.id/x"


def test_short_text_is_one_piece_and_empty_is_none() -> None:
    assert split_text("halo") == ["halo"]
    assert split_text("") == []


def test_long_text_splits_at_lines_under_the_limit() -> None:
    text = "\n".join(f"baris {i} " + "x" * 80 for i in range(60))
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces) == text


def test_one_huge_line_is_cut_at_spaces() -> None:
    text = " ".join(["kata"] * 1000)
    pieces = split_text(text)
    assert all(len(p) <= 2000 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_a_code_block_cut_in_two_is_closed_and_reopened() -> None:
    body = "\n".join(f"baris {i}" for i in range(400))
    pieces = split_text(f"```\n{body}\n```")
    assert len(pieces) >= 2
    for piece in pieces:
        assert piece.count("```") % 2 == 0
        assert len(piece) <= 2000


def test_discord_angle_syntax_is_broken_but_plain_angles_stay() -> None:
    assert escape_text("<t:1700000000:R> <:wave:123> <a:x:1> </help:1>") == (
        "<\u200bt:1700000000:R> <\u200b:wave:123> <\u200ba:x:1> <\u200b/help:1>"
    )
    assert escape_text("Dua <tetap teks> <3") == "Dua <tetap teks> <3"
