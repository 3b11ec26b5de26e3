"""Indonesia's 38 provinces as a tile map: one square each, placed roughly where the
province lies (west to east, north to south), with the short name drawn in it."""

from __future__ import annotations

__all__ = ["PROVINCE_TILES"]

#: code: (column, row, short name). Sumatra runs down the left, Kalimantan and Java in the
#: middle, Sulawesi, Bali and Nusa Tenggara to their east, Maluku and Papua on the right.
PROVINCE_TILES: dict[str, tuple[int, int, str]] = {
    "11": (0, 0, "ACE"),
    "12": (1, 1, "SUT"),
    "13": (1, 2, "SUB"),
    "14": (2, 2, "RIA"),
    "21": (3, 1, "KRI"),
    "15": (2, 3, "JAM"),
    "17": (1, 3, "BEN"),
    "16": (2, 4, "SUS"),
    "19": (3, 3, "BBL"),
    "18": (2, 5, "LAM"),
    "36": (3, 5, "BAN"),
    "31": (4, 4, "JKT"),
    "32": (4, 5, "JAB"),
    "33": (5, 5, "JTG"),
    "34": (5, 6, "DIY"),
    "35": (6, 5, "JTM"),
    "61": (4, 2, "KBR"),
    "62": (5, 3, "KTG"),
    "63": (6, 3, "KSL"),
    "64": (6, 2, "KTM"),
    "65": (6, 1, "KUT"),
    "51": (7, 5, "BAL"),
    "52": (8, 5, "NTB"),
    "53": (9, 5, "NTT"),
    "75": (8, 1, "GOR"),
    "71": (9, 1, "SUL"),
    "72": (8, 2, "STG"),
    "76": (7, 3, "SBR"),
    "73": (7, 4, "SSL"),
    "74": (8, 3, "STR"),
    "82": (10, 2, "MUT"),
    "81": (10, 4, "MAL"),
    "96": (11, 2, "PBD"),
    "92": (12, 2, "PBR"),
    "91": (13, 2, "PAP"),
    "94": (12, 3, "PTG"),
    "95": (13, 3, "PPG"),
    "93": (13, 4, "PSL"),
}
