"""`make bench SCALE=n`: the benchmark, in one invocation on one data set, appended to docs/benchmarks.md.

Data: generated at scale n into .bench/scale-n/landing (reused when already there). Then, by `--mode`:

- steps: the pipeline step by step (ingest, dbt parse, seed, run staging, run before CLV, predictive CLV,
  run after CLV, snapshot, test, publish), each step in its own process into a fresh warehouse, so its wall
  time and peak resident memory (ru_maxrss from wait4) are its own. After each dbt step, the models'
  execution_time are read from dbt's run_results.json (before the next step overwrites it).
- job: the main job as `make run` runs it, `python -m orchestration.run` (ingest, dbt build, predictive CLV,
  asset checks, publish, report) into another fresh warehouse, with its own DAGSTER_HOME (a copy of
  dagster.yaml); one row, end to end. Its dbt builds leave a run_results.json each under its target folder.
  The job runs on every day but the last; then the next day (the last day's files but its complaints) and a
  file later the same day (the complaints: the as-of date stays) run the same command, incrementally.
- both (default): steps, then job.

The hand-written references (bench/*.sql, run by orchestration/bench_reference.py, each in its own
process): plain DuckDB SQL on the raw tables of the warehouse right after ingest (in `job` mode: of the
job's warehouse, after the job), attached read-only, writing into a scratch file .bench/.../reference/
reference.duckdb, never into the measured warehouse. "core lifecycle" is the lifecycle's core (valid
orders, customer x month spine, rolling 3/12-month windows, running counts, median purchase gap to date);
"staging orders", "staging customers", "staging calls" and "staging complaints" are each one query with the
checks of the base model of that table ("staged customers" prepares the join of orders, calls and complaints,
and is also the core reference's first step).

What the ratios mean (all measured in this one invocation, on the same data):
- main job / core lifecycle reference: the job's wall time over the core reference process's wall time
  (interpreter start-up included on both sides). The issue's bound is ≤ 5.
- base_crm__<table> / staging <table> reference, for each base model: dbt's execution_time of the model
  (from the dbt steps, else the job) over the seconds the reference spent in SQL; both exclude process
  start-up. Bound ≤ 1.5.
- peak RSS: the job's peak over the core reference's peak (no bound; both are in the table).
- next day / main job: the incremental run's wall time over the full build's. Bound ≤ 0.1. A file later
  the same day / main job: the same for the run after it (no bound).
At tiny scales fixed costs (dbt start-up, Dagster, compiling) dominate and these ratios are large; they are
meant for scales where the work dominates.

`--baseline-commit SHA` also measures another commit's code on the same data in the same invocation (a
`git worktree add --detach` under .bench/, the same .venv; `python -m orchestration.run` with the worktree
as working directory imports the worktree's package, because -m puts the working directory first on
sys.path: checked before measuring), first, then this checkout; the table has before/after columns with
ratios, and the worktree is removed afterwards. The references are this checkout's SQL on both sides, so
their before/after ratio shows the machine's noise.

`--before-after lifecycle` runs the pipeline twice on the same data, first without the lifecycle work
(LIFECYCLE_WORK), then whole, and writes both columns with their ratio. The machines are shared and noisy:
compare ratios measured in one run, not figures across sections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.bench_report import (
    CORE_REFERENCE,
    JOB_STEP,
    MAIN_JOB,
    NEXT_DAY,
    SAME_DAY,
    STAGING_REFERENCES,
    Measurement,
    ModelTime,
    StepResult,
    console_lines,
    ratio_text,
    read_run_results,
    report_lines,
)
from orchestration.settings import PROJECT_DIR

BENCH_DIR = PROJECT_DIR / ".bench"
# the last day's files held back from the next-day run and landed after it, on the same day: the as-of date
# (the last day with an order) does not move, as when the new-file sensor runs the job for a later file
LATER_THE_SAME_DAY = ("complaints",)
RESULTS = PROJECT_DIR / "docs" / "benchmarks.md"
DBT = str(Path(sys.executable).parent / "dbt")
MODES = ("both", "steps", "job")
# bench_reference.py name -> row name
REFERENCES = {
    "core_lifecycle": CORE_REFERENCE,
    "staged_customers": "reference: staged customers",
    **{f"staging_{model.removeprefix('base_crm__')}": row for model, row in STAGING_REFERENCES.items()},
}


def dbt_args(project: Path = PROJECT_DIR) -> list[str]:
    return ["--project-dir", str(project), "--profiles-dir", str(project)]


DBT_ARGS = dbt_args()


def _run_process(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """Wall seconds, peak resident MB (the process and the children it waited for), exit code, output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def _run(name: str, cmd: list[str], env: dict[str, str], note: str = "", cwd: Path = PROJECT_DIR,
         kind: str = "step") -> StepResult:
    print(f"[bench] {name}: {' '.join(cmd[:6])}…", flush=True)
    seconds, peak_mb, code, output = _run_process(cmd, env, cwd)
    if code != 0:
        sys.stdout.write(output[-8000:])
        raise SystemExit(f"[bench] step {name} failed")
    return StepResult(name, seconds, peak_mb, note, kind)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


