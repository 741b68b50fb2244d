"""Porto Alegre's streets (r5r's sample city, the extract with the most on-street parking tags)
as a bundle built once per test run, and a busy destination among its street zones."""
from __future__ import annotations

from pathlib import Path

import pytest
from filelock import FileLock

from tests.conftest import SHARED_DATA

POA_OSM = SHARED_DATA / "porto_alegre" / "poa_osm.pbf"

# Near Rua Otávio Francisco Caruso da Rocha (Azenha): 420 zone spaces within 300 m, the most of
# the extract. The origin is 2.5 km south-east.
BUSY_DESTINATION = (-51.23873, -30.03908)
ORIGIN = (-51.2200, -30.0600)


def poa_bundle(base: Path) -> Path:
    """The streets-only bundle of Porto Alegre under ``base`` (built once: file lock)."""
    if not POA_OSM.exists():
        pytest.skip("../shared/data/porto_alegre is not beside the checkout")
    from loaders.build import BuildOptions, build_bundle

    out = base / "bundle-porto-alegre"
    with FileLock(str(base / "bundle-porto-alegre.lock")):
        if not (out / "manifest.json").exists():
            build_bundle(BuildOptions(osm=POA_OSM, timezone="America/Sao_Paulo", progress=False),
                         out)
    return out
