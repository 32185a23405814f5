"""Put public downloads (UCDP GED, UN personnel contributions) into the inbox, as they are.

``pocmon import-public`` copies each file into its source's inbox folder (a ``.zip`` as UCDP
ships it is unpacked: its CSV, GeoJSON or Excel members), then the weekly job reads them
through the same contracts, quarantine and manifest as every other file. Nothing here reads
or changes the contents.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

DATA_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json")


class ImportProblem(Exception):
    """A file that cannot be taken in (missing, not a data file, an empty archive)."""


def _unzip(archive: Path, folder: Path) -> list[Path]:
    written = []
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            name = PurePosixPath(member.filename).name
            if member.is_dir() or name.startswith((".", "__")) or \
                    PurePosixPath(name).suffix.lower() not in DATA_SUFFIXES:
                continue
            target = folder / _inbox_name(name)
            with bundle.open(member) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            written.append(target)
    if not written:
        raise ImportProblem(f"{archive.name}: the archive holds no CSV, GeoJSON or Excel file")
    return written


def _inbox_name(name: str) -> str:
    """GeoJSON saved as .json keeps its name but takes the .geojson suffix the inbox reads."""
    path = PurePosixPath(name)
    return f"{path.stem}.geojson" if path.suffix.lower() == ".json" else path.name


def stage(path: Path, source: str, inbox: Path) -> list[Path]:
    """Copy one download into ``inbox/<source>/`` (unpacking a .zip); returns the inbox
    files. A file of the same name is replaced: the job then supersedes the earlier load."""
    if not path.is_file():
        raise ImportProblem(f"{path}: no such file")
    folder = inbox / source
    folder.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        if not zipfile.is_zipfile(path):
            raise ImportProblem(f"{path.name}: not a zip archive")
        return _unzip(path, folder)
    if suffix not in DATA_SUFFIXES:
        raise ImportProblem(f"{path.name}: not a data file (use .csv, .geojson, .xlsx or a .zip "
                            "of them, as downloaded)")
    target = folder / _inbox_name(path.name)
    if target.resolve() != path.resolve():
        shutil.copy2(path, target)
    return [target]
