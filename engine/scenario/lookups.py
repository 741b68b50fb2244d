"""Lookups of routes, facilities and network parts that raise :class:`ScenarioError` (with a
"did you mean" for unknown ids)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.model import Network, Parking, Timetable
from engine.scenario.base import ScenarioError


def _need_timetable(network: Network, kind: str, field_name: str) -> Timetable:
    if network.timetable is None:
        raise ScenarioError(kind, field_name, "the network has no timetable")
    return network.timetable


def _need_street(network: Network, kind: str, field_name: str):
    if network.street is None or network.street.n_edges == 0:
        raise ScenarioError(kind, field_name, "the network has no street graph")
    return network.street


def _close_matches(wanted: str, known: np.ndarray, n: int = 3) -> str:
    import difflib

    hits = difflib.get_close_matches(wanted, [str(k) for k in known], n=n)
    return f" (did you mean {', '.join(repr(h) for h in hits)}?)" if hits else ""


def line_index(tt: Timetable, route: str, *, kind: str, field_name: str = "route") -> int:
    """line_idx of a GTFS route_id, or of a route short name that only one route has."""
    ids = np.asarray(tt.line_ids).astype(str)
    hit = np.flatnonzero(ids == route)
    if hit.size == 0:
        hit = np.flatnonzero(np.asarray(tt.line_short_name).astype(str) == route)
        if hit.size > 1:
            raise ScenarioError(kind, field_name, f"short name {route!r} is shared by routes "
                                f"{', '.join(ids[hit])}: give the route_id")
    if hit.size == 0:
        raise ScenarioError(kind, field_name, f"unknown route {route!r}{_close_matches(route, ids)}")
    return int(hit[0])


def _line_label(tt: Timetable, line: int) -> str:
    short = str(tt.line_short_name[line]).strip()
    return f"route {short}" if short else f"route {tt.line_ids[line]}"


def facility_indices(parking: Parking, ids: Sequence[str], *, kind: str,
                     field_name: str = "facilities") -> np.ndarray:
    """facility_idx of each id; raises ScenarioError naming the first unknown one."""
    known = np.asarray(parking.facility_ids).astype(str)
    index = {f: i for i, f in enumerate(known)}
    out = []
    for fid in ids:
        if fid not in index:
            raise ScenarioError(kind, field_name,
                                f"unknown parking facility {fid!r}{_close_matches(fid, known)}")
        out.append(index[fid])
    return np.asarray(out, dtype=np.int64)


def _facility_label(parking: Parking, f: int) -> str:
    name = str(parking.facility_name[f]).strip()
    return name or str(parking.facility_ids[f])
