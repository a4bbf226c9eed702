"""`python -m orchestration.ingest [--pending]`: load the landing folder into raw by hand (settings from
the environment, as everywhere), or only list the files a load would pick up."""

from __future__ import annotations

import argparse
import logging
from collections import Counter

from orchestration.ingest.pipeline import ingest_all, pending_files
from orchestration.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.ingest", description=__doc__)
    parser.add_argument("--pending", action="store_true", help="list new landed files; load nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    if args.pending:
        for path in pending_files(settings):
            print(path)
        return 0
    for table, loads in ingest_all(settings).items():
        statuses = Counter(load.status for load in loads)
        loaded_rows = sum(load.rows for load in loads if load.status == "loaded")
        summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())) or "no files"
        print(f"{table}: {loaded_rows} new rows ({summary})")
        for load in loads:
            if load.extra_columns and load.status != "already_loaded":
                print(f"  {load.file_name}: extra columns ignored: {', '.join(load.extra_columns)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
