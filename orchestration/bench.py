"""`make bench SCALE=n`: generate data at scale n (reused when already there), run the full pipeline step by
step on the configured target, and append per-step wall time and peak memory to docs/benchmarks.md.

Each step runs in its own process, so its peak resident memory (ru_maxrss from wait4) is its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import PROJECT_DIR

BENCH_DIR = PROJECT_DIR / ".bench"
RESULTS = PROJECT_DIR / "docs" / "benchmarks.md"
DBT = str(Path(sys.executable).parent / "dbt")
DBT_ARGS = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    peak_mb: float
    note: str = ""


def _run(name: str, cmd: list[str], env: dict[str, str], note: str = "") -> StepResult:
    print(f"[bench] {name}: {' '.join(cmd[:6])}…", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stdout.write(output.decode(errors="replace")[-8000:])
        raise SystemExit(f"[bench] step {name} failed")
    return StepResult(name, seconds, usage.ru_maxrss / 1024, note)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


CLV_STEP = """
import duckdb
from orchestration.assets.clv_assets import PARAMETER_COLUMNS, clv_settings, replace_table
from orchestration.clv.scoring import PREDICTION_COLUMNS, fit_and_score
from orchestration.settings import load_settings
settings = load_settings()
con = duckdb.connect(str(settings.duckdb_path), read_only=True)
summary = con.execute("select * from intermediate.int_customer_purchase_summary").df()
con.close()
result = fit_and_score(summary, **clv_settings())
replace_table(settings, "clv_model_parameters", result.parameters, PARAMETER_COLUMNS)
replace_table(settings, "clv_customer_predictions", result.predictions, PREDICTION_COLUMNS)
"""

PUBLISH_STEP = """
from orchestration.assets.dbt_assets import mart_models
from orchestration.assets.publish import publish_marts
from orchestration.manifest import load_manifest
from orchestration.settings import load_settings
publish_marts(load_settings(), mart_models(load_manifest()), check_gate=False)
"""

INGEST_STEP = """
from orchestration.ingest import ingest_all
from orchestration.settings import load_settings
ingest_all(load_settings())
"""


def steps(scale: float, landing: Path, generated: bool) -> list[tuple[str, list[str], str]]:
    gen = [sys.executable, "-m", "orchestration.generate", "--scale", str(scale), "--seed", "42",
           "--out", str(landing)]
    return [
        ("generate", gen if generated else ["true"], "" if generated else "reused"),
        ("ingest", _python(INGEST_STEP), "landed files -> raw"),
        ("dbt parse", [DBT, "parse", *DBT_ARGS], "manifest"),
        ("dbt seed", [DBT, "seed", *DBT_ARGS], ""),
        ("dbt run staging", [DBT, "run", "--select", "staging", *DBT_ARGS], ""),
        ("dbt run before clv", [DBT, "run", "--exclude", "staging", "source:python_models+", *DBT_ARGS],
         "stage engine, lifecycle marts, cash flows, summary"),
        ("predictive clv", _python(CLV_STEP), "BG/NBD + Gamma-Gamma fit and scoring"),
        ("dbt run after clv", [DBT, "run", "--select", "source:python_models+", *DBT_ARGS],
         "CLV, tiers, early warning, KPIs"),
        ("dbt snapshot", [DBT, "snapshot", *DBT_ARGS], ""),
        ("dbt test", [DBT, "test", *DBT_ARGS], "all data tests and unit tests"),
        ("publish", _python(PUBLISH_STEP), "Parquet + serving.duckdb"),
    ]


def _append(scale: float, target: str, results: list[StepResult], counts: str) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=PROJECT_DIR).stdout.strip()
    total = sum(r.seconds for r in results)
    lines = [
        "",
        f"### scale {scale:g} on {target}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}. "
        f"{counts}",
        "",
        "| step | wall s | peak MB | note |",
        "| --- | ---: | ---: | --- |",
        *[f"| {r.name} | {r.seconds:.1f} | {r.peak_mb:.0f} | {r.note} |" for r in results],
        f"| **total** | **{total:.1f}** | **{max(r.peak_mb for r in results):.0f}** | |",
        "",
    ]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nAppended by `make bench SCALE=n` (orchestration/bench.py).\n")
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines))


def _row_counts(env: dict[str, str]) -> str:
    if env.get("CLM_TARGET", "duckdb") != "duckdb":
        return ""
    import duckdb

    try:
        con = duckdb.connect(str(Path(env["CLM_WAREHOUSE_DIR"]) / "clm.duckdb"), read_only=True)
    except duckdb.Error:
        return ""  # a step stopped by hand may still hold the file
    try:
        parts = [f"{t}: {con.execute(f'select count(*) from raw.{t}').fetchone()[0]:,}"
                 for t in ("customers", "orders", "calls", "complaints")]
    finally:
        con.close()
    return "Raw rows: " + ", ".join(parts) + "."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--skip", nargs="*", default=[], help="step names to skip")
    args = parser.parse_args(argv)

    root = BENCH_DIR / f"scale-{args.scale:g}"
    landing = root / "landing"
    generated = not (landing / "orders").exists()
    warehouse = root / "warehouse"
    if warehouse.exists():
        subprocess.run(["rm", "-rf", str(warehouse)], check=True)
    warehouse.mkdir(parents=True)
    env = dict(os.environ, CLM_LANDING_DIR=str(landing), CLM_WAREHOUSE_DIR=str(warehouse),
               DBT_TARGET_PATH=str(root / "target"), DBT_LOG_PATH=str(root / "logs"))
    env.setdefault("CLM_TARGET", "duckdb")
    results: list[StepResult] = []
    try:
        for name, cmd, note in steps(args.scale, landing, generated):
            if name not in args.skip:
                results.append(_run(name, cmd, env, note))
    except (KeyboardInterrupt, SystemExit) as stop:
        # a long run stopped by hand (SIGINT) or a failed step still records the steps it finished
        results.append(StepResult(f"(stopped: {stop!r:.60})", 0.0, 0.0, "later steps not run"))
    if not results:
        return
    _append(args.scale, env["CLM_TARGET"], results, _row_counts(env))
    for r in results:
        print(f"{r.name:24s} {r.seconds:8.1f} s {r.peak_mb:8.0f} MB  {r.note}")


if __name__ == "__main__":
    main()
