"""What the benchmark measured and how it is written: results, dbt's per-model times, ratios, the tables
appended to docs/benchmarks.md. No processes run here (orchestration/bench.py runs them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SLOWEST_MODELS = 10
CORE_REFERENCE = "reference: core lifecycle"
# each staging base model and the row of its hand-written reference (bench/staging_<table>.sql)
STAGING_REFERENCES = {
    "base_crm__orders": "reference: staging orders",
    "base_crm__customers": "reference: staging customers",
    "base_crm__calls": "reference: staging calls",
    "base_crm__complaints": "reference: staging complaints",
}
MAIN_JOB = "main job"
NEXT_DAY = "main job, next day (incremental)"
SAME_DAY = "main job, later the same day (incremental)"
JOB_STEP = "job"  # the `step` of a Dagster step's time (ModelTime); a phase of a step has the step's key
# the bounds the issue asks the figures to show
JOB_BOUND = 5.0
STAGING_BOUND = 1.5
NEXT_DAY_BOUND = 0.10


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    peak_mb: float
    note: str = ""
    kind: str = "step"  # step | reference | job
    sql_seconds: float | None = None  # references: seconds spent in SQL, without interpreter start-up


@dataclass(frozen=True)
class ModelTime:
    """One model's execution_time in a dbt run_results.json, and the dbt step (or job op) that ran it."""

    name: str
    seconds: float
    step: str


@dataclass
class Measurement:
    """Everything measured for one checkout of the code on the data: the step rows (pipeline steps,
    references, the main job, in the order they ran) and the per-model times of the dbt steps and of the
    main job's dbt builds."""

    label: str
    rows: list[StepResult] = field(default_factory=list)
    models: list[ModelTime] = field(default_factory=list)
    job_models: list[ModelTime] = field(default_factory=list)
    next_day_models: list[ModelTime] = field(default_factory=list)
    job_steps: list[ModelTime] = field(default_factory=list)  # Dagster steps of the main job (step: "job")
    next_day_steps: list[ModelTime] = field(default_factory=list)  # ... of its next day
    same_day_steps: list[ModelTime] = field(default_factory=list)  # ... of a file later that day

    def job_runs(self) -> list[tuple[str, list[ModelTime], str]]:
        """Each run of the main job: the title of its column, its Dagster times and the name of its row."""
        return [("full s", self.job_steps, MAIN_JOB), ("next day s", self.next_day_steps, NEXT_DAY),
                ("same day s", self.same_day_steps, SAME_DAY)]

    def row(self, name: str) -> StepResult | None:
        return next((r for r in self.rows if r.name == name), None)

    def steps(self) -> list[StepResult]:
        return [r for r in self.rows if r.kind == "step"]

    def model_seconds(self, name: str) -> float | None:
        """A model's time from the dbt steps, else from the main job's dbt builds."""
        for times in (self.models, self.job_models):
            found = [m.seconds for m in times if m.name == name]
            if found:
                return sum(found)
        return None


def read_run_results(path: Path, step: str) -> list[ModelTime]:
    """The models of one dbt invocation's run_results.json (tests, seeds, snapshots and hooks left out)."""
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    return [
        ModelTime(".".join(r["unique_id"].split(".")[2:]), float(r["execution_time"]), step)
        for r in results
        if r["unique_id"].startswith("model.")
    ]


def slowest(models: list[ModelTime], n: int = SLOWEST_MODELS) -> list[ModelTime]:
    return sorted(models, key=lambda m: (-m.seconds, m.name))[:n]


def ratio_text(after: float, before: float) -> str:
    if before > 0.05:
        return f"×{after / before:.2f}"
    return "new" if after > 0.05 else "–"


