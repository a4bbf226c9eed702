"""The commands around the code location: `python -m orchestration.manifest` then
`dagster definitions validate`, and the clear failure when the manifest was never built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DAGSTER = str(Path(sys.executable).parent / "dagster")
PROJECT_DIR = Path(__file__).resolve().parent.parent


def _validate(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "orchestration.definitions"],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600,
    )


def test_definitions_validate_fails_clearly_without_a_manifest(clm_env: dict[str, str]) -> None:
    proc = _validate(clm_env)
    assert proc.returncode != 0
    assert "python -m orchestration.manifest" in proc.stdout + proc.stderr


def test_manifest_command_then_definitions_validate(clm_env: dict[str, str]) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "orchestration.manifest"], env=clm_env, cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (Path(clm_env["DBT_TARGET_PATH"]) / "manifest.json").exists()
    proc = _validate(clm_env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Validation successful" in proc.stdout + proc.stderr
