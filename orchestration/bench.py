"""`make bench SCALE=n`: generate data at scale n (reused when already there), run the full pipeline step by
step on the configured target, and append per-step wall time and peak memory to docs/benchmarks.md.

Each step runs in its own process, so its peak resident memory (ru_maxrss from wait4) is its own.

`--before-after lifecycle` runs the pipeline twice on the same data in one invocation, each time into a fresh
warehouse: first without the lifecycle work (every model, test and snapshot downstream of the customer × month
spine, LIFECYCLE_WORK), then whole, and writes both columns with their ratio. Ratios measured in one run are the
figures to compare: the machines are shared and noisy.
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
import os
from orchestration.assets.dbt_assets import mart_models
from orchestration.assets.publish import publish_marts
from orchestration.manifest import load_manifest
from orchestration.settings import load_settings
excluded = set(os.environ.get("CLM_BENCH_EXCLUDED_MARTS", "").split())
publish_marts(load_settings(), [m for m in mart_models(load_manifest()) if m not in excluded], check_gate=False)
"""

# The lifecycle work (issue 3) as a dbt selector: the spine and everything built on it.
LIFECYCLE_WORK = "int_customer_months_spined+"

INGEST_STEP = """
from orchestration.ingest import ingest_all
from orchestration.settings import load_settings
ingest_all(load_settings())
"""


def steps(scale: float, landing: Path, generated: bool, excluded: str = "") -> list[tuple[str, list[str], str]]:
    """The pipeline step by step; `excluded` (a dbt selector) leaves those nodes out of every dbt step."""
    gen = [sys.executable, "-m", "orchestration.generate", "--scale", str(scale), "--seed", "42",
           "--out", str(landing)]
    leave_out = [excluded] if excluded else []
    exclude_only = ["--exclude", *leave_out] if excluded else []
    return [
        ("generate", gen if generated else ["true"], "" if generated else "reused"),
        ("ingest", _python(INGEST_STEP), "landed files -> raw"),
        ("dbt parse", [DBT, "parse", *DBT_ARGS], "manifest"),
        ("dbt seed", [DBT, "seed", *DBT_ARGS], ""),
        ("dbt run staging", [DBT, "run", "--select", "staging", *DBT_ARGS], ""),
        ("dbt run before clv",
         [DBT, "run", "--exclude", "staging", "source:python_models+", *leave_out, *DBT_ARGS],
         "stage engine, lifecycle marts, cash flows, summary"),
        ("predictive clv", _python(CLV_STEP), "BG/NBD + Gamma-Gamma fit and scoring"),
        ("dbt run after clv", [DBT, "run", "--select", "source:python_models+", *exclude_only, *DBT_ARGS],
         "CLV, tiers, early warning, KPIs"),
        ("dbt snapshot", [DBT, "snapshot", *exclude_only, *DBT_ARGS], ""),
        ("dbt test", [DBT, "test", *exclude_only, *DBT_ARGS], "all data tests and unit tests"),
        ("publish", _python(PUBLISH_STEP), "Parquet + serving.duckdb"),
    ]


def _header(scale: float, target: str, counts: str, title: str = "") -> list[str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=PROJECT_DIR).stdout.strip()
    return [
        "",
        f"### scale {scale:g} on {target}{title}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}. "
        f"{counts}",
        "",
    ]


def _write(lines: list[str]) -> None:
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmarks\n\nAppended by `make bench SCALE=n` (orchestration/bench.py).\n")
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines))


def _append(scale: float, target: str, results: list[StepResult], counts: str) -> None:
    total = sum(r.seconds for r in results)
    _write([
        *_header(scale, target, counts),
        "| step | wall s | peak MB | note |",
        "| --- | ---: | ---: | --- |",
        *[f"| {r.name} | {r.seconds:.1f} | {r.peak_mb:.0f} | {r.note} |" for r in results],
        f"| **total** | **{total:.1f}** | **{max(r.peak_mb for r in results):.0f}** | |",
        "",
    ])


def ratio_text(after: float, before: float) -> str:
    if before > 0.05:
        return f"×{after / before:.2f}"
    return "new" if after > 0.05 else "–"