def _quotient(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def ratios(m: Measurement) -> list[tuple[str, float | None, str]]:
    """(what, value, bound) for the figures the issue asks for; None when a part was not measured."""
    job, core = m.row(MAIN_JOB), m.row(CORE_REFERENCE)
    next_day, same_day = m.row(NEXT_DAY), m.row(SAME_DAY)
    job_failed = job is not None and job.note.startswith("FAILED")
    next_day_failed = job_failed or (next_day is not None and next_day.note.startswith("FAILED"))
    same_day_failed = next_day_failed or (same_day is not None and same_day.note.startswith("FAILED"))
    staging = [
        (f"{model} (dbt run_results) / {reference.removeprefix('reference: ')} reference (SQL)",
         _quotient(m.model_seconds(model), (row := m.row(reference)) and row.sql_seconds), f"≤ {STAGING_BOUND:g}")
        for model, reference in STAGING_REFERENCES.items()
    ]
    return [
        ("main job / core lifecycle reference (wall)",
         None if job_failed else _quotient(job and job.seconds, core and core.seconds), f"≤ {JOB_BOUND:g}"),
        *staging,
        ("main job / core lifecycle reference (peak RSS)",
         _quotient(job and job.peak_mb, core and core.peak_mb), ""),
        (f"{NEXT_DAY} / main job (wall)",
         None if next_day_failed else _quotient(next_day and next_day.seconds, job and job.seconds),
         f"≤ {NEXT_DAY_BOUND:g}"),
        (f"{SAME_DAY} / main job (wall)",
         None if same_day_failed else _quotient(same_day and same_day.seconds, job and job.seconds), ""),
    ]


def _times(value: float | None) -> str:
    return "–" if value is None else f"×{value:.2f}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _cell(times: list[ModelTime], name: str) -> str:
    return _seconds(sum(t.seconds for t in times if t.name == name) or None)


def _total(m: Measurement) -> StepResult:
    steps = [r for r in m.steps() if r.name != "generate"]
    return StepResult("**pipeline steps total**", sum(r.seconds for r in steps),
                      max((r.peak_mb for r in steps), default=0.0), "ingest to publish, one process per step")


def _display_rows(m: Measurement) -> list[StepResult]:
    """The rows in the order they ran, the pipeline total before the main job."""
    rows = [r for r in m.rows if r.kind != "job"]
    if any(r.name != "generate" for r in m.steps()):
        rows.append(_total(m))
    return rows + [r for r in m.rows if r.kind == "job"]


def measurement_table(m: Measurement) -> list[str]:
    return [
        "| measurement | wall s | peak MB | note |",
        "| --- | ---: | ---: | --- |",
        *[f"| {r.name} | {r.seconds:.1f} | {r.peak_mb:.0f} | {r.note} |" for r in _display_rows(m)],
    ]


def comparison_table(before: Measurement, after: Measurement) -> list[str]:
    """Each row of the after run beside the same row of the before run (matched by name)."""
    by_name = {r.name: r for r in _display_rows(before)}
    lines = [
        "| measurement | before s | after s | ratio | before MB | after MB | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in _display_rows(after):
        b = by_name.get(r.name, StepResult(r.name, 0.0, 0.0))
        lines.append(f"| {r.name} | {b.seconds:.1f} | {r.seconds:.1f} | {ratio_text(r.seconds, b.seconds)} "
                     f"| {b.peak_mb:.0f} | {r.peak_mb:.0f} | {r.note} |")
    return lines


def ratio_table(measurements: list[Measurement]) -> list[str]:
    columns = [m.label for m in measurements]
    rows = [ratios(m) for m in measurements]
    lines = [
        f"| ratio (same data, same invocation) | {' | '.join(columns)} | bound |",
        f"| --- |{' ---: |' * len(columns)} --- |",
    ]
    for i, (what, _, bound) in enumerate(rows[0]):
        values = " | ".join(_times(r[i][1]) for r in rows)
        lines.append(f"| {what} | {values} | {bound} |")
    return lines


def models_table(measurements: list[Measurement]) -> list[str]:
    """The slowest models of the last measurement (its dbt steps, else its main job), with the other
    sources' time for the same model beside them."""
    last = measurements[-1]
    source = last.models or last.job_models
    columns: list[tuple[str, list[ModelTime]]] = []
    for m in measurements:
        prefix = f"{m.label} " if len(measurements) > 1 else ""
        if m.models:
            columns.append((f"{prefix}dbt steps s", m.models))
        if m.job_models:
            columns.append((f"{prefix}main job s", m.job_models))
    lines = [
        f"| model | {' | '.join(title for title, _ in columns)} | dbt step |",
        f"| --- |{' ---: |' * len(columns)} --- |",
    ]
    for model in slowest(source):
        cells = " | ".join(_cell(times, model.name) for _, times in columns)
        lines.append(f"| {model.name} | {cells} | {model.step} |")
    return lines


def _step_columns(
    measurements: list[Measurement], step: str = JOB_STEP
) -> list[tuple[str, list[ModelTime], StepResult | None]]:
    """A column for each run that has times of `step` (JOB_STEP: the Dagster steps; a step's key: its phases)."""
    columns = []
    for m in measurements:
        prefix = f"{m.label} " if len(measurements) > 1 else ""
        for title, times, row in m.job_runs():
            columns.append((prefix + title, [t for t in times if t.step == step], m.row(row)))
    return [column for column in columns if column[1]]


def job_steps_table(measurements: list[Measurement]) -> list[str]:
    """Every Dagster step of the main job, of its next day and of a file later that day (from the run's event
    log), the slowest of the last full build first, and what the job's wall time spent outside them
    (start-up, parsing the project, the summary)."""
    columns = _step_columns(measurements)
    if not columns:
        return []
    last_full = {t.name: t.seconds for t in measurements[-1].job_steps if t.step == JOB_STEP}
    names = sorted({t.name for _, times, _ in columns for t in times}, key=lambda n: (-last_full.get(n, 0.0), n))

    lines = [
        f"| Dagster step | {' | '.join(title for title, _, _ in columns)} |",
        f"| --- |{' ---: |' * len(columns)}",
        *[f"| {name} | {' | '.join(_cell(times, name) for _, times, _ in columns)} |" for name in names],
    ]
    outside = [_seconds(job.seconds - sum(t.seconds for t in times)) if job else "–" for _, times, job in columns]
    return [*lines, f"| (outside the steps) | {' | '.join(outside)} |"]


def phased_steps(measurements: list[Measurement]) -> list[str]:
    """The Dagster steps that reported the times of their phases (the publish)."""
    runs = [times for m in measurements for _, times, _ in m.job_runs()]
    return sorted({t.step for times in runs for t in times if t.step != JOB_STEP})


def step_phases_table(measurements: list[Measurement], step: str) -> list[str]:
    """The phases of one Dagster step in each run, in the order the step ran them, and what the step's time
    spent outside them. A table of their own: as rows of the steps table they would count twice."""
    columns = _step_columns(measurements, step)
    if not columns:
        return []
    names = list(dict.fromkeys(t.name for _, times, _ in columns for t in times))
    steps = {title: times for title, times, _ in _step_columns(measurements)}

    def rest(title: str, phases: list[ModelTime]) -> str:
        whole = [t.seconds for t in steps.get(title, []) if t.name == step]
        return _seconds(whole[0] - sum(t.seconds for t in phases)) if whole else "–"

    return [
        f"| phase of {step} | {' | '.join(title for title, _, _ in columns)} |",
        f"| --- |{' ---: |' * len(columns)}",
        *[f"| {name} | {' | '.join(_cell(times, name) for _, times, _ in columns)} |" for name in names],
        f"| (rest of the step) | {' | '.join(rest(title, times) for title, times, _ in columns)} |",
    ]


def report_lines(header: list[str], measurements: list[Measurement], description: str) -> list[str]:
    """The section appended to docs/benchmarks.md for one invocation (one or two measurements)."""
    table = (measurement_table(measurements[0]) if len(measurements) == 1
             else comparison_table(measurements[0], measurements[-1]))
    lines = [*header, description, "", *table, "", *ratio_table(measurements), ""]
    if any(m.models or m.job_models for m in measurements):
        lines += [f"Slowest {SLOWEST_MODELS} models (dbt run_results.json, execution_time in seconds):", "",
                  *models_table(measurements), ""]
    if steps := job_steps_table(measurements):
        lines += ["Steps of the main job, its next day and a file later that day (Dagster's event log, seconds):",
                  "", *steps, ""]
    for step in phased_steps(measurements):
        lines += [f"Phases of {step} (the seconds in its materialization's metadata):", "",
                  *step_phases_table(measurements, step), ""]
    last = measurements[-1]
    if last.next_day_models:
        lines += [f"Slowest {SLOWEST_MODELS} models of the next day's incremental run:", "",
                  "| model | s | dbt step |", "| --- | ---: | --- |",
                  *[f"| {t.name} | {t.seconds:.2f} | {t.step} |" for t in slowest(last.next_day_models)], ""]
    return lines


def console_lines(measurements: list[Measurement]) -> list[str]:
    """A short summary for the terminal."""
    lines = []
    for m in measurements:
        lines.append(f"== {m.label}")
        lines += [f"{r.name:34s} {r.seconds:8.2f} s {r.peak_mb:8.0f} MB  {r.note}" for r in _display_rows(m)]
        lines += [f"{what:64s} {_times(value):>8s}  ({bound or 'no bound'})" for what, value, bound in ratios(m)]
        lines += [f"  {t.name:48s} {t.seconds:8.2f} s  {t.step}" for t in slowest(m.models or m.job_models)]
    return lines
