"""Settings from environment variables, with the documented defaults (README, "Settings").

Read on demand (never at import time), so tests can point each run at its own folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEV_PII_SALT = "clm-development-salt-not-for-production"
# DuckDB's memory bound: a build stays near this (plus the process itself) and spills the rest of a large
# sort or join to the temp directory. profiles.yml spells the same defaults (tests/test_settings.py).
DEFAULT_DUCKDB_MEMORY_LIMIT = "5GB"
DEFAULT_DUCKDB_THREADS = 2
PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    def dsn(self, database: str | None = None) -> str:
        return (
            f"host={self.host} port={self.port} user={self.user} "
            f"password={self.password} dbname={database or self.database}"
        )


@dataclass(frozen=True)
class SparkSettings:
    master: str  # CLM_SPARK_MASTER: a cluster (spark://127.0.0.1:7077 from make spark), else local[*]
    # CLM_SPARK_METASTORE_URI: a Hive metastore service every process shares (thrift://127.0.0.1:9083
    # from make spark), else "" for an embedded Derby metastore under the warehouse (one process at a time)
    metastore_uri: str


@dataclass(frozen=True)
class DuckDBSettings:
    memory_limit: str
    threads: int
    temp_directory: Path

    def config(self) -> dict[str, str | int | bool]:
        """Connection settings for every DuckDB connection the project opens (dbt's come from profiles.yml)."""
        return {
            "memory_limit": self.memory_limit,
            "threads": self.threads,
            "temp_directory": str(self.temp_directory),
            # no query here relies on the order rows were inserted in; dropping it lets DuckDB stream
            "preserve_insertion_order": False,
        }


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    target: str
    pii_salt: str
    postgres: PostgresSettings
    duckdb: DuckDBSettings
    spark: SparkSettings

    @property
    def duckdb_path(self) -> Path:
        return self.warehouse_dir / "clm.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.warehouse_dir / "published"

    @property
    def cache_dir(self) -> Path:
        """What is costly to build and depends only on installed versions (the report's JavaScript)."""
        return self.warehouse_dir / "cache"

    @property
    def uses_dev_salt(self) -> bool:
        return self.pii_salt == DEV_PII_SALT


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    target = env.get("CLM_TARGET", "duckdb")
    warehouse_dir = Path(env.get("CLM_WAREHOUSE_DIR", "warehouse")).resolve()
    if target not in {"duckdb", "postgres", "spark"}:
        raise ValueError(f"CLM_TARGET must be duckdb, postgres or spark, not {target!r}")
    return Settings(
        landing_dir=Path(env.get("CLM_LANDING_DIR", "data/landing")).resolve(),
        warehouse_dir=warehouse_dir,
        target=target,
        pii_salt=env.get("CLM_PII_SALT", DEV_PII_SALT),
        postgres=PostgresSettings(
            host=env.get("CLM_PG_HOST", "127.0.0.1"),
            port=int(env.get("CLM_PG_PORT", "5432")),
            user=env.get("CLM_PG_USER", "clm"),
            password=env.get("CLM_PG_PASSWORD", "clm"),
            database=env.get("CLM_PG_DATABASE", "clm"),
        ),
        duckdb=DuckDBSettings(
            memory_limit=env.get("CLM_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
            threads=int(env.get("CLM_DUCKDB_THREADS", str(DEFAULT_DUCKDB_THREADS))),
            temp_directory=Path(env.get("CLM_DUCKDB_TEMP_DIR", str(warehouse_dir / "duckdb_tmp"))).resolve(),
        ),
        spark=SparkSettings(
            master=env.get("CLM_SPARK_MASTER") or "local[*]",
            metastore_uri=env.get("CLM_SPARK_METASTORE_URI", ""),
        ),
    )
