"""Neutral markup: formatting escapes plain values; ``cap`` capitalises one."""

from __future__ import annotations

from core import Markup


def test_format_escapes_plain_values_and_keeps_markup() -> None:
    out = Markup("<b>{name}</b> {note}").format(name="<i>x</i>", note=Markup("<i>ok</i>"))
    assert out == "<b>&lt;i&gt;x&lt;/i&gt;</b> <i>ok</i>"


def test_cap_starts_the_value_with_a_capital() -> None:
    assert Markup("{p:cap} harus berupa angka").format(p="nomor") == "Nomor harus berupa angka"
    assert Markup("{p:cap}!").format(p="<éa>") == "&lt;éa&gt;!"
    assert Markup("{p:cap}").format(p="éa") == "Éa"
    assert Markup("{p:cap}").format(p=Markup("<b>x</b>")) == "<b>x</b>"  # markup kept as is
    assert Markup("[{p:cap}]").format(p="") == "[]"