CLV_STEP = """
from orchestration.assets.clv_assets import fit_evaluate_and_write
from orchestration.settings import load_settings
fit_evaluate_and_write(load_settings())
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


def generate_command(scale: float, landing: Path) -> list[str]:
    return [sys.executable, "-m", "orchestration.generate", "--scale", str(scale), "--seed", "42",
            "--out", str(landing)]


def steps(scale: float, landing: Path, generated: bool, excluded: str = "",
          project: Path = PROJECT_DIR) -> list[tuple[str, list[str], str]]:
    """The pipeline step by step; `excluded` (a dbt selector) leaves those nodes out of every dbt step.
    `project` is the checkout whose dbt project is run (the Python steps import the package of their
    working directory, which run_pipeline sets to it)."""
    leave_out = [excluded] if excluded else []
    exclude_only = ["--exclude", *leave_out] if excluded else []
    args = dbt_args(project)
    return [
        ("generate", generate_command(scale, landing) if generated else ["true"], "" if generated else "reused"),
        ("ingest", _python(INGEST_STEP), "landed files -> raw"),
        ("dbt parse", [DBT, "parse", *args], "manifest"),
        ("dbt seed", [DBT, "seed", *args], ""),
        ("dbt run staging", [DBT, "run", "--select", "staging", *args], ""),
        ("dbt run before clv",
         [DBT, "run", "--exclude", "staging", "source:python_models+", *leave_out, *args],
         "stage engine, lifecycle marts, cash flows, summary"),
        ("predictive clv", _python(CLV_STEP), "BG/NBD + Gamma-Gamma fit, scoring and holdout evaluation"),
        ("dbt run after clv", [DBT, "run", "--select", "source:python_models+", *exclude_only, *args],
         "CLV, tiers, early warning, KPIs"),
        ("dbt snapshot", [DBT, "snapshot", *exclude_only, *args], ""),
        ("dbt test", [DBT, "test", *exclude_only, *args], "all data tests and unit tests"),
        ("publish", _python(PUBLISH_STEP), "Parquet + serving.duckdb"),
    ]


# What a run leaves on disk per unit of scale, measured at scale 20 (docs/benchmarks.md, 2026-12-06): the
# landing files 4.0 GB; for each measured warehouse (one per checkout and mode: the steps and the job each
# build their own) the DuckDB file 13 GB and the published versions 5.4 GB; the reference scratch 2.9 GB.
LANDING_GB_PER_SCALE = 0.20
WAREHOUSE_GB_PER_SCALE = 0.92
REFERENCE_GB_PER_SCALE = 0.15
SPILL_MARGIN = 1.25  # DuckDB's temp files while the big sorts and joins spill


def disk_needed_gb(scale: float, *, landing_exists: bool, mode: str, checkouts: int) -> float:
    """About how much free disk a run needs (see the constants): the landing files unless they are already
    generated, and for each checkout its warehouses (two in `both` mode) and its reference scratch."""
    warehouses = 2 if mode == "both" else 1
    per_checkout = warehouses * WAREHOUSE_GB_PER_SCALE + REFERENCE_GB_PER_SCALE
    landing = 0.0 if landing_exists else LANDING_GB_PER_SCALE
    return scale * (landing + checkouts * per_checkout) * SPILL_MARGIN


def replaced_gb(root: Path) -> float:
    """What an earlier run left under root that this one replaces (its warehouses, targets, scratch): free
    space for this run. Landing folders are kept (generated data, or hard links to it)."""
    total = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != "landing"]
        total += sum(os.lstat(os.path.join(folder, name)).st_size for name in files)
    return total / 1e9


def check_disk(scale: float, needed_gb: float, free_gb: float) -> None:
    """Stop before generating anything when the disk cannot hold the run (it would fail hours in)."""
    if free_gb < needed_gb:
        raise SystemExit(
            f"[bench] scale {scale:g} needs about {needed_gb:.0f} GB free under {BENCH_DIR}, and {free_gb:.0f} GB "
            "are: free some space, run a smaller scale, or pass --skip-disk-check to try anyway"
        )


def landing_generated(landing: Path) -> bool:
    """Whether an earlier invocation generated this landing folder (it is reused, not generated again)."""
    return (landing / "orders").exists()


def prepare_landing(scale: float, landing: Path) -> StepResult:
    """Generate the data once; every measurement of the invocation reads the same landing folder."""
    if landing_generated(landing):
        return StepResult("generate", 0.0, 0.0, "reused")
    return _run("generate", generate_command(scale, landing), dict(os.environ), f"scale {scale:g}, seed 42")


def _fresh(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)


def bench_env(landing: Path, root: Path) -> dict[str, str]:
    """The environment of one measured run: its own warehouse, dbt target and log folders under root."""
    env = dict(os.environ, CLM_LANDING_DIR=str(landing), CLM_WAREHOUSE_DIR=str(root / "warehouse"),
               DBT_TARGET_PATH=str(root / "target"), DBT_LOG_PATH=str(root / "logs"))
    env.setdefault("CLM_TARGET", "duckdb")
    return env


# --- the hand-written references -------------------------------------------------------------------


def _reference_result(name: str, result: StepResult, output: str) -> StepResult:
    """The row of a reference: the process's wall and peak, the SQL seconds and table sizes it printed."""
    report = json.loads(output.strip().splitlines()[-1])
    rows = ", ".join(f"{table} {count:,}" for table, count in report["rows"].items())
    note = f"bench/{name}.sql: SQL {report['sql_seconds']:.2f} s; rows: {rows}"
    return StepResult(result.name, result.seconds, result.peak_mb, note, "reference", report["sql_seconds"])


