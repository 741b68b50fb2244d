"""The facility schema: the columns every facility source yields, the kinds, and the history columns.

Every facility source yields one pandas DataFrame with the columns of :data:`FACILITY_COLUMNS`:

=================  ===========================================================================
``facility_id``    str, stable id in its source (``urn:ngsi-ld:parking:001``, ``75114-P-001``...)
``name``           str ('' when the source has none)
``kind``           str: ``car_park``, ``park_and_ride``, ``on_street``, ``bike_parking``,
                   ``bike_share`` (see :data:`KIND_BY_NAME`)
``lon``, ``lat``   float, WGS84 degrees of the facility
``capacity``       float, number of spaces (NaN when unknown)
``entrance_lon``,  float, WGS84 degrees of the vehicle entrance (NaN when none is known)
``entrance_lat``
``source``         str: ``ngsi``, ``fr_schema``, ``osm``...
=================  ===========================================================================

Snapshot sources (FIWARE NGSI) add the live columns of :data:`LIVE_COLUMNS` (``observed_free``,
``observed_at_utc_s``, ``observed_status``, and ``observed_bikes`` for bike-share stations), NaN or
'' elsewhere, so a build can seed live observations; :func:`parking_from_records` ignores them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.model import ParkingKind

FACILITY_COLUMNS = ("facility_id", "name", "kind", "lon", "lat", "capacity", "entrance_lon",
                    "entrance_lat", "source")
"""Columns every facility DataFrame has, in this order."""

LIVE_COLUMNS = ("observed_free", "observed_at_utc_s", "observed_status", "observed_bikes")
"""Extra columns of snapshot sources: free spaces (free docks for bike-share), the instant of the
reading (seconds since the Unix epoch, float, NaN when unknown), the status text, and for
bike-share stations the bikes available."""

HISTORY_COLUMNS = ("facility_key", "time_utc_s", "free_spaces", "capacity", "status", "full")
"""Columns of :func:`occupancy_from_csv`'s DataFrame."""

KIND_BY_NAME = {
    "car_park": ParkingKind.CAR_PARK,
    "park_and_ride": ParkingKind.PARK_AND_RIDE,
    "on_street": ParkingKind.ON_STREET,
    "bike_parking": ParkingKind.BIKE_PARKING,
    "bike_share": ParkingKind.BIKE_SHARE,
}
"""The ``kind`` strings of facility DataFrames and the engine's kinds they map to."""

BIKE_KINDS = frozenset({"bike_parking", "bike_share"})


def empty_facilities() -> pd.DataFrame:
    """A facility DataFrame with no rows and the columns of :data:`FACILITY_COLUMNS`."""
    return facilities_frame([])


def facilities_frame(records: list[dict]) -> pd.DataFrame:
    """A facility DataFrame from dicts with (at least) the keys of :data:`FACILITY_COLUMNS`.

    Missing keys get NaN (numbers) or '' (strings); extra keys become extra columns. Loaders of
    other sources (``loaders.osm``) may use it to produce the same schema.
    """
    df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    for col in FACILITY_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan if col in ("lon", "lat", "capacity", "entrance_lon",
                                        "entrance_lat") else ""
    for col in ("facility_id", "name", "kind", "source"):
        df[col] = df[col].fillna("").astype(str)
    for col in ("lon", "lat", "capacity", "entrance_lon", "entrance_lat"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(np.float64)
    extra = [c for c in df.columns if c not in FACILITY_COLUMNS]
    return df[list(FACILITY_COLUMNS) + extra].reset_index(drop=True)

