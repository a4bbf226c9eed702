"""The report's JavaScript is built once per vl-convert version and read from the cache after that."""

from __future__ import annotations

from pathlib import Path

import vl_convert

from orchestration.lifecycle_report.vega_bundle import bundle_path, vega_bundle


def test_the_bundle_is_built_once_then_read_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    built = vega_bundle(cache)
    assert built == vl_convert.javascript_bundle()
    assert "vegaEmbed" in built
    assert [p.name for p in cache.iterdir()] == [f"vega-bundle-vl-convert-{vl_convert.__version__}.js"]

    # a later publish reads the file: what the file holds is what it returns
    bundle_path(cache).write_text("/* cached */", encoding="utf-8")
    assert vega_bundle(cache) == "/* cached */"


def test_an_empty_or_unwritable_cache_still_gives_the_bundle(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    bundle_path(cache).write_text("", encoding="utf-8")  # e.g. a disk that filled up mid-write elsewhere
    assert vega_bundle(cache) == vl_convert.javascript_bundle()
    assert bundle_path(cache).read_text(encoding="utf-8") == vl_convert.javascript_bundle()

    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    assert vega_bundle(blocked) == vl_convert.javascript_bundle()
    assert blocked.read_text(encoding="utf-8") == "a file where the cache folder would be"
    assert not list(tmp_path.glob(".*.tmp")) and not list(cache.glob(".*.tmp"))