def run_references(warehouse_dir: Path, scratch_dir: Path) -> list[StepResult]:
    """Each reference in its own process (this checkout's SQL), on the warehouse's raw tables, read-only."""
    _fresh(scratch_dir)
    scratch = scratch_dir / "reference.duckdb"
    results = []
    for name, row in REFERENCES.items():
        cmd = [sys.executable, "-m", "orchestration.bench_reference", name,
               "--warehouse", str(warehouse_dir / "clm.duckdb"), "--scratch", str(scratch)]
        print(f"[bench] {row}", flush=True)
        seconds, peak_mb, code, output = _run_process(cmd, dict(os.environ), PROJECT_DIR)
        if code != 0:
            sys.stdout.write(output[-8000:])
            raise SystemExit(f"[bench] {row} failed")
        results.append(_reference_result(name, StepResult(row, seconds, peak_mb), output))
    return results


# --- the pipeline step by step, and the main job ------------------------------------------------------


def run_pipeline(scale: float, landing: Path, root: Path, skip: list[str], excluded: str = "",
                 project: Path = PROJECT_DIR, references: bool = False) -> tuple[list[StepResult], list[ModelTime]]:
    """Every step (but generate: see prepare_landing) into a fresh warehouse under root; the references
    right after ingest when asked. Returns the rows and the models' times of every dbt step."""
    _fresh(root / "warehouse", root / "target")
    env = bench_env(landing, root)
    if excluded:
        env["CLM_BENCH_EXCLUDED_MARTS"] = " ".join(model_names(excluded, env))
    rows: list[StepResult] = []
    models: list[ModelTime] = []
    run_results = root / "target" / "run_results.json"
    try:
        for name, cmd, note in steps(scale, landing, False, excluded, project):
            if name == "generate" or name in skip:
                continue
            run_results.unlink(missing_ok=True)
            rows.append(_run(name, cmd, env, note, cwd=project))
            models += read_run_results(run_results, name) if cmd[0] == DBT else []
            if name == "ingest" and references:
                rows += run_references(root / "warehouse", root / "reference")
    except (KeyboardInterrupt, SystemExit) as stop:
        # a long run stopped by hand (SIGINT) or a failed step still records the steps it finished
        rows.append(StepResult(f"(stopped: {stop!r:.60})", 0.0, 0.0, "later steps not run"))
    return rows, models


