"""The dashboard's Polls pages: results overall and per region folded as in chat, waves side
by side, downloads equal to ``guyub export poll``, and a captain kept to their regions."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from core import AuditEntry
from plugins.polls.ballots import shift
from plugins.polls.cli import export_poll
from plugins.polls.models import Ballot, Poll
from tests.core.web.dashboard_kit import browser, make_admin, make_captain, served, sign_in

OPTIONS = [
    {"id": "Makanan", "en": "Food"},
    {"id": "Modal usaha", "en": "Business capital"},
    {"id": "Listrik", "en": "Electricity"},
]


async def _poll(now, *, wave: int = 1, region: str | None = None, **extra) -> Poll:  # type: ignore[no-untyped-def]
    return await Poll.create(
        template="insentif",
        wave=wave,
        question={"id": "Untuk apa insentif Anda gunakan?", "en": "What did you use it for?"},
        options=OPTIONS,
        multiple=True,
        region_code=region,
        created_at=now,
        **extra,
    )


async def _ballots(poll: Poll, now, spread: dict[str, list[int]]) -> None:  # type: ignore[no-untyped-def]
    """``{region: [choices bit set, ...]}``: one ballot per entry."""
    rows = []
    for code, choices in spread.items():
        for i, mask in enumerate(choices):
            rows.append(
                Ballot(
                    poll_id=poll.id,
                    member_id=None,
                    choices=mask,
                    region_code=code,
                    province_code=code.split(".")[0],
                    platform="telegram",
                    voted_at=now - timedelta(minutes=i),
                )
            )
    await Ballot.bulk_create(rows)
    for ballot in rows:  # results are read from the cells kept with the ballots
        await shift(ballot, 1)


async def _export(app, poll: Poll, fmt: str, by: str) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert await export_poll(app, out, poll.id, format=fmt, by=by) == 0
    return out.getvalue()


async def test_poll_page_and_downloads_equal_the_export() -> None:
    async with served() as s:
        pmo = s.chat.user("pmo")
        await make_admin(s, pmo)
        now = s.chat.now()
        first = await _poll(now, wave=1, label="2025")
        poll = await _poll(now, wave=2, label="2026")
        # 12 in Aceh Utara, 11 in Bireuen, 2 in Pidie (folded: fewer than 10), 1 in Medan.
        await _ballots(
            poll,
            now,
            {"11.08": [0b011] * 12, "11.11": [0b001] * 11, "11.07": [0b100] * 2, "12.71": [0b111]},
        )
        await _ballots(first, now, {"11.08": [0b001] * 4})
        async with browser() as http:
            await sign_in(s, pmo, http)
            async with http.get(f"{s.url}/dasbor/polls") as page:
                html = await page.text()
            assert f'data-poll="{poll.id}"' in html
            async with http.get(f"{s.url}/dasbor/polls/{poll.id}?by=kabupaten") as page:
                html = await page.text()
            assert re.search(r'id="respondents">26<', html)
            assert 'data-code="11.08"' in html
            assert 'data-code="11.07"' not in html  # Pidie's 2 answers are folded
            assert 'data-code="other"' in html
            assert "<svg" in html
            assert f"/dasbor/polls/{poll.id}/waves" in html
            async with http.get(f"{s.url}/dasbor/polls/{poll.id}/waves") as page:
                waves = await page.text()
            assert f'data-poll="{first.id}"' in waves  # wave 1 beside wave 2
            assert f'data-poll="{poll.id}"' in waves
            for fmt in ("csv", "json"):
                for by in ("overall", "province", "kabupaten"):
                    async with http.get(
                        f"{s.url}/dasbor/polls/{poll.id}/export.{fmt}?by={by}&lang=id"
                    ) as download:
                        assert download.status == 200
                        assert "attachment" in download.headers["Content-Disposition"]
                        got = await download.text()
                    assert got == await _export(s.app, poll, fmt, by), (fmt, by)
        assert await AuditEntry.filter(action="polls.export").count() == 6


async def test_captain_sees_national_and_own_polls_only() -> None:
    async with served() as s:
        cut = s.chat.user("cut")
        captain = await make_captain(s, cut, "11.08")
        now = s.chat.now()
        national = await _poll(now)
        own = await _poll(now, region="11.08")
        other = await _poll(now, region="11.11")
        hidden = await _poll(
            now, region="11", results_live=False, closes_at=now + timedelta(days=3)
        )
        async with browser() as http:
            await sign_in(s, cut, http)
            async with http.get(f"{s.url}/dasbor/polls") as page:
                html = await page.text()
            assert f'data-poll="{national.id}"' in html
            assert f'data-poll="{own.id}"' in html
            assert f'data-poll="{other.id}"' not in html
            assert f'data-poll="{hidden.id}"' not in html  # Aceh as a whole is not theirs
            for url in (
                f"/dasbor/polls/{other.id}",
                f"/dasbor/polls/{other.id}/export.csv",
                f"/dasbor/polls/{hidden.id}",
            ):
                async with http.get(f"{s.url}{url}") as page:
                    assert page.status == 403, url
        refused = await AuditEntry.filter(action="web.forbidden", actor_id=captain.id).count()
        assert refused == 3
