"""The one definition of the local Spark warehouse: where its tables and its metastore live, and the
settings of a small local session. Used by the Spark loader and by the tests' queries; profiles.yml
(output `spark`, `server_side_parameters`) spells the same settings in Jinja, because a dbt profile
cannot call Python; keep the two in step (tests/test_spark.py checks they agree).

The metastore is an embedded Derby database: one process at a time may open it, so a session is
opened, used and closed (`spark_session`), and closing also shuts Derby down so that the next
process (usually dbt) can boot it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

APP_NAME = "customer-lifecycle-warehouse"


def spark_warehouse_dir(warehouse_dir: Path) -> Path:
    """Where Spark keeps table data (one folder per schema `<schema>.db`)."""
    return warehouse_dir / "spark-warehouse"


def metastore_dir(warehouse_dir: Path) -> Path:
    """The embedded Derby metastore database (table names, columns, locations)."""
    return warehouse_dir / "metastore_db"


def spark_master() -> str:
    """`CLM_SPARK_MASTER` (a cluster, e.g. spark://127.0.0.1:7077 from scripts/spark-up.sh), else a local
    in-process session."""
    return os.environ.get("CLM_SPARK_MASTER") or "local[*]"


def spark_conf(warehouse_dir: Path) -> dict[str, str]:
    """Session settings for a warehouse under `warehouse_dir` (the same keys as profiles.yml)."""
    return {
        "spark.sql.warehouse.dir": str(spark_warehouse_dir(warehouse_dir)),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore_dir(warehouse_dir)};create=true"
        ),
        # Derby writes derby.log into the working directory unless told otherwise
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={warehouse_dir}",
        # timestamps are business-local and naive: no conversion between the session and the files
        "spark.sql.session.timeZone": "UTC",
        # dbt-spark forces ANSI off for every session it opens; the loader and the tests do the same
        "spark.sql.ansi.enabled": "false",
        # small runs: few shuffle partitions, no driver web UI (a cluster's master UI lists the application
        # and its executors); the executors must reach the same warehouse folder (a local path here)
        "spark.master": spark_master(),
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.adaptive.enabled": "true",
    }


def ensure_local_ip() -> None:
    """Spark binds to the machine's address; a container without a resolvable host name needs this."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def start_session(warehouse_dir: Path, app_name: str = APP_NAME) -> SparkSession:
    """A local session on the warehouse under `warehouse_dir` (the caller stops it)."""
    from pyspark.sql import SparkSession

    ensure_local_ip()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python workers: this one
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName(app_name).enableHiveSupport()
    for key, value in spark_conf(warehouse_dir).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def spark_session(warehouse_dir: Path) -> Iterator[SparkSession]:
    """A local session on the warehouse under `warehouse_dir`, stopped (and Derby shut down) on exit."""
    session = start_session(warehouse_dir)
    try:
        yield session
    finally:
        _shutdown_derby(session)
        session.stop()


def _shutdown_derby(session: SparkSession) -> None:
    """Release the metastore for the next process: Derby keeps its database booted (and locked) for
    as long as the JVM lives, which in a Python process outlives the session."""
    jvm = session.sparkContext._jvm  # noqa: SLF001 - py4j gateway, the only way to reach Derby
    if jvm is None:
        return
    try:
        jvm.java.sql.DriverManager.getConnection("jdbc:derby:;shutdown=true")
    except Exception:  # noqa: BLE001 - Derby reports a successful shutdown as an SQLException
        return
