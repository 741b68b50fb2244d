"""Facilities (and their history) as the engine's :class:`Parking`, linked to the streets.

:func:`parking_from_records` deduplicates facilities (``dedup.py``), links each one to the street
graph (``street_link.py``), matches history rows to facilities by name or id
(``history_match.py``), and returns the engine's :class:`Parking`. It fits no occupancy profile:
the build calls ``engine.parking.fit_occupancy_profile`` afterwards.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.model import UNKNOWN_CAPACITY, LocalProjection, Parking, StreetGraph
from loaders.parking.checks import _valid_lonlat
from loaders.parking.dedup import DEDUP_DISTANCE_M, _merge_duplicates
from loaders.parking.history_match import _occupancy_history
from loaders.parking.schema import FACILITY_COLUMNS, KIND_BY_NAME, empty_facilities, facilities_frame
from loaders.parking.street_link import MAX_LINK_M, _link_to_streets
from loaders.report import BuildReport, LoaderError, quoted


def parking_from_records(facilities: pd.DataFrame, history: pd.DataFrame | None = None, *,
                         street: StreetGraph | None = None, report: BuildReport,
                         match_by=("name", "facility_id"), max_link_m: float = MAX_LINK_M,
                         dedup_distance_m: float = DEDUP_DISTANCE_M) -> Parking:
    """Facilities (and their history) as the engine's :class:`Parking`, linked to the streets.

    ``facilities`` has the :data:`FACILITY_COLUMNS` (rows of several sources concatenated: earlier
    rows take precedence), ``history`` the :data:`HISTORY_COLUMNS` of :func:`occupancy_from_csv`.

    Deduplication: a repeated (``source``, ``facility_id``) keeps its first row; records of
    *different* sources within ``dedup_distance_m`` of each other, of the same family (car or
    bike) and with similar names (:func:`names_similar`; unnamed records are never merged) are one
    facility: the earlier row is kept, its unknown capacity and entrance filled from the other, and
    the other's name and id still match history keys. Records of one source are never merged with
    each other (a source lists distinct facilities, even at one address).

    Linking: ``car_node_idx`` is the nearest node of the vehicle's component to the entrance (the
    facility point when there is none): the CAR component for car kinds, the BICYCLE component
    for bike parking and bike-share (where the bike arrives); ``walk_node_idx`` the nearest WALK
    component node to the facility point. Beyond ``max_link_m`` the index is NO_INDEX, with a
    warning. Without a street graph both are NO_INDEX.

    History: each distinct key is matched, in the order of ``match_by``, to a facility whose name
    (case-, accent- and punctuation-insensitive; then without generic words like 'parking') or
    ``facility_id`` equals it; a key matching several facilities or none has its rows dropped and
    counted, with a warning naming the key. A facility with unknown capacity takes the median
    capacity of its history. Rows are sorted by facility then time.

    Raises LoaderError ``missing_required_column`` when ``facilities`` or ``history`` lacks a column.
    """
    for col in FACILITY_COLUMNS:
        if col not in facilities.columns:
            raise LoaderError.of("missing_required_column", f"facility records lack column {col!r}",
                                 file="<facilities>", column=col)
    original = facilities_frame(facilities.to_dict("records")) if len(facilities) \
        else empty_facilities()
    df = _clean_facilities(original, report)
    projection = _projection(street, df)
    x, y = projection.to_xy_m(df["lon"].to_numpy(), df["lat"].to_numpy())
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    df, x, y, absorbed = _merge_duplicates(df, x, y, dedup_distance_m, report)

    kind = np.array([KIND_BY_NAME[k] for k in df["kind"]], dtype=np.int8)
    capacity = _capacities(df, report)
    car_node, walk_node = _link_to_streets(df, x, y, street, projection, max_link_m, report)
    occupancy = None
    if history is not None:
        occupancy = _occupancy_history(history, df, absorbed, original, match_by, capacity, report)

    return Parking(
        facility_ids=df["facility_id"].to_numpy(dtype=str),
        facility_name=df["name"].to_numpy(dtype=str),
        kind=kind,
        lon=df["lon"].to_numpy(np.float64),
        lat=df["lat"].to_numpy(np.float64),
        capacity=capacity,
        car_node_idx=car_node,
        walk_node_idx=walk_node,
        source=df["source"].to_numpy(dtype=str),
        history=occupancy,
    )


def _clean_facilities(original: pd.DataFrame, report: BuildReport) -> pd.DataFrame:
    """The facilities with a known kind, valid coordinates and a (source, id) pair of their own.

    Unknown kinds, invalid coordinates and repeated pairs are dropped (warned, counted); a missing
    id is named SOURCE:ROW, in ``original`` too (in place) so that history keys can match it.
    """
    df = original.copy()
    df["kind"] = df["kind"].str.strip().str.lower()
    where = "parking facilities"

    unknown_kind = ~df["kind"].isin(KIND_BY_NAME.keys())
    if unknown_kind.any():
        first = df.index[np.flatnonzero(unknown_kind.to_numpy())[0]]
        report.warn("unknown_kind", f"{int(unknown_kind.sum())} facilities have a kind outside "
                    f"{', '.join(KIND_BY_NAME)} (e.g. {quoted(df.at[first, 'kind'])} for "
                    f"{quoted(df.at[first, 'facility_id'])}): dropped", count=int(unknown_kind.sum()))
        report.drop(where, "unknown kind", int(unknown_kind.sum()))
        df = df[~unknown_kind]
    bad_xy = ~np.array([_valid_lonlat(a, b) for a, b in zip(df["lon"], df["lat"], strict=True)],
                       dtype=bool)
    if bad_xy.any():
        first = df.index[np.flatnonzero(bad_xy)[0]]
        report.warn("invalid_coordinates", f"{int(bad_xy.sum())} facilities have no valid WGS84 "
                    f"lon/lat (e.g. {quoted(df.at[first, 'facility_id'])}): dropped",
                    count=int(bad_xy.sum()))
        report.drop(where, "invalid coordinates", int(bad_xy.sum()))
        df = df[~bad_xy]
    no_id = df["facility_id"].str.strip() == ""
    if no_id.any():
        df.loc[no_id, "facility_id"] = [f"{s}:{i}" for s, i in zip(df.loc[no_id, "source"],
                                                                    df.index[no_id], strict=True)]
        original.loc[df.index[no_id], "facility_id"] = df.loc[no_id, "facility_id"]
        report.warn("missing_facility_id", f"{int(no_id.sum())} facilities have no id: named "
                    "SOURCE:ROW", count=int(no_id.sum()))
    dup = df.duplicated(["source", "facility_id"], keep="first")
    if dup.any():
        first = df.index[np.flatnonzero(dup.to_numpy())[0]]
        report.warn("duplicate_key", f"{int(dup.sum())} facilities repeat a (source, id) pair "
                    f"(e.g. {quoted(df.at[first, 'facility_id'])}): first kept", count=int(dup.sum()))
        report.drop(where, "repeated source and id", int(dup.sum()))
        df = df[~dup]
    return df


def _projection(street: StreetGraph | None, df: pd.DataFrame) -> LocalProjection:
    """The street graph's local metres, else a projection centred on the facilities."""
    if street is not None:
        return street.projection
    if len(df):
        return LocalProjection.around(df["lon"].to_numpy(), df["lat"].to_numpy())
    return LocalProjection(0.0, 0.0)


def _capacities(df: pd.DataFrame, report: BuildReport) -> np.ndarray:
    """Whole spaces of each facility (int32); UNKNOWN_CAPACITY when NaN, 0 or less (warned)."""
    cap = df["capacity"].to_numpy(np.float64)
    zero = cap <= 0
    if zero.any():
        report.warn("invalid_capacity", f"{int(zero.sum())} facilities have capacity 0 or less: "
                    "unknown", count=int(zero.sum()))
    return np.where(np.isfinite(cap) & (cap > 0), np.round(cap), UNKNOWN_CAPACITY
                    ).astype(np.int32)
