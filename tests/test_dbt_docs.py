"""The dbt docs site has an overview page and every column of the staging base models (the widest,
most technical tables) is documented: checked against the columns a real build created."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engines import BuiltWarehouse, query


def test_overview_page_and_every_base_column_documented(duckdb_warehouse: BuiltWarehouse) -> None:
    manifest = json.loads((Path(duckdb_warehouse.env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    overview = manifest["docs"]["doc.customer_lifecycle.__overview__"]["block_contents"]
    assert "Where to start" in overview and "fct_customer_lifecycle_monthly" in overview
    bases = {n["name"]: n for n in manifest["nodes"].values() if n["name"].startswith("base_crm__")}
    assert len(bases) == 5
    undocumented = []
    for name, node in bases.items():
        built = [
            c
            for (c,) in query(
                duckdb_warehouse,
                "select column_name from information_schema.columns "
                f"where table_name = '{name}' order by ordinal_position",
            )
        ]
        assert len(built) > 15
        documented = {c for c, props in node["columns"].items() if props.get("description", "").strip()}
        undocumented += [f"{name}.{c}" for c in built if c not in documented]
        assert not [c for c in node["columns"] if c not in built], name  # no documented column that is not built
    assert undocumented == []
