"""A description for every dbt test shown as a Dagster asset check.

A test's own `description` (or `meta.description`) wins; a singular test is described by the comment at
the top of its SQL file; a generic test by what it asserts, from its name and arguments
("customer_id is unique", "status is one of: completed, returned").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LEADING_COMMENT = re.compile(r"^\s*(?:\{\{.*?\}\}\s*)?((?:--[^\n]*\n\s*)+)", re.DOTALL)


def _listed(values: Any, limit: int = 8) -> str:
    items = [str(v) for v in (values if isinstance(values, list | tuple) else [values])]
    return ", ".join(items[:limit]) + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def _ref_name(expression: Any) -> str:
    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]", str(expression))
    return match.group(1) if match else str(expression)


def generic_test_description(name: str, kwargs: Mapping[str, Any], column: str | None) -> str:
    where = f" (where {kwargs['where']})" if kwargs.get("config", {}).get("where") or kwargs.get("where") else ""
    if name == "not_null":
        return f"{column} is never null{where}"
    if name == "unique":
        return f"{column} is unique: no two rows share a value{where}"
    if name == "accepted_values":
        return f"{column} is one of: {_listed(kwargs.get('values', []))}{where}"
    if name == "relationships":
        return f"every {column} exists as {kwargs.get('field')} in {_ref_name(kwargs.get('to'))}{where}"
    if name == "value_unique_combination":
        scoped = " (after an incremental run: in the rows of its scope, where a duplicate can arise)"
        key = f"no two rows share ({_listed(kwargs.get('columns', []), 20)}) and none of them is null"
        return key + (scoped if kwargs.get("in_run_scope") else "")
    arguments = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in {"model", "column_name"})
    subject = f"{column}: " if column else ""
    return f"{subject}dbt test {name}" + (f" ({arguments})" if arguments else "")


def singular_test_description(raw_code: str, name: str, path: str) -> str:
    match = _LEADING_COMMENT.match(raw_code)
    if match:
        lines = [line.strip().removeprefix("--").strip() for line in match.group(1).splitlines()]
        text = " ".join(line for line in lines if line and not line.startswith("noqa"))
        if text:
            return text
    return f"{name} ({path}) returns no rows"


def dbt_test_description(test: Mapping[str, Any]) -> str:
    """The description of a dbt test node of the manifest."""
    own = test.get("description") or (test.get("meta") or {}).get("description")
    if own:
        return own
    metadata = test.get("test_metadata")
    if metadata:
        return generic_test_description(metadata["name"], metadata.get("kwargs") or {}, test.get("column_name"))
    return singular_test_description(test.get("raw_code") or "", test["name"], test.get("original_file_path", ""))
