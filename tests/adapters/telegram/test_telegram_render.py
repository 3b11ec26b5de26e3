"""Neutral markup to Telegram HTML, splitting, keyboards."""

from __future__ import annotations

import pytest

from adapters.telegram._render import keyboard, render_html, split_spans, utf16_len
from core import Markup, RenderedButton, escape


def html(text: str) -> str:
    chunks = split_spans(text)
    assert len(chunks) == 1
    return render_html(chunks[0])


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("<b>Amir</b> & co", "&lt;b&gt;Amir&lt;/b&gt; &amp; co"),
        ("*_[]()~", "*_[]()~"),
        ("`code` #tag |x|", "`code` #tag |x|"),
    ],
)
def test_user_text_is_escaped_inside_formatting(name: str, shown: str) -> None:
    text = Markup("Halo <b>{}</b>!").format(name)
    assert html(text) == f"Halo <b>{shown}</b>!"


def test_tags_become_telegram_html() -> None:
    text = Markup(
        '<b>a</b> <i>b</i> <u>c</u> <s>d</s> <code>e&lt;</code> <a href="https://x.org/?a=1&amp;b=2">f</a>'
    )
    assert html(text) == (
        "<b>a</b> <i>b</i> <u>c</u> <s>d</s> <code>e&lt;</code> "
        '<a href="https://x.org/?a=1&amp;b=2">f</a>'
    )


def test_nested_formatting_and_pre() -> None:
    assert html(Markup("<b>x <i>y</i></b>")) == "<b>x </b><b><i>y</i></b>"
    assert html(Markup("<pre>a <b>b</b></pre>")) == "<pre>a b</pre>"


def test_unsafe_links_are_plain_text() -> None:
    assert html(Markup('<a href="javascript:alert(1)">klik</a>')) == "klik"


def test_long_text_is_split_on_line_boundaries() -> None:
    line = "x" * 99 + "\n"  # 100 characters per line
    text = escape(line * 100)  # 10,000 characters
    chunks = split_spans(text)
    plains = ["".join(s.text for s in c) for c in chunks]
    assert len(chunks) == 3
    assert all(utf16_len(p) <= 4096 for p in plains)
    assert all(set(p.split("\n")) == {"x" * 99} for p in plains)
    assert sum(p.count("x") for p in plains) == 99 * 100


def test_formatting_survives_a_split() -> None:
    text = Markup("<b>{}</b>").format(("y" * 50 + "\n") * 100)
    chunks = split_spans(text)
    assert len(chunks) == 2
    assert all(render_html(c).startswith("<b>") for c in chunks)


def test_a_single_huge_line_is_cut_mid_line() -> None:
    chunks = split_spans(escape("z" * 5000))
    assert [len(c[0].text) for c in chunks] == [4096, 904]


def test_emoji_count_as_two_utf16_units() -> None:
    chunks = split_spans(escape("😀" * 3000))
    assert [utf16_len(c[0].text) for c in chunks] == [4096, 1904]


def test_blank_text_sends_nothing() -> None:
    assert split_spans(escape("  \n ")) == []


def test_keyboard_uses_short_keys_and_urls() -> None:
    markup = keyboard(
        (
            (RenderedButton("Ya", key="k1"), RenderedButton("Tidak", key="k2")),
            (RenderedButton("Buka", url="https://t.me/GuyubBot?start=x"),),
        )
    )
    assert markup is not None
    rows = markup.inline_keyboard
    assert [b.callback_data for b in rows[0]] == ["k1", "k2"]
    assert rows[1][0].url == "https://t.me/GuyubBot?start=x"
    assert keyboard(()) is None


def test_keyboard_refuses_keys_over_64_bytes() -> None:
    with pytest.raises(ValueError, match="64"):
        keyboard(((RenderedButton("x", key="k" * 65),),))
