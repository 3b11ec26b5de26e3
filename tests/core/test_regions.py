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
