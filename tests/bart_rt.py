"""The BART bundle with GTFS-Realtime feeds (``../shared/data/gtfs_rt``), built once per run and
shared by xdist workers (file lock), for the real-time CLI, server and page tests."""
from __future__ import annotations

from pathlib import Path

from filelock import FileLock

from tests.conftest import SHARED_DATA

RT = SHARED_DATA / "gtfs_rt"
AVAILABLE = (RT / "bart-rt.zip").exists()


def bart_rt_bundle(base: Path) -> Path:
    """The BART static feed built without OSM under ``base`` (once)."""
    from loaders.build import BuildOptions, build_bundle

    out = base / "bundle-bart-rt"
    with FileLock(str(base / "bundle-bart-rt.lock")):
        if not (out / "manifest.json").exists():
            build_bundle(BuildOptions(gtfs=[RT / "bart-rt.zip"], progress=False), out)
    return out