def job_run_results(target: Path, earlier: set[Path] | None = None) -> list[ModelTime]:
    """The models of every dbt build of a main job run: dagster-dbt gives each invocation its own folder
    <DBT_TARGET_PATH>/<op>-<run id>-<uuid>/ (op: one of the dbt steps, e.g. dbt_before_clv); the
    folders of earlier runs are left out."""
    models = []
    for path in sorted(set(target.glob("*/run_results.json")) - (earlier or set())):
        models += read_run_results(path, path.parent.name.split("-")[0])
    return models


def job_steps(home: Path) -> list[ModelTime]:
    """The seconds of each step of the newest run of the Dagster instance at home (step "job"), and of the
    phases of that run's publish (step: the publish's step key), from its event log."""
    import dagster as dg

    from orchestration.assets.publish import PUBLISH_PHASES, PUBLISHED_MARTS_KEY

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return []
        stats = instance.get_run_step_stats(runs[0].run_id)
        published = instance.get_latest_materialization_event(PUBLISHED_MARTS_KEY)
    steps = [ModelTime(s.step_key, s.end_time - s.start_time, JOB_STEP) for s in stats if s.start_time and s.end_time]
    if published is None or published.run_id != runs[0].run_id:
        return steps  # this run published nothing
    phases = published.asset_materialization.metadata["seconds"].value
    step = PUBLISHED_MARTS_KEY.to_python_identifier()
    # in the order the publish runs them: the event log stores the JSON with its keys sorted
    return steps + [ModelTime(phase, phases[phase], step) for phase in PUBLISH_PHASES if phase in phases]


def run_job(landing: Path, root: Path, project: Path = PROJECT_DIR, *, run: str = MAIN_JOB,
            new_tables: Collection[str] = ()) -> tuple[StepResult, list[ModelTime], list[ModelTime]]:
    """`python -m orchestration.run` (what `make run` runs) in project: the main job into a fresh warehouse
    under root, with a fresh DAGSTER_HOME holding a copy of the project's dagster.yaml; the next day or a
    file later that day (`run`), again on the same warehouse and Dagster instance (the incremental path),
    noting the raw rows loaded from the last day's files of `new_tables`. Returns the row, the models of its
    dbt builds and its Dagster steps."""
    home = root / "dagster_home"
    if run == MAIN_JOB:
        _fresh(root / "warehouse", root / "target", home)
        shutil.copy(project / "dagster.yaml", home / "dagster.yaml")
    env = dict(bench_env(landing, root), DAGSTER_HOME=str(home))
    cmd = [sys.executable, "-m", "orchestration.run"]
    builds_before = set((root / "target").glob("*/run_results.json"))
    print(f"[bench] {run}: python -m orchestration.run (in {project})…", flush=True)
    seconds, peak_mb, code, output = _run_process(cmd, env, project)
    note = "`python -m orchestration.run` as `make run`: ingest, dbt build, CLV, checks, publish, report"
    if run == NEXT_DAY:
        note = f"the same command after the last day's files landed: {_new_rows(env, last_day(landing), new_tables)}"
    elif run == SAME_DAY:
        note = (f"the same command after the last day's {', '.join(new_tables)} landed later that day (the as-of "
                f"date stays): {_new_rows(env, last_day(landing), new_tables)}")
    if code != 0:
        sys.stdout.write(output[-8000:])
        note = f"FAILED (exit {code}): see the job's output; {note}"
    return (StepResult(run, seconds, peak_mb, note, "job"), job_run_results(root / "target", builds_before),
            job_steps(home))


def last_day(landing: Path) -> str:
    """The newest date of the daily files (<table>_YYYY-MM-DD.csv)."""
    return max(path.stem.rsplit("_", 1)[-1] for path in landing.rglob("*_????-??-??.*"))


def link_landing(landing: Path, into: Path, day: str, *, only_day: bool, tables: Collection[str] | None = None) -> int:
    """Hard-link the landing files into `into` (same disk, no copy): every file but those of `day`, or
    only those (of `tables`, the folders under landing, when given). The main job runs on all days but the
    last; the next-day run then finds the last day, and a run later that day the files held back."""
    linked = 0
    for path in sorted(p for p in landing.rglob("*.*") if p.is_file()):
        if (path.stem.rsplit("_", 1)[-1] == day) != only_day:
            continue
        if tables is not None and path.relative_to(landing).parts[0] not in tables:
            continue
        target = into / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
        linked += 1
    return linked


