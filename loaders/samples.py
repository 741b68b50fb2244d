"""The sample cities of ``data_samples/manifest.json``: where their files are, and how to build them.

A manifest entry names real open-data files (``shared:`` paths, public URL and sha256) and files
this project writes itself (``local:`` paths under ``data_samples/``). :func:`resolve_file` finds a
shared file in ``../shared/data`` beside the checkout (or ``$TRAJET_DATA_DIR``) and otherwise
downloads it once into ``~/.cache/trajet`` (``$TRAJET_CACHE_DIR``), checking its sha256 either way.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_DIR = PROJECT_ROOT / "data_samples"
MANIFEST_PATH = SAMPLES_DIR / "manifest.json"


class SampleError(Exception):
    """A sample that cannot be resolved: unknown name, missing file, failed download, bad sha256."""


def shared_data_dirs() -> list[Path]:
    """Where real open data may lie, in order: $TRAJET_DATA_DIR, ../shared/data, ./shared/data."""
    dirs = []
    if os.environ.get("TRAJET_DATA_DIR"):
        dirs.append(Path(os.environ["TRAJET_DATA_DIR"]))
    dirs += [PROJECT_ROOT.parent / "shared" / "data", PROJECT_ROOT / "shared" / "data"]
    return dirs


def cache_dir() -> Path:
    return Path(os.environ.get("TRAJET_CACHE_DIR", Path.home() / ".cache" / "trajet"))


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SampleError(f"cannot read the sample manifest {path}: {exc}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, dest: Path, sha256: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    os.close(fd)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        got = _sha256(Path(tmp))
        if got != sha256:
            raise SampleError(f"download of {url} has sha256 {got}, the manifest says {sha256}")
        os.replace(tmp, dest)
    except OSError as exc:
        raise SampleError(f"cannot download {url}: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def resolve_file(ref: str, manifest: dict | None = None, *, check_sha256: bool = True) -> Path:
    """The local path of a manifest file reference (``shared:REL`` or ``local:REL``).

    Raises SampleError when the file is absent and cannot be fetched or its sha256 differs.
    """
    manifest = manifest or load_manifest()
    kind, _, rel = ref.partition(":")
    if kind == "local":
        path = SAMPLES_DIR / rel
        if not path.exists():
            raise SampleError(f"{path} is missing: it is part of the repository's data_samples/")
        return path
    if kind != "shared":
        raise SampleError(f"bad file reference {ref!r}: expected 'shared:...' or 'local:...'")
    entry = manifest["files"].get(rel)
    if entry is None:
        raise SampleError(f"{rel} is not listed in {MANIFEST_PATH}")
    for base in shared_data_dirs():
        path = base / rel
        if path.is_file():
            if check_sha256 and path.stat().st_size != entry["bytes"]:
                raise SampleError(f"{path} has {path.stat().st_size} bytes, the manifest says "
                                  f"{entry['bytes']}: not the expected file")
            return path
    cached = cache_dir() / rel
    if cached.is_file() and (not check_sha256 or _sha256(cached) == entry["sha256"]):
        return cached
    _download(entry["url"], cached, entry["sha256"])
    return cached


@dataclass
class SampleRecipe:
    """The inputs of ``trajet build`` for one sample city, as local paths."""

    name: str
    gtfs: list[Path] = field(default_factory=list)
    osm: Path | None = None
    bike_lanes: list[Path] = field(default_factory=list)
    parking_facilities: list[Path] = field(default_factory=list)
    parking_history: Path | None = None
    parking_history_preset: str | None = None
    holidays_country: str | None = None


def sample_names(manifest: dict | None = None) -> list[str]:
    return sorted((manifest or load_manifest())["samples"])


def resolve_sample(name: str, manifest: dict | None = None) -> SampleRecipe:
    """The local input files of a sample city, fetching shared files if needed."""
    manifest = manifest or load_manifest()
    sample = manifest["samples"].get(name)
    if sample is None:
        raise SampleError(f"unknown sample {name!r}; known: {', '.join(sample_names(manifest))}")
    history = sample.get("parking_history")
    return SampleRecipe(
        name=name,
        gtfs=[resolve_file(r, manifest) for r in sample.get("gtfs", [])],
        osm=resolve_file(sample["osm"], manifest) if sample.get("osm") else None,
        bike_lanes=[resolve_file(r, manifest) for r in sample.get("bike_lanes", [])],
        parking_facilities=[resolve_file(r, manifest) for r in sample.get("parking_facilities", [])],
        parking_history=resolve_file(history["path"], manifest) if history else None,
        parking_history_preset=history.get("preset") if history else None,
        holidays_country=sample.get("holidays_country"),
    )
