"""The one definition of the local Spark warehouse: where its tables and its metastore live, and the
settings of a small local session. Used by the Spark loader and by the tests' queries; profiles.yml
(output `spark`, `server_side_parameters`) spells the same settings in Jinja, because a dbt profile
cannot call Python; keep the two in step (tests/test_spark.py checks they agree).

The metastore is either a service (`CLM_SPARK_METASTORE_URI`, e.g. thrift://127.0.0.1:9083 from
scripts/spark-up.sh), which any number of processes share, or, when that is unset, an embedded Derby
database under the warehouse folder that one process at a time may open. `spark_session` opens a session
for a block of work and stops it at the end (releasing the cluster's cores for dbt's own session); nested
blocks share the outer one. Inside `keep_session` (a Dagster run, with the metastore service) the session
outlives its blocks, so that the run's Python steps share one application on the cluster instead of
starting one each; `release_session` stops it before dbt starts its own. With embedded Derby the end also
shuts Derby down so that the next process (usually dbt) can boot it, and Derby cannot boot again in that
JVM: a process gets one embedded session, which is why the whole Dagster job on Spark needs the metastore
service.
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

    from orchestration.settings import Settings

APP_NAME = "customer-lifecycle-warehouse"


def spark_warehouse_dir(warehouse_dir: Path) -> Path:
    """Where Spark keeps table data (one folder per schema `<schema>.db`)."""
    return warehouse_dir / "spark-warehouse"


def metastore_dir(warehouse_dir: Path) -> Path:
    """The embedded Derby metastore database (table names, columns, locations)."""
    return warehouse_dir / "metastore_db"


def spark_conf(settings: Settings) -> dict[str, str]:
    """Session settings for the settings' warehouse, master and metastore (the same keys as profiles.yml)."""
    warehouse_dir = settings.warehouse_dir
    return {
        "spark.sql.warehouse.dir": str(spark_warehouse_dir(warehouse_dir)),
        # a metastore service when one is set (Hive ignores the Derby URL then), else embedded Derby
        "spark.hadoop.hive.metastore.uris": settings.spark.metastore_uri,
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
        "spark.master": settings.spark.master,
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.adaptive.enabled": "true",
    }


def ensure_local_ip() -> None:
    """Spark binds to the machine's address; a container without a resolvable host name needs this."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def start_session(settings: Settings, app_name: str = APP_NAME) -> SparkSession:
    """A session on the settings' warehouse (the caller stops it)."""
    from pyspark.sql import SparkSession

    ensure_local_ip()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python workers: this one
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName(app_name).enableHiveSupport()
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class _OpenSession:
    """The session this process holds, how many blocks use it, and whether a run keeps it between blocks."""

    session: SparkSession | None = None
    users = 0
    kept = False
    derby_shut_down = False


@contextmanager
def spark_session(settings: Settings) -> Iterator[SparkSession]:
    """A session on the settings' warehouse for the block; a nested block shares the outer block's
    session. Stopped (and embedded Derby shut down) when the outermost block ends, unless it is kept."""
    if _OpenSession.session is None:
        if _OpenSession.derby_shut_down and not settings.spark.metastore_uri:
            raise RuntimeError(
                "this process already used Spark's embedded Derby metastore, which cannot boot twice in one "
                "JVM: start the metastore service (make spark) and set CLM_SPARK_METASTORE_URI "
                "(docs/engines.md)"
            )
        _OpenSession.session = start_session(settings)
    _OpenSession.users += 1
    session = _OpenSession.session
    assert session is not None
    try:
        yield session
    finally:
        _OpenSession.users -= 1
        if not _OpenSession.kept:
            release_session(settings)


def release_session(settings: Settings) -> None:
    """Stop the open session now, unless a block is still using it."""
    session = _OpenSession.session
    if session is None or _OpenSession.users > 0:
        return
    _OpenSession.session = None
    if not settings.spark.metastore_uri:
        _shutdown_derby(session)
        _OpenSession.derby_shut_down = True
    session.stop()


@contextmanager
def keep_session(settings: Settings) -> Iterator[None]:
    """Within the block, a session stays open after the `spark_session` block that opened it ends, for the
    next one: a run's checks, CLV fit, publish and report share one application on the cluster (starting
    one costs about 15 s: a driver registered, an executor launched). Stopped at the end, or earlier by
    `release_session`. With embedded Derby nothing is kept (dbt's process needs the catalog between steps,
    and Derby cannot boot again in this JVM)."""
    if not settings.spark.metastore_uri or _OpenSession.kept:
        yield
        return
    _OpenSession.kept = True
    try:
        yield
    finally:
        _OpenSession.kept = False
        release_session(settings)


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
