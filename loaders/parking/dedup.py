"""Records of one facility in several sources: found (near, same family, similar names) and
merged into the earliest record."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from loaders.parking.names import names_similar
from loaders.parking.schema import BIKE_KINDS
from loaders.report import BuildReport, quoted

DEDUP_DISTANCE_M = 50.0
"""Records of different sources closer than this, with similar names, are one facility."""


def _dedup_across_sources(df: pd.DataFrame, x: np.ndarray, y: np.ndarray, distance_m: float,
                          report: BuildReport) -> tuple[np.ndarray, dict[int, list[int]]]:
    """(alive mask, survivor -> absorbed rows) after merging cross-source duplicates."""
    n = len(df)
    alive = np.ones(n, dtype=bool)
    absorbed: dict[int, list[int]] = {}
    if n < 2:
        return alive, absorbed
    tree = cKDTree(np.column_stack([x, y]))
    pairs = tree.query_pairs(distance_m, output_type="ndarray")
    if not len(pairs):
        return alive, absorbed
    d = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
    sources = df["source"].to_numpy()
    names = df["name"].to_numpy()
    bike = df["kind"].isin(BIKE_KINDS).to_numpy()
    # Each facility absorbs at most one record of every other source: nearest pairs first.
    taken: dict[int, set] = {}
    for k in np.argsort(d, kind="stable"):
        i, j = sorted(map(int, pairs[k]))
        if not (alive[i] and alive[j]) or sources[i] == sources[j] or bike[i] != bike[j]:
            continue
        if sources[j] in taken.get(i, set()) or not names_similar(names[i], names[j]):
            continue
        alive[j] = False
        absorbed.setdefault(i, []).append(j)
        absorbed[i].extend(absorbed.pop(j, []))
        taken.setdefault(i, {sources[i]}).update({sources[j]}, taken.get(j, set()))
    if absorbed:
        examples = [(i, absorbed[i][0]) for i in list(absorbed)[:3]]
        text = "; ".join(f"{quoted(names[j])} ({sources[j]}) into {quoted(names[i])} ({sources[i]})"
                         for i, j in examples)
        n_merged = sum(len(v) for v in absorbed.values())
        report.warn("duplicate_facility", f"{n_merged} facilities found in several sources "
                    f"(within {distance_m:.0f} m, similar names) merged, the first source's record "
                    f"kept: {text}", count=n_merged)
        report.drop("parking facilities", "same place in another source (merged)", n_merged)
    return alive, absorbed


def _merge_duplicates(df: pd.DataFrame, x: np.ndarray, y: np.ndarray, distance_m: float,
                      report: BuildReport
                      ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict[int, list[int]]]:
    """(surviving facilities, their x, y, survivor row label -> absorbed row labels).

    A survivor's unknown capacity and entrance are filled from the records it absorbs (in place).
    """
    alive, absorbed_pos = _dedup_across_sources(df, x, y, distance_m, report)
    rows = df.index.to_numpy()
    absorbed = {int(rows[i]): [int(rows[j]) for j in js] for i, js in absorbed_pos.items()}
    for i, js in absorbed_pos.items():
        for j in js:
            for a, b in (("capacity", "capacity"), ("entrance_lon", "entrance_lon"),
                         ("entrance_lat", "entrance_lat")):
                if np.isnan(df.iat[i, df.columns.get_loc(a)]):
                    df.iat[i, df.columns.get_loc(a)] = df.iat[j, df.columns.get_loc(b)]
    return df[alive], x[alive], y[alive], absorbed