def _new_rows(env: dict[str, str], day: str, tables: Collection[str]) -> str:
    """The raw rows the ledger loaded from the files of `day` of `tables`, per table."""
    if env.get("CLM_TARGET", "duckdb") != "duckdb":
        return "new raw rows: see the ledger"
    import duckdb

    con = duckdb.connect(str(Path(env["CLM_WAREHOUSE_DIR"]) / "clm.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select table_name, count(*), sum(row_count) from raw._load_ledger "
            "where file_name like ? and status = 'loaded' group by 1 order by 1",
            [f"%{day}.%"],
        ).fetchall()
        rows = [row for row in rows if row[0] in tables]
    finally:
        con.close()
    return "new raw rows " + ", ".join(f"{table} {n:,} ({files} files)" for table, files, n in rows)


def measure(label: str, scale: float, landing: Path, root: Path, mode: str, skip: list[str],
            project: Path = PROJECT_DIR) -> tuple[Measurement, str]:
    """One checkout's measurements on the landing data; returns them and the raw row counts."""
    m = Measurement(label)
    references = os.environ.get("CLM_TARGET", "duckdb") == "duckdb"
    counts = ""
    if mode in ("steps", "both"):
        rows, m.models = run_pipeline(scale, landing, root, skip, project=project, references=references)
        m.rows += rows
        counts = _row_counts(bench_env(landing, root))
    if mode in ("job", "both"):
        # the main job on every day but the last, then the next day: the same command, incremental
        days = root / "job" / "landing"
        _fresh(days)
        day = last_day(landing)
        link_landing(landing, days, day, only_day=False)
        job, m.job_models, m.job_steps = run_job(days, root / "job", project)
        if references and mode == "job":
            m.rows += run_references(root / "job" / "warehouse", root / "reference")
        counts = counts or _row_counts(bench_env(days, root / "job"))
        tables = {path.name for path in landing.iterdir() if path.is_dir()}
        next_tables = sorted(tables - set(LATER_THE_SAME_DAY))
        link_landing(landing, days, day, only_day=True, tables=next_tables)
        next_day, m.next_day_models, m.next_day_steps = run_job(
            days, root / "job", project, run=NEXT_DAY, new_tables=next_tables)
        link_landing(landing, days, day, only_day=True, tables=LATER_THE_SAME_DAY)
        same_day, _, m.same_day_steps = run_job(
            days, root / "job", project, run=SAME_DAY, new_tables=LATER_THE_SAME_DAY)
        m.rows += [job, next_day, same_day]
    return m, counts


# --- another commit's code --------------------------------------------------------------------------


def _git(*args: str, cwd: Path = PROJECT_DIR) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def imported_package(project: Path) -> Path:
    """Where `orchestration` is imported from by a Python started in project (as the bench starts it)."""
    code = "import orchestration, pathlib; print(pathlib.Path(orchestration.__file__).resolve().parent)"
    out = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@contextmanager
def baseline_checkout(commit: str) -> Iterator[tuple[Path, str]]:
    """A detached worktree of commit under .bench/ (removed afterwards) and the commit's full sha."""
    sha = _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    path = BENCH_DIR / f"worktree-{sha[:10]}"
    if path.exists():
        _git("worktree", "remove", "--force", str(path))
    _git("worktree", "add", "--detach", str(path), sha)
    try:
        package = imported_package(path)
        if package != (path / "orchestration").resolve():
            raise SystemExit(f"[bench] a Python started in {path} imports orchestration from {package}")
        yield path, sha
    finally:
        _git("worktree", "remove", "--force", str(path))


# --- writing ----------------------------------------------------------------------------------------


def _commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD")
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} (with uncommitted changes)" if changed else commit


def _header(scale: float, target: str, counts: str, title: str = "", commit: str | None = None) -> list[str]:
    return [
        "",
        f"### scale {scale:g} on {target}{title}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"commit {commit or _commit()}",
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}. "
        f"{counts}",
        "",
    ]


def _write(lines: list[str], results: Path = RESULTS) -> None:
    if not results.exists():
        results.write_text("# Benchmarks\n\nAppended by `make bench SCALE=n` (orchestration/bench.py).\n")
    with results.open("a") as handle:
        handle.write("\n".join(lines))


