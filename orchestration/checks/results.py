"""Where validation results are kept: $CLM_WAREHOUSE_DIR/dq/.

    dq/results/<suite>/<UTC timestamp>_<run id>.json   every validation, in full (`gx_result`: GX's shape)
    dq/latest.json                                     the last result of each suite (a summary)

The latest results are the "previous run" of the next validation (row counts, means) and the gate
that publish reads: a blocking suite whose latest result failed with an error stops publishing.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.settings import Settings


def dq_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / "dq"


def _write_json_atomically(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(payload, out, indent=2, default=str, ensure_ascii=False)
    os.replace(temporary, path)


def read_latest(settings: Settings) -> dict[str, dict[str, Any]]:
    path = dq_dir(settings) / "latest.json"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def save_result(settings: Settings, result: dict[str, Any], full: dict[str, Any]) -> Path:
    """Keep the full result in its own file and the summary in latest.json; returns the file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = dq_dir(settings) / "results" / result["suite"] / f"{stamp}_{result.get('run_id') or 'adhoc'}.json"
    _write_json_atomically(path, {**result, "gx_result": full})
    latest = read_latest(settings)
    latest[result["suite"]] = {**result, "result_file": str(path)}
    _write_json_atomically(dq_dir(settings) / "latest.json", latest)
    return path


def blocking_failures(settings: Settings) -> list[str]:
    """Blocking suites whose latest result failed with error severity."""
    return sorted(
        name for name, result in read_latest(settings).items() if result.get("blocking") and result.get("error_failed")
    )
