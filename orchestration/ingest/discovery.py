"""Finding landed files: `<landing>/<table>/**/<name>.csv|.parquet`, and hashing them."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from orchestration.contract import RAW_TABLES
from orchestration.settings import Settings

FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet"}
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class LandedFile:
    """One file in the landing folder, with the cheap facts that tell whether it changed."""

    table: str
    path: Path
    file_name: str  # relative to the landing folder, forward slashes: the key in the ledger
    size_bytes: int
    mtime_ns: int

    @property
    def format(self) -> str:
        return FORMATS[self.path.suffix.lower()]


def check_table(table: str) -> None:
    if table not in RAW_TABLES:
        raise ValueError(f"unknown raw table {table!r}; expected one of {', '.join(RAW_TABLES)}")


def _is_hidden(name: str) -> bool:
    # '.x' and '_x' are files still being written or markers (.part, _SUCCESS, _temporary/), by the
    # convention of Spark, Hadoop and most EL tools: never load them.
    return name.startswith((".", "_"))


def scan_landed(settings: Settings, table: str) -> list[LandedFile]:
    """Landed files of one table, sorted by file name; a missing folder means no files.

    os.walk/scandir rather than Path.rglob: the sensor stats thousands of files on every tick.
    """
    check_table(table)
    landing = settings.landing_dir
    found: list[LandedFile] = []
    for folder, subfolders, names in os.walk(landing / table):
        subfolders[:] = sorted(d for d in subfolders if not _is_hidden(d))
        relative_folder = Path(folder).relative_to(landing).as_posix()
        for name in names:
            if _is_hidden(name) or os.path.splitext(name)[1].lower() not in FORMATS:
                continue
            path = Path(folder, name)
            try:
                stat = path.stat()
            except FileNotFoundError:  # moved away between listing and stat
                continue
            found.append(
                LandedFile(
                    table=table,
                    path=path,
                    file_name=f"{relative_folder}/{name}",
                    size_bytes=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                )
            )
    return sorted(found, key=lambda f: f.file_name)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def hash_files(files: list[LandedFile]) -> dict[str, str]:
    """sha256 per file name; hashlib releases the GIL, so threads read and hash in parallel."""
    if not files:
        return {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = pool.map(lambda f: sha256_of(f.path), files)
        return {f.file_name: digest for f, digest in zip(files, digests, strict=True)}
