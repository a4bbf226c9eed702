"""The JavaScript the report page inlines (Vega, Vega-Lite and Vega-Embed: vl-convert's bundle), kept on disk.

vl-convert builds the bundle in its embedded JavaScript runtime, about 4 s the first time in a process,
and every publish runs in a new one (docs/benchmarks.md). The bundle depends only on the vl-convert
version, so it is kept as `<warehouse>/cache/vega-bundle-vl-convert-<version>.js` and built once per
version: an upgrade of vl-convert writes a new file. The file is written under a temporary name and
moved into place, so a reader finds the whole bundle or none; a cache that cannot be written costs only
the time.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

import vl_convert


def bundle_path(cache_dir: Path) -> Path:
    return cache_dir / f"vega-bundle-vl-convert-{vl_convert.__version__}.js"


def vega_bundle(cache_dir: Path) -> str:
    """vl-convert's JavaScript bundle, from the cache when it holds this version's."""
    path = bundle_path(cache_dir)
    try:
        if cached := path.read_text(encoding="utf-8"):
            return cached
    except OSError:  # not built yet for this version, or unreadable: build it
        pass
    bundle = vl_convert.javascript_bundle()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary.write_text(bundle, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):  # no folder to clean (a file where it should be), or nothing written
            temporary.unlink()
    return bundle