def _append_comparison(scale: float, target: str, before: list[StepResult], after: list[StepResult],
                       counts: str, work: str, results: Path = RESULTS) -> None:
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
    ], results)


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
    except duckdb.Error:
        return ""  # stopped before ingest finished
    finally:
        con.close()
    return "Raw rows: " + ", ".join(parts) + "."


def model_names(selector: str, env: dict[str, str]) -> list[str]:
    """Names of the models a dbt selector picks (`dbt ls`), e.g. the marts the "before" run does not publish."""
    listed = subprocess.run([DBT, "ls", "-q", "--resource-type", "model", "--select", selector,
                             "--output", "name", *DBT_ARGS], env=env, cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=True)
    return listed.stdout.split()


def describe(mode: str, baseline: str | None, head: str) -> str:
    """The paragraph under a section's header: what ran, in which order, on which code."""
    what = {
        "both": "the pipeline step by step (one process per step; the references right after ingest, on its "
                "warehouse), then the main job into a fresh warehouse",
        "steps": "the pipeline step by step (one process per step; the references right after ingest)",
        "job": "the main job into a fresh warehouse, then the references on its raw tables",
    }[mode]
    code = f"Before: commit {baseline} (a worktree); after: commit {head}. " if baseline else ""
    return (f"{code}One invocation, same landing data: {what}. References: bench/*.sql in their own "
            "processes (orchestration/bench.py explains the ratios).")


def before_after_lifecycle(args: argparse.Namespace, root: Path, landing: Path, generated: StepResult,
                           target: str) -> None:
    before, _ = run_pipeline(args.scale, landing, root, args.skip, excluded=LIFECYCLE_WORK)
    after, _ = run_pipeline(args.scale, landing, root, args.skip)
    counts = _row_counts(bench_env(landing, root))
    before, after = [generated, *before], [generated, *after]
    _append_comparison(args.scale, target, before, after, counts, args.before_after, args.results)
    for b, a in zip(before, after, strict=False):
        print(f"{a.name:24s} {b.seconds:8.1f} s -> {a.seconds:8.1f} s   {b.peak_mb:6.0f} -> {a.peak_mb:6.0f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--mode", choices=MODES, default="both",
                        help="steps: step by step; job: `python -m orchestration.run` end to end; both (default)")
    parser.add_argument("--skip", nargs="*", default=[], help="step names to skip")
    parser.add_argument("--baseline-commit", metavar="SHA",
                        help="also measure this commit's code (a git worktree) on the same data, before this one")
    parser.add_argument("--before-after", choices=["lifecycle"],
                        help="run without the named work, then whole, on the same data, and compare")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file appended to")
    parser.add_argument("--skip-disk-check", action="store_true", help="run even if the disk looks too small")
    args = parser.parse_args(argv)
    root = BENCH_DIR / f"scale-{args.scale:g}"
    landing = root / "landing"
    target = os.environ.get("CLM_TARGET", "duckdb")
    if not args.skip_disk_check:
        BENCH_DIR.mkdir(exist_ok=True)
        # a baseline's warehouses stay beside this checkout's; the lifecycle comparison reuses one folder
        checkouts = 2 if args.baseline_commit else 1
        mode = "steps" if args.before_after else args.mode
        needed = disk_needed_gb(args.scale, landing_exists=landing_generated(landing), mode=mode,
                                checkouts=checkouts)
        check_disk(args.scale, needed, shutil.disk_usage(BENCH_DIR).free / 1e9 + replaced_gb(root))
    generated = prepare_landing(args.scale, landing)
    if args.before_after:
        before_after_lifecycle(args, root, landing, generated, target)
        return

    measurements = []
    baseline = None
    if args.baseline_commit:
        with baseline_checkout(args.baseline_commit) as (worktree, sha):
            baseline = sha[:7]
            before, _ = measure("before", args.scale, landing, root / f"baseline-{sha[:10]}", args.mode,
                                args.skip, worktree)
            measurements.append(before)
    head = _commit()
    after, counts = measure("after" if baseline else "this run", args.scale, landing, root, args.mode, args.skip)
    measurements.append(after)
    for m in measurements:
        m.rows.insert(0, generated)
    title = f", before ({baseline}) and after" if baseline else ""
    _write(report_lines(_header(args.scale, target, counts, title, head), measurements,
                        describe(args.mode, baseline, head)), args.results)
    print("\n".join(console_lines(measurements)))
    print(f"[bench] appended to {args.results}")


if __name__ == "__main__":
    main()
