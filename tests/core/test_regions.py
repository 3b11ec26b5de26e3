"""The region service (core/_regions.py): hierarchy queries through the plugins."""

from __future__ import annotations

from collections.abc import Sequence

from core import App, PluginInfo, RegionInfo, hookimpl
from core.testing import make_app


async def test_kabupaten_kota_of_a_province_and_the_provinces(app: App) -> None:
    aceh = await app.regions.children("11")
    assert len(aceh) == 23
    assert [r.code for r in aceh] == sorted(r.code for r in aceh)
    assert aceh[7].name == "Kabupaten Aceh Utara"
    assert all(r.parent_code == "11" and r.kind in ("kabupaten", "kota") for r in aceh)
    assert await app.regions.children("11.08") == []
    assert await app.regions.children("99") == []
    provinces = await app.regions.provinces()
    assert len(provinces) == 38
    assert provinces[0].code == "11"


class _Islands:
    """Another plugin may answer guyub_resolve_region_children (the first answer wins)."""

    PLUGIN = PluginInfo(name="islands")

    @hookimpl
    def guyub_resolve_region_children(self, code: str) -> Sequence[RegionInfo] | None:
        if code == "":
            return [RegionInfo("1", "Pulau Satu", "provinsi", None)]
        return [RegionInfo(f"{code}.01", "Kota Satu", "kota", code)] if code == "1" else None


async def test_any_plugin_may_answer() -> None:
    async with make_app(plugins=[_Islands()], discover_plugins=False) as app:
        assert [r.name for r in await app.regions.provinces()] == ["Pulau Satu"]
        assert [r.code for r in await app.regions.children("1")] == ["1.01"]
        assert await app.regions.children("2") == []


async def test_in_areas_takes_in_the_regions_below_a_code() -> None:
    from core import Account, Member, in_areas

    async with make_app(discover_plugins=False):
        for code in ("11", "11.08", "11.08.01", "12.01", "110", None):
            member = await Member.create(display_name=f"m{code}", region_code=code)
            await Account.create(member=member, platform="fake", platform_user_id=f"u{code}")

        async def codes(query: object) -> list[str | None]:
            found = await Member.filter(query).values_list("region_code", flat=True)
            return sorted(found, key=str)

        assert await codes(in_areas(["11"])) == ["11", "11.08", "11.08.01"]
        assert await codes(in_areas(["11.08", "12"])) == ["11.08", "11.08.01", "12.01"]
        assert await codes(in_areas([])) == []
        assert len(await codes(in_areas([""]))) == 6  # the country, no region included
        assert len(await codes(in_areas(None))) == 6
        joined = Account.filter(in_areas(["11.08"], "member__"))
        assert sorted(await joined.values_list("platform_user_id", flat=True)) == [
            "u11.08",
            "u11.08.01",
        ]
