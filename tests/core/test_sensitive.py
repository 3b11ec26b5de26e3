"""The secret detector: what it catches and what it lets through."""

from __future__ import annotations

import pytest

from core import SecretKind, find_secret, is_nik

CAUGHT = [
    ("kode OTP 482913", SecretKind.OTP),
    ("Kode verifikasi: 4829", SecretKind.OTP),
    ("PIN 1234", SecretKind.OTP),
    ("482913 itu kode otp saya", SecretKind.OTP),
    ("1108010101900001", SecretKind.NIK),
    ("NIK saya 1108 0101 0190 0001", SecretKind.NIK),
    ("3174.0552.0890.0003", SecretKind.NIK),  # a woman's NIK: day + 40
    ("0812-3456-7890", SecretKind.PHONE),
    ("+62 812 3456 7890", SecretKind.PHONE),
    ("wa 6281234567890 ya", SecretKind.PHONE),
    ("4111 1111 1111 1111", SecretKind.CARD),
    ("password: Rahasia123", SecretKind.PASSWORD),
    ("kata sandi saya abc12345", SecretKind.PASSWORD),
    ("pwd=qwerty99", SecretKind.PASSWORD),
]

PASSED = [
    "Aceh Utara",
    "gelombang 12",
    "tahun 2024, 83% untuk makan",
    "besok jam 19.00 WIB",
    "2026-12-01 19:00",
    "kode pos 24351",
    "Rp 3.500.000",
    "harga 150000 rupiah",
    "lupa kata sandi akun",
    "kapasitas 100",
    "Pelatihan Digital Marketing batch 3",
    "1234567890123456",  # 16 digits without a NIK's structure, not a card either
]


@pytest.mark.parametrize(("text", "kind"), CAUGHT)
def test_secrets_are_caught(text: str, kind: SecretKind) -> None:
    assert find_secret(text) is kind


@pytest.mark.parametrize("text", PASSED)
def test_ordinary_text_passes(text: str) -> None:
    assert find_secret(text) is None


def test_nik_structure() -> None:
    assert is_nik("1108010101900001")
    assert not is_nik("9908010101900001")  # no province 99
    assert not is_nik("1100010101900001")  # regency 00
    assert not is_nik("1108013201900001")  # born on the 32nd
    assert not is_nik("1108010101900000")  # serial 0000
    assert not is_nik("110801010190000")
