"""The dbt manifest the Dagster definitions are built from, and the explicit command that builds it.

    python -m orchestration.manifest      # runs `dbt parse`; writes <DBT_TARGET_PATH or target>/manifest.json

The definitions never build the manifest as a side effect of being imported: they read it, and fail with
a message naming this command when it is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.settings import PROJECT_DIR

MANIFEST_COMMAND = "python -m orchestration.manifest"


class ManifestMissingError(FileNotFoundError):
    """The dbt manifest has not been built yet."""


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv), falling back to PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def target_dir(env: dict[str, str] | None = None) -> Path:
    """dbt's target folder: DBT_TARGET_PATH (relative paths are relative to the project) or target/."""
    env = dict(os.environ if env is None else env)
    path = Path(env.get("DBT_TARGET_PATH") or "target")
    return path if path.is_absolute() else PROJECT_DIR / path


def manifest_path(env: dict[str, str] | None = None) -> Path:
    return target_dir(env) / "manifest.json"


def load_manifest(env: dict[str, str] | None = None) -> dict[str, Any]:
    path = manifest_path(env)
    if not path.exists():
        raise ManifestMissingError(
            f"dbt manifest not found at {path}. Build it first with `{MANIFEST_COMMAND}` "
            "(runs `dbt parse` with the same DBT_TARGET_PATH), then load the definitions again."
        )
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@dataclass
class ManifestBuild:
    """A `dbt parse` started in the background (`start_manifest_build`), finished by `wait`."""

    process: subprocess.Popen[str]
    env: dict[str, str]

    def wait(self) -> Path:
        """The manifest's path once dbt has parsed; raises with dbt's output when parsing failed."""
        stdout, stderr = self.process.communicate()
        if self.process.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{stdout[-4000:]}\n{stderr[-2000:]}")
        return manifest_path(self.env)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def start_manifest_build(env: dict[str, str] | None = None) -> ManifestBuild:
    """Start `dbt parse`: a caller can do other work, such as importing Dagster, while dbt parses."""
    env = dict(os.environ if env is None else env)
    command = [dbt_executable(), "parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return ManifestBuild(process, env)


def build_manifest(env: dict[str, str] | None = None) -> Path:
    """Run `dbt parse` and return the manifest's path; raises with dbt's output when parsing fails."""
    return start_manifest_build(env).wait()


def main() -> int:
    path = build_manifest()
    print(f"dbt manifest written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
