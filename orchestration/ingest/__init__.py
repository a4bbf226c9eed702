"""Idempotent ingest of landed files into the warehouse's `raw` schema, with a load ledger.

Plain functions for Dagster assets and sensors; the settings come from orchestration.settings.
"""

from orchestration.ingest.inspection import InvalidLandedFileError, MissingRequiredColumnError
from orchestration.ingest.pipeline import (
    REQUIRED_LANDING_TABLES,
    FileLoad,
    MissingLandingFolderError,
    ensure_raw_schema,
    ingest_all,
    ingest_table,
    landed_files,
    pending_files,
)

__all__ = [
    "REQUIRED_LANDING_TABLES",
    "FileLoad",
    "InvalidLandedFileError",
    "MissingLandingFolderError",
    "MissingRequiredColumnError",
    "ensure_raw_schema",
    "ingest_all",
    "ingest_table",
    "landed_files",
    "pending_files",
]
