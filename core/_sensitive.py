"""Finding secrets in what members type: NIK, OTP codes, passwords, phone and card numbers.

The community's main danger is the *joki*, who collects exactly these. The core checks
every flow answer and every group message with :func:`find_secret`; what it finds is never
stored, never echoed back, and in groups it answers with the joki warning. The patterns
favour catching a secret over letting one through, but each needs a structure (a NIK's
Dukcapil fields, a card's Luhn digit, a mobile prefix) or a context word ("OTP", "kode",
"PIN", "sandi"), so ordinary numbers (years, counts, prices, times) pass.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["SecretKind", "find_secret", "is_nik"]


class SecretKind(StrEnum):
    """What kind of secret a text holds (the text key ``core.secret.kind.<value>`` names it)."""

    NIK = "nik"
    OTP = "otp"
    PASSWORD = "password"
    PHONE = "phone"
    CARD = "card"


# Province codes of Kemendagri (the first two digits of a NIK).
_PROVINCES = frozenset(str(code) for code in (*range(11, 20), 21, *range(31, 37)))
_PROVINCES |= frozenset(str(code) for code in (51, 52, 53, *range(61, 66), *range(71, 77)))
_PROVINCES |= frozenset(str(code) for code in (81, 82, *range(91, 98)))

# Runs of digits that may be split by spaces, dots or dashes ("1108 0101 9000 0001").
_DIGIT_RUN = re.compile(r"(?<![\d])\d(?:[ .\-]?\d){3,22}(?![\d])")
_OTP_BEFORE = re.compile(
    r"\b(?:otp|pin|kode(?!\s+(?:pos|wilayah|absen|absensi|acara|area))|code|verifikasi"
    r"|verification|token)\b[^\d\n]{0,30}?(?<!\d)(\d(?:[ \-]?\d){3,7})(?!\d)",
    re.I,
)
_OTP_AFTER = re.compile(r"(?<!\d)\d{4,8}(?!\d)[^\d\n]{0,20}?\b(?:otp|pin)\b", re.I)
_PASSWORD = re.compile(
    r"\b(?:password|passwd|pwd|kata\s*sandi|sandi|pass)\b"
    r"(?:\s*(?:saya|ku|nya|adalah|is|akun))*"
    r"(?:\s*[:=]\s*\S{4,}|\s+(?=\S*[\d\W_])\S{6,})",
    re.I,
)


def is_nik(digits: str) -> bool:
    """Whether 16 digits have a NIK's structure: province, regency and district codes, a
    birth date (day + 40 for women), a serial number other than 0000."""
    if len(digits) != 16 or not digits.isdigit():
        return False
    if digits[:2] not in _PROVINCES or digits[2:4] == "00" or digits[4:6] == "00":
        return False
    day, month = int(digits[6:8]), int(digits[8:10])
    if day > 40:
        day -= 40
    return 1 <= day <= 31 and 1 <= month <= 12 and digits[12:] != "0000"


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _is_phone(digits: str, raw: str) -> bool:
    """An Indonesian mobile number: 08…, 628… or +628…, 10 to 13 digits after the 0."""
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    elif raw.startswith("+"):
        return False
    return digits.startswith("08") and 10 <= len(digits) <= 14


def find_secret(text: str) -> SecretKind | None:
    """The first kind of secret ``text`` holds, or None."""
    if not text:
        return None
    for found in _DIGIT_RUN.finditer(text):
        raw = found.group(0)
        digits = re.sub(r"\D", "", raw)
        if is_nik(digits):
            return SecretKind.NIK
        start = found.start()
        plus = "+" if start > 0 and text[start - 1] == "+" else ""
        if _is_phone(digits, plus + raw):
            return SecretKind.PHONE
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return SecretKind.CARD
    if _OTP_BEFORE.search(text) or _OTP_AFTER.search(text):
        return SecretKind.OTP
    if _PASSWORD.search(text):
        return SecretKind.PASSWORD
    return None
