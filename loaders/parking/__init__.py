"""Parking facilities and their occupancy history, from several sources, into :class:`Parking`.

* Facilities: every source yields one DataFrame with the columns of :data:`FACILITY_COLUMNS`
  (``schema.py``): FIWARE NGSI JSON (``ngsi.py``), the French national parking CSV
  (``fr_csv.py``), chosen by :func:`facilities_from_file` (``sources.py``); OSM car parks come
  from ``loaders.osm``. Live feeds (NGSI, Opendatasoft, GBFS pollers) go in modules of their own
  here, producing the same columns.
* Occupancy history: :func:`occupancy_from_csv` (``occupancy.py``; layouts in
  ``occupancy_layout.py``, timestamps in ``occupancy_times.py``, row repairs in
  ``occupancy_rows.py``) gives the :data:`HISTORY_COLUMNS`.
* Linking: :func:`parking_from_records` (``records.py``) deduplicates facilities across sources
  (``dedup.py``), links them to the streets (``street_link.py``), matches history rows to
  facilities (``history_match.py``) and returns the engine's :class:`Parking`.

Names (``names.py``), coordinate and number checks (``checks.py``) and CSV reading
(``csv_text.py``) are shared by the sources.
"""
from loaders.parking.checks import CAPACITY_JUMP_FACTOR
from loaders.parking.dedup import DEDUP_DISTANCE_M
from loaders.parking.fr_csv import FR_NEEDED_COLUMNS, facilities_from_fr_csv
from loaders.parking.names import names_similar, normalize_name
from loaders.parking.ngsi import facilities_from_ngsi
from loaders.parking.occupancy import CONSTANT_SERIES_MIN_OBS, occupancy_from_csv
from loaders.parking.occupancy_layout import OCCUPANCY_PRESETS
from loaders.parking.records import parking_from_records
from loaders.parking.schema import (
    BIKE_KINDS,
    FACILITY_COLUMNS,
    HISTORY_COLUMNS,
    KIND_BY_NAME,
    LIVE_COLUMNS,
    empty_facilities,
    facilities_frame,
)
from loaders.parking.sources import facilities_from_file
from loaders.parking.street_link import MAX_LINK_M

__all__ = [
    "BIKE_KINDS", "CAPACITY_JUMP_FACTOR", "CONSTANT_SERIES_MIN_OBS", "DEDUP_DISTANCE_M",
    "FACILITY_COLUMNS", "FR_NEEDED_COLUMNS", "HISTORY_COLUMNS", "KIND_BY_NAME", "LIVE_COLUMNS",
    "MAX_LINK_M", "OCCUPANCY_PRESETS", "empty_facilities", "facilities_frame",
    "facilities_from_file", "facilities_from_fr_csv", "facilities_from_ngsi", "names_similar",
    "normalize_name", "occupancy_from_csv", "parking_from_records",
]
