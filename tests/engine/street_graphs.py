"""Street graphs the street tests share: the tiny town (checked by hand), Monaco's real extract,
and a synthetic grid with one-way streets and footways (some pairs unreachable by car or bike)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.synthetic import grid_street_graph
from engine.model import StreetGraph
from loaders.osm import street_graph_from_osm
from loaders.report import BuildReport

ROOT = Path(__file__).resolve().parents[2]
TINY_TOWN = ROOT / "data_samples" / "tiny_town" / "tiny_town.osm"
MONACO_PBF = ROOT / ".." / "shared" / "data" / "monaco" / "monaco.osm.pbf"


def tiny_town_streets() -> StreetGraph:
    return street_graph_from_osm(TINY_TOWN, BuildReport()).street


def monaco_streets() -> StreetGraph:
    if not MONACO_PBF.exists():
        pytest.skip("../shared/data/monaco missing")
    return street_graph_from_osm(MONACO_PBF, BuildReport()).street


def one_way_grid() -> StreetGraph:
    # Many one-way streets without contraflow and footways: some nodes fall out of the car and
    # bike components, so some pairs are unreachable.
    return grid_street_graph(24, 18, seed=5, one_way_share=0.35, contraflow_share=0.3,
                             footway_share=0.1)
