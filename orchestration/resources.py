"""Resources of the code location: the dbt CLI, and the warehouse as the Python assets see it.

The DuckDB file allows one writing process (and Spark's embedded metastore one process); every asset runs
in the run's own process (in-process executor), opens a connection only for as long as it needs it and
closes it before returning, so the dbt subprocess never starts while a Python asset still holds the file.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import Field

from orchestration.engines import Engine, Reader, engine_for
from orchestration.manifest import dbt_executable
from orchestration.settings import PROJECT_DIR, Settings, load_settings

# The pool every asset that writes to the warehouse runs in (dagster.yaml limits it to one slot).
WAREHOUSE_WRITER_POOL = "clm_warehouse_writer"


def warehouse_resource() -> WarehouseResource:
    """The code location's warehouse resource; a run can override dbt_vars in its config (Launchpad)."""
    return WarehouseResource(dbt_vars=os.environ.get("CLM_DBT_VARS", ""))


class DbtCli(DbtCliResource):
    """dagster-dbt's CLI resource without its two per-run costs the product has no use for (about 8 s of
    CPU a run, docs/DECISIONS.md): the dbt version comes from this environment's dbt-core instead of a
    `dbt --version` subprocess, and no dbt adapter is loaded into the run's process before each dbt step
    (dagster-dbt needs it only for column metadata and row counts fetched after a build, not used here)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent != Path(sys.executable).parent:
            return super()._cli_version  # another environment's dbt: ask it
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCli:
    return DbtCli(project_dir=str(PROJECT_DIR), profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable())


def dbt_project_vars(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The vars of dbt_project.yml (the one place for thresholds that Python assets also need), with a
    run's overrides on top: what dbt sees with `--vars <overrides>`."""
    with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        project = dict(yaml.safe_load(handle).get("vars") or {})
    return {**project, **(overrides or {})}


def parse_var_overrides(text: str) -> dict[str, Any]:
    """A run's var overrides, written as dbt's --vars takes them (a YAML or JSON mapping; empty: none)."""
    if not text.strip():
        return {}
    value = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise ValueError(f"dbt vars must be a mapping like '{{clv_holdout_days: 91}}', not {text!r}")
    return value


class WarehouseResource(dg.ConfigurableResource):
    """The configured warehouse (CLM_* environment variables, read when a run uses it), and the run's dbt
    var overrides: dbt gets them as `--vars`, the Python assets and checks read the same resolved vars."""

    dbt_vars: str = Field(
        default="",
        description="dbt vars for this run, a YAML/JSON mapping as dbt's --vars takes it, e.g. "
        "'{clv_holdout_days: 91}' (default: CLM_DBT_VARS when the code location loaded; empty: none).",
    )
    full_refresh: bool = Field(
        default=False,
        description="Rebuild every incremental model from all raw rows (dbt --full-refresh) instead of the "
        "daily incremental path: after a change of a rule threshold, the lifecycle framework or the PII salt "
        "(docs/incremental.md).",
    )

    def settings(self) -> Settings:
        return load_settings()

    def var_overrides(self) -> dict[str, Any]:
        return parse_var_overrides(self.dbt_vars)

    def vars(self) -> dict[str, Any]:
        """dbt_project.yml's vars with this run's overrides: resolved once, the same for dbt and Python."""
        return dbt_project_vars(self.var_overrides())

    def engine(self) -> Engine:
        """The warehouse's engine adapter (orchestration/engines)."""
        return engine_for(self.settings())

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WarehouseResource]:
        """A run holds the engine's kept session from its first step to its end (the in-process executor
        makes the resource once per run): on Spark, one application for the run's Python steps."""
        with self.engine().session_kept():
            yield self

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """A short-lived read connection with `.query(sql)` and `.relation_exists(schema, table)`."""
        with self.engine().reader() as reader:
            yield reader