def _append_comparison(scale: float, target: str, before: list[StepResult], after: list[StepResult],
                       counts: str, work: str) -> None:
    """One table: each step without the work (before) and with it (after), wall time and peak memory."""
    by_name = {r.name: r for r in before}
    rows = []
    for r in after:
        b = by_name.get(r.name, StepResult(r.name, 0.0, 0.0))
        rows.append(f"| {r.name} | {b.seconds:.1f} | {r.seconds:.1f} | {ratio_text(r.seconds, b.seconds)} "
                    f"| {b.peak_mb:.0f} | {r.peak_mb:.0f} | {r.note} |")
    total_b, total_a = sum(r.seconds for r in before), sum(r.seconds for r in after)
    peak_b, peak_a = max(r.peak_mb for r in before), max(r.peak_mb for r in after)
    _write([
        *_header(scale, target, counts, f", before and after the {work} work (one run)"),
        f"Before: the pipeline without `{LIFECYCLE_WORK}` (models, tests, snapshot and published marts);"
        " after: the whole pipeline. Same data, each into a fresh warehouse, before first.",
        "",
        "| step | before s | after s | ratio | before MB | after MB | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        f"| **total** | **{total_b:.1f}** | **{total_a:.1f}** | **{ratio_text(total_a, total_b)}** "
        f"| **{peak_b:.0f}** | **{peak_a:.0f}** | |",
        "",
    ])


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


def run_pipeline(scale: float, root: Path, skip: list[str], excluded: str = "") -> tuple[list[StepResult], str]:
    """Every step into a fresh warehouse under root; returns the step results and the raw row counts."""
    landing = root / "landing"
    generated = not (landing / "orders").exists()
    warehouse = root / "warehouse"
    if warehouse.exists():
        subprocess.run(["rm", "-rf", str(warehouse)], check=True)
    warehouse.mkdir(parents=True)
    env = dict(os.environ, CLM_LANDING_DIR=str(landing), CLM_WAREHOUSE_DIR=str(warehouse),
               DBT_TARGET_PATH=str(root / "target"), DBT_LOG_PATH=str(root / "logs"))
    env.setdefault("CLM_TARGET", "duckdb")
    if excluded:
        env["CLM_BENCH_EXCLUDED_MARTS"] = " ".join(model_names(excluded, env))
    results: list[StepResult] = []
    try:
        for name, cmd, note in steps(scale, landing, generated, excluded):
            if name not in skip:
                results.append(_run(name, cmd, env, note))
    except (KeyboardInterrupt, SystemExit) as stop:
        # a long run stopped by hand (SIGINT) or a failed step still records the steps it finished
        results.append(StepResult(f"(stopped: {stop!r:.60})", 0.0, 0.0, "later steps not run"))
    return results, _row_counts(env)


def model_names(selector: str, env: dict[str, str]) -> list[str]:
    """Names of the models a dbt selector picks (`dbt ls`), e.g. the marts the "before" run does not publish."""
    listed = subprocess.run([DBT, "ls", "-q", "--resource-type", "model", "--select", selector,
                             "--output", "name", *DBT_ARGS], env=env, cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=True)
    return listed.stdout.split()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--skip", nargs="*", default=[], help="step names to skip")
    parser.add_argument("--before-after", choices=["lifecycle"],
                        help="run without the named work, then whole, on the same data, and compare")
    args = parser.parse_args(argv)
    root = BENCH_DIR / f"scale-{args.scale:g}"
    target = os.environ.get("CLM_TARGET", "duckdb")

    if args.before_after:
        before, _ = run_pipeline(args.scale, root, args.skip, excluded=LIFECYCLE_WORK)
        after, counts = run_pipeline(args.scale, root, args.skip)
        if before and after:
            _append_comparison(args.scale, target, before, after, counts, args.before_after)
        for b, a in zip(before, after, strict=False):
            print(f"{a.name:24s} {b.seconds:8.1f} s -> {a.seconds:8.1f} s   {b.peak_mb:6.0f} -> {a.peak_mb:6.0f} MB")
        return

    results, counts = run_pipeline(args.scale, root, args.skip)
    if not results:
        return
    _append(args.scale, target, results, counts)
    for r in results:
        print(f"{r.name:24s} {r.seconds:8.1f} s {r.peak_mb:8.0f} MB  {r.note}")


if __name__ == "__main__":
    main()
